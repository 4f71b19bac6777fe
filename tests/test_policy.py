"""The escalation decision, every path, with no model at all."""

from __future__ import annotations

from decimal import Decimal

from escalation.policy import (
    Decision,
    Finding,
    PolicyConfig,
    Reason,
    Situation,
    before_model,
    decide,
)

CFG = PolicyConfig(confidence_threshold=0.7, high_value_order=Decimal("500"))


def test_a_confident_clean_primary_answer_is_sent() -> None:
    assert decide(Situation("primary", confidence=0.9), CFG).decision == Decision.ANSWER


def test_confidence_exactly_at_the_threshold_is_enough() -> None:
    assert decide(Situation("primary", confidence=0.7), CFG).decision == Decision.ANSWER


def test_low_confidence_goes_to_the_strong_tier() -> None:
    v = decide(Situation("primary", confidence=0.4), CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.LOW_CONFIDENCE,))


def test_missing_confidence_counts_as_low() -> None:
    v = decide(Situation("primary", confidence=None), CFG)
    assert v.reasons == (Reason.LOW_CONFIDENCE,)


def test_no_answer_goes_to_the_strong_tier() -> None:
    v = decide(Situation("primary", answered=False), CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.NO_ANSWER,))


def test_a_failed_provider_goes_to_the_strong_tier_then_to_a_person() -> None:
    first = decide(Situation("primary", answered=False, provider_failed=True), CFG)
    assert (first.decision, first.reasons) == (Decision.STRONG, (Reason.PROVIDER_FAILURE,))
    second = decide(Situation("strong", answered=False, provider_failed=True), CFG)
    assert second.decision == Decision.HUMAN
    assert Reason.PROVIDER_FAILURE in second.reasons


def test_the_strong_tier_still_unsure_goes_to_a_person() -> None:
    v = decide(Situation("strong", confidence=0.3), CFG)
    assert v.decision == Decision.HUMAN
    assert v.reasons == (Reason.STRONG_NOT_ENOUGH, Reason.LOW_CONFIDENCE)


def test_a_confident_strong_answer_is_sent() -> None:
    assert decide(Situation("strong", confidence=0.95), CFG).decision == Decision.ANSWER


def test_an_injection_in_the_message_goes_to_a_person_before_any_model() -> None:
    s = Situation("primary", findings=[Finding("input", "ignore_instructions")])
    early = before_model(s, CFG)
    assert early is not None
    assert (early.decision, early.reasons) == (Decision.HUMAN, (Reason.INJECTION,))


def test_an_explicit_request_for_a_person_goes_to_a_person() -> None:
    v = decide(Situation("primary", confidence=0.99, asked_for_human=True), CFG)
    assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.CUSTOMER_REQUEST,))


def test_a_repeated_complaint_goes_to_a_person_but_one_does_not() -> None:
    assert before_model(Situation("primary", complaints=1), CFG) is None
    v = decide(Situation("primary", confidence=0.9, complaints=2), CFG)
    assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.REPEATED_COMPLAINT,))


def test_an_order_above_the_configured_value_goes_to_a_person() -> None:
    v = decide(Situation("primary", confidence=0.9, order_totals=[Decimal("750.00")]), CFG)
    assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.HIGH_VALUE_ORDER,))
    cheap = decide(Situation("primary", confidence=0.9, order_totals=[Decimal("89")]), CFG)
    assert cheap.decision == Decision.ANSWER


def test_no_high_value_rule_without_a_configured_value() -> None:
    s = Situation("primary", confidence=0.9, order_totals=[Decimal("99999")])
    assert decide(s, PolicyConfig()).decision == Decision.ANSWER


def test_a_denied_tool_call_sends_the_primary_answer_to_the_strong_tier() -> None:
    v = decide(Situation("primary", confidence=0.95, denied_tool_calls=1), CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.DENIED_AUTHORIZATION,))


def test_a_denial_alone_does_not_hand_a_strong_answer_to_a_person() -> None:
    # A handoff would tell the asker that someone else's order exists.
    v = decide(Situation("strong", confidence=0.95, denied_tool_calls=1), CFG)
    assert v.decision == Decision.ANSWER


def test_instructions_in_tool_output_go_to_the_strong_tier() -> None:
    s = Situation(
        "primary", confidence=0.95, findings=[Finding("tool_output", "ignore_instructions")]
    )
    v = decide(s, CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.TOOL_OUTPUT_INJECTION,))


def test_a_leaked_canary_or_system_prompt_never_goes_out() -> None:
    for rule in ("canary_leak", "system_prompt_leak"):
        s = Situation("primary", confidence=0.95, findings=[Finding("output", rule)])
        assert decide(s, CFG).reasons == (Reason.OUTPUT_LEAK,)
        strong = decide(
            Situation("strong", confidence=0.95, findings=[Finding("output", rule)]), CFG
        )
        assert strong.decision == Decision.HUMAN


def test_data_not_from_an_authorised_tool_call_never_goes_out() -> None:
    for rule in ("foreign_email", "unverified_identifier"):
        s = Situation("primary", confidence=0.95, findings=[Finding("output", rule)])
        assert decide(s, CFG).reasons == (Reason.UNAUTHORIZED_DATA,)


def test_all_reasons_are_reported_together() -> None:
    s = Situation(
        "primary",
        confidence=0.2,
        denied_tool_calls=2,
        findings=[Finding("output", "canary_leak"), Finding("tool_output", "x")],
    )
    assert set(decide(s, CFG).reasons) == {
        Reason.LOW_CONFIDENCE,
        Reason.OUTPUT_LEAK,
        Reason.TOOL_OUTPUT_INJECTION,
        Reason.DENIED_AUTHORIZATION,
    }
