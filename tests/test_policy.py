"""The escalation decision, every path, with no model at all."""

from __future__ import annotations

from decimal import Decimal

from bot.config import Settings
from escalation.policy import (
    Check,
    Decision,
    Finding,
    InjectionReport,
    ModelTier,
    PolicyConfig,
    Reason,
    Situation,
    before_model,
    decide,
)

CFG = PolicyConfig(confidence_threshold=0.7, high_value_order=Decimal("500"))


def test_a_confident_clean_primary_answer_is_sent() -> None:
    assert decide(Situation(ModelTier.PRIMARY, confidence=0.9), CFG).decision == Decision.ANSWER


def test_confidence_exactly_at_the_threshold_is_enough() -> None:
    assert decide(Situation(ModelTier.PRIMARY, confidence=0.7), CFG).decision == Decision.ANSWER


def test_low_confidence_goes_to_the_strong_tier() -> None:
    v = decide(Situation(ModelTier.PRIMARY, confidence=0.4), CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.LOW_CONFIDENCE,))


def test_missing_confidence_counts_as_low() -> None:
    v = decide(Situation(ModelTier.PRIMARY, confidence=None), CFG)
    assert v.reasons == (Reason.LOW_CONFIDENCE,)


def test_no_answer_goes_to_the_strong_tier() -> None:
    v = decide(Situation(ModelTier.PRIMARY, answered=False), CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.NO_ANSWER,))


def test_a_failed_provider_goes_to_the_strong_tier_then_to_a_person() -> None:
    first = decide(Situation(ModelTier.PRIMARY, answered=False, provider_failed=True), CFG)
    assert (first.decision, first.reasons) == (Decision.STRONG, (Reason.PROVIDER_FAILURE,))
    second = decide(Situation(ModelTier.STRONG, answered=False, provider_failed=True), CFG)
    assert second.decision == Decision.HUMAN
    assert Reason.PROVIDER_FAILURE in second.reasons


def test_the_strong_tier_still_unsure_goes_to_a_person() -> None:
    v = decide(Situation(ModelTier.STRONG, confidence=0.3), CFG)
    assert v.decision == Decision.HUMAN
    assert v.reasons == (Reason.STRONG_NOT_ENOUGH, Reason.LOW_CONFIDENCE)


def test_a_confident_strong_answer_is_sent() -> None:
    assert decide(Situation(ModelTier.STRONG, confidence=0.95), CFG).decision == Decision.ANSWER


def test_an_injection_in_the_message_goes_to_a_person_before_any_model() -> None:
    s = Situation(ModelTier.PRIMARY, findings=[Finding("input", "ignore_instructions")])
    early = before_model(s, CFG)
    assert early is not None
    assert (early.decision, early.reasons) == (Decision.HUMAN, (Reason.INJECTION,))


def test_an_explicit_request_for_a_person_goes_to_a_person() -> None:
    v = decide(Situation(ModelTier.PRIMARY, confidence=0.99, asked_for_human=True), CFG)
    assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.CUSTOMER_REQUEST,))


def test_a_repeated_complaint_goes_to_a_person_but_one_does_not() -> None:
    assert before_model(Situation(ModelTier.PRIMARY, complaints=1), CFG) is None
    for complaints in (2, 3):  # the second and every later one
        v = decide(Situation(ModelTier.PRIMARY, confidence=0.9, complaints=complaints), CFG)
        assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.REPEATED_COMPLAINT,))


def test_the_policys_defaults_are_the_documented_settings_defaults() -> None:
    # One set of defaults: what the README documents is what a bare PolicyConfig decides by.
    assert Settings(_env_file=None).policy() == PolicyConfig()


def test_an_order_above_the_configured_value_goes_to_a_person() -> None:
    v = decide(Situation(ModelTier.PRIMARY, confidence=0.9, order_totals=[Decimal("750.00")]), CFG)
    assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.HIGH_VALUE_ORDER,))
    cheap = decide(Situation(ModelTier.PRIMARY, confidence=0.9, order_totals=[Decimal("89")]), CFG)
    assert cheap.decision == Decision.ANSWER


def test_an_order_of_exactly_the_configured_value_is_not_above_it() -> None:
    # The README promises "above": 500 itself is answered, a cent more goes to a person.
    at = decide(Situation(ModelTier.PRIMARY, confidence=0.9, order_totals=[Decimal("500")]), CFG)
    assert at.decision == Decision.ANSWER
    over = decide(
        Situation(ModelTier.PRIMARY, confidence=0.9, order_totals=[Decimal("500.01")]), CFG
    )
    assert over.reasons == (Reason.HIGH_VALUE_ORDER,)


def test_no_high_value_rule_without_a_configured_value() -> None:
    s = Situation(ModelTier.PRIMARY, confidence=0.9, order_totals=[Decimal("99999")])
    assert decide(s, PolicyConfig()).decision == Decision.ANSWER


def test_a_denied_lookup_changes_no_decision_of_either_tier() -> None:
    # Someone else's order must cost and look the same as a missing one: no tier of its own.
    for tier in ModelTier:
        for confidence in (0.95, 0.3):
            plain = decide(Situation(tier, confidence=confidence), CFG)
            denied = decide(Situation(tier, confidence=confidence, denied_tool_calls=1), CFG)
            assert denied.decision == plain.decision
    assert decide(
        Situation(ModelTier.PRIMARY, confidence=0.95, denied_tool_calls=3), CFG
    ) == decide(Situation(ModelTier.PRIMARY, confidence=0.95), CFG)


