"""Explicit requests for a person and "that's wrong" complaints, in customers' own words."""

from __future__ import annotations

import pytest

from escalation.intents import asks_for_human, says_answer_was_wrong


@pytest.mark.parametrize(
    "text",
    [
        "can I talk to a person?",
        "Agent please",
        "human",
        "I want a real person",
        "speak with someone please",
        "connect me to an agent",
        "I need to speak to a manager",
        "is there a human here?",
        "transfer me to a human",
        "Can I talk to a human?",
        "get me a representative!",
    ],
)
def test_explicit_requests_for_a_person_are_recognised(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "where is my order 1042?",
        "my agent said it shipped",
        "the delivery person left it at the door",
        "I talked to a person yesterday and they said it shipped",
        "I want someone to refund me",
        "can i get a refund",
        "is this a human-readable tracking number?",
    ],
)
def test_ordinary_messages_are_not_requests_for_a_person(text: str) -> None:
    assert not asks_for_human(text)


@pytest.mark.parametrize(
    "text", ["that's wrong", "No, that is not right", "you are wrong", "that didn’t help"]
)
def test_complaints_about_the_answer_are_recognised(text: str) -> None:
    assert says_answer_was_wrong(text)


@pytest.mark.parametrize(
    "text", ["thanks, that is right", "I received the wrong item", "what's wrong with my order?"]
)
def test_other_uses_of_wrong_are_not_complaints(text: str) -> None:
    assert not says_answer_was_wrong(text)
