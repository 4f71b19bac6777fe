"""A shared channel's manners (issue 15, item 3): `is_request` tells a support request from
chatter (thanks, acknowledgements, emoji, a colleague's aside); `tests/test_guard_time.py`
holds it to its time bound with the other checks."""

from __future__ import annotations

import pytest

from escalation.intents import REQUEST_LENGTH, is_request

BOT = "UBOT"


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "Thank you so much 🙏",
        "ok",
        "Great, that works",
        ":tada: :+1:",
        "👍",
        "",
        "   ",
        "<@UCOLLEAGUE> can you check this with finance?",  # an aside to a colleague
        "<@UCOLLEAGUE|ann> where is the deck?",
        "good morning all",
        "thanks for the help!",
        "ok " * 93 + "k",  # chatter as long as chatter may be (REQUEST_LENGTH)
    ],
)
def test_chatter_is_not_a_request(text: str) -> None:
    assert is_request(text, BOT) is False


@pytest.mark.parametrize(
    "text",
    [
        "Where is order 1042?",
        "order #20417 never arrived",
        "our invoice is wrong",
        "The export keeps failing for us",
        "can't log in since this morning",
        "how do I return an item",
        "<@UBOT> thanks",  # a mention of the bot is always answered
        "thanks, and one more question: can we pay by invoice",
        "hi, we need help with billing",
        "x" * (REQUEST_LENGTH + 1),
        "ok " * 93 + "kk",  # longer than chatter may be, though made of it
        # A question mark always asks; thanks with any other word but "help" asks too.
        "ok?",
        "thanks?",
        "thanks, cancel it",
        "thanks, refund it",
        # Answers to the bot's own questions, and plain statements of a problem.
        "alice@acme.com",
        "the blue one",
        "I ordered the blue jacket but got a red one",
        "help",
        "still nothing",
    ],
)
def test_a_request_is_a_request(text: str) -> None:
    assert is_request(text, BOT) is True


def test_the_longest_chatter_is_request_length_long() -> None:
    assert len("ok " * 93 + "k") == REQUEST_LENGTH


def test_without_a_known_bot_id_a_mention_opens_an_aside() -> None:
    assert is_request("<@UBOT> where is my order?", None) is False