def test_a_denied_lookup_is_never_told_to_the_strong_tier() -> None:
    # The strong tier reads the reasons: a denial among them could surface in its reply.
    v = decide(Situation(ModelTier.PRIMARY, confidence=0.3, denied_tool_calls=1), CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.LOW_CONFIDENCE,))


def test_a_denied_lookup_is_named_for_the_leads_when_a_person_takes_the_case_anyway() -> None:
    v = decide(Situation(ModelTier.STRONG, confidence=0.3, denied_tool_calls=1), CFG)
    assert v.decision == Decision.HUMAN
    assert v.reasons == (
        Reason.STRONG_NOT_ENOUGH,
        Reason.LOW_CONFIDENCE,
        Reason.DENIED_AUTHORIZATION,
    )
    human = decide(
        Situation(ModelTier.PRIMARY, confidence=0.9, denied_tool_calls=1, asked_for_human=True), CFG
    )
    assert human.reasons == (Reason.CUSTOMER_REQUEST, Reason.DENIED_AUTHORIZATION)


def report(value: str) -> Finding:
    return Finding(Check.MODEL_REPORT, value)


def test_the_models_report_of_an_injected_message_goes_to_a_person_like_the_input_check() -> None:
    for tier in ModelTier:
        v = decide(Situation(tier, confidence=0.95, findings=[report("message")]), CFG)
        assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.INJECTION,))


def test_the_models_report_of_an_injected_tool_result_escalates_like_the_tool_output_check() -> (
    None
):
    first = decide(
        Situation(ModelTier.PRIMARY, confidence=0.95, findings=[report("tool_result")]), CFG
    )
    assert (first.decision, first.reasons) == (Decision.STRONG, (Reason.TOOL_OUTPUT_INJECTION,))
    second = decide(
        Situation(ModelTier.STRONG, confidence=0.95, findings=[report("tool_result")]), CFG
    )
    assert second.decision == Decision.HUMAN
    assert second.reasons == (Reason.STRONG_NOT_ENOUGH, Reason.TOOL_OUTPUT_INJECTION)


def test_a_tool_result_reported_and_flagged_is_one_reason() -> None:
    findings = [report("tool_result"), Finding("tool_output", "ignore_instructions")]
    v = decide(Situation(ModelTier.PRIMARY, confidence=0.95, findings=findings), CFG)
    assert v.reasons == (Reason.TOOL_OUTPUT_INJECTION,)


def test_a_report_of_nothing_changes_nothing() -> None:
    v = decide(Situation(ModelTier.PRIMARY, confidence=0.95, findings=[report("none")]), CFG)
    assert v.decision == Decision.ANSWER


def test_an_unreadable_report_is_read_as_strictly_as_an_injected_message() -> None:
    for value in ("unrecognised", "yes", "customer", ""):
        v = decide(Situation(ModelTier.PRIMARY, confidence=0.95, findings=[report(value)]), CFG)
        assert (v.decision, v.reasons) == (Decision.HUMAN, (Reason.INJECTION,)), value


def test_a_report_value_is_parsed_leniently_in_case_and_never_defaults_to_none() -> None:
    assert InjectionReport.parse(None) == InjectionReport.NONE
    assert InjectionReport.parse(" None ") == InjectionReport.NONE
    assert InjectionReport.parse("MESSAGE") == InjectionReport.MESSAGE
    assert InjectionReport.parse("tool_result") == InjectionReport.TOOL_RESULT
    for odd in ("unrecognised", "yes", "both", "", 1, True, ["message"], {"x": 1}):
        assert InjectionReport.parse(odd) == InjectionReport.UNRECOGNISED, odd


def test_instructions_in_tool_output_go_to_the_strong_tier() -> None:
    s = Situation(
        ModelTier.PRIMARY, confidence=0.95, findings=[Finding("tool_output", "ignore_instructions")]
    )
    v = decide(s, CFG)
    assert (v.decision, v.reasons) == (Decision.STRONG, (Reason.TOOL_OUTPUT_INJECTION,))


def test_a_leaked_canary_or_system_prompt_never_goes_out() -> None:
    for rule in ("canary_leak", "system_prompt_leak"):
        s = Situation(ModelTier.PRIMARY, confidence=0.95, findings=[Finding("output", rule)])
        assert decide(s, CFG).reasons == (Reason.OUTPUT_LEAK,)
        strong = decide(
            Situation(ModelTier.STRONG, confidence=0.95, findings=[Finding("output", rule)]), CFG
        )
        assert strong.decision == Decision.HUMAN


def test_data_not_from_an_authorised_tool_call_never_goes_out() -> None:
    for rule in ("foreign_email", "unverified_identifier"):
        s = Situation(ModelTier.PRIMARY, confidence=0.95, findings=[Finding("output", rule)])
        assert decide(s, CFG).reasons == (Reason.UNAUTHORIZED_DATA,)


def test_all_reasons_are_reported_together() -> None:
    s = Situation(
        ModelTier.PRIMARY,
        confidence=0.2,
        denied_tool_calls=2,
        findings=[Finding("output", "canary_leak"), Finding("tool_output", "x")],
    )
    assert set(decide(s, CFG).reasons) == {
        Reason.LOW_CONFIDENCE,
        Reason.OUTPUT_LEAK,
        Reason.TOOL_OUTPUT_INJECTION,
    }
