"""What a customer's words ask for: a person, or a correction ("that's wrong")."""

from __future__ import annotations

import functools
import re

from escalation.guards import MAX_CHECKED_CHARS
from escalation.normalize import nfkc_bounded

_PERSON = (
    r"(?:(?:a|an|some|the)\s+)?(?:(?:real|live|actual)\s+)?"
    r"(?:human|person|people|agent|somebody|someone|representative|rep|operator|"
    r"staff(?:\s+member)?|support\s+(?:person|team|agent)|manager|supervisor)"
)
_HUMAN_REQUEST = re.compile(
    rf"""
    \b(?:talk|speak|chat|connect\ me|put\ me\ through|transfer\ me|escalate\ (?:me|this))
        (?:\ (?:to|with))?\ {_PERSON}\b
    | \b(?:i\ want|i\ need|i'd\ like|can\ i\ get|can\ i\ have|get\ me|give\ me)\ {_PERSON}\b
        (?=\s*(?:$|[.,!?]|please|pls|now|to\ (?:talk|speak|help|call|contact|look)))
    | ^\W*(?:human|agent|person|representative|operator)(?:\ please|\ pls|\ now)?\W*$
    | \b(?:agent|human|representative|operator)\ (?:please|pls|now)\b
    | \bis\ there\ (?:a|an|any)\ (?:human|person|real\ person|agent)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_COMPLAINT = re.compile(
    r"""
    \b(?:that'?s|that\ is|it'?s|it\ is|you'?re|you\ are|answer\ is|still)
        \ (?:not\ right|wrong|incorrect|not\ correct|not\ true)\b
    | \bwrong\ (?:answer|order|status|info(?:rmation)?)\b
    | \bnot\ what\ i\ asked\b
    | \bthat\ didn'?t\ help\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


@functools.lru_cache(maxsize=64)  # both matchers read the same message
def _plain(text: str) -> str:
    # History replays earlier messages of any length: read no more than the guards do, and
    # no more of what NFKC makes of it (text that grows past that is flagged by the guards).
    text = nfkc_bounded(text[:MAX_CHECKED_CHARS]).replace("’", "'").replace("‘", "'")
    return " ".join(text.split())


def asks_for_human(text: str) -> bool:
    """True when the customer explicitly asks for a person ("can I talk to a human?")."""
    return bool(_HUMAN_REQUEST.search(_plain(text)))


def says_answer_was_wrong(text: str) -> bool:
    """True when the customer says the bot's answer was wrong or did not help."""
    return bool(_COMPLAINT.search(_plain(text)))


# --- A request, or chatter (a shared channel's manners, issue 15) -----------------------------
# A message longer than this is taken as a request: chatter is short.
REQUEST_LENGTH = 280
_WORD = re.compile(r"[a-z0-9']+")  # one character class, one quantifier: linear
_MENTION = re.compile(r"<@([A-Z0-9]{1,32})(?:\|[^>]{0,80})?>")
_SHORTCODE = re.compile(r":[a-z0-9_+'-]{1,60}:")
# Acknowledgements and thanks: a message made of these words only is not a request.
_CHATTER = frozenset(
    [
        "thanks",
        "thank",
        "you",
        "thx",
        "ty",
        "tysm",
        "cheers",
        "ok",
        "okay",
        "k",
        "kk",
        "great",
        "perfect",
        "awesome",
        "cool",
        "nice",
        "got",
        "it",
        "sounds",
        "good",
        "will",
        "do",
        "lgtm",
        "noted",
        "appreciate",
        "appreciated",
        "it",
        "so",
        "much",
        "a",
        "lot",
        "very",
        "again",
        "all",
        "for",
        "the",
        "super",
        "brilliant",
        "amazing",
        "excellent",
        "wonderful",
        "yes",
        "yep",
        "yeah",
        "sure",
        "np",
        "no",
        "problem",
        "worries",
        "hi",
        "hello",
        "hey",
        "morning",
        "good",
        "afternoon",
        "evening",
        "bye",
        "see",
        "ya",
        "later",
        "lol",
        "haha",
        "done",
        "that",
        "works",
        "works",
        "fine",
    ]
)
# Thanks: "thanks for the help" is chatter, though "help" alone asks for some.
_THANKS = frozenset(["thanks", "thank", "thx", "ty", "tysm", "cheers", "appreciate", "appreciated"])
_ORDER_NUMBER = re.compile(r"#?[0-9]{3,12}")


def is_request(text: str, bot_user_id: str | None) -> bool:
    """Whether a message in a shared channel may ask support something, or is only chatter:
    thanks, an acknowledgement, emoji, or an aside that opens by mentioning someone other
    than the bot. Anything else is taken as a request (a customer answering the bot's
    question with "the blue one" must be answered); a mention of the bot, a question mark or
    an order number always is. Bounded: linear patterns over the checked length."""
    plain = _plain(text)
    mentioned = [m[1] for m in _MENTION.finditer(plain[:MAX_CHECKED_CHARS])]
    if bot_user_id and bot_user_id in mentioned:
        return True
    if len(plain) > REQUEST_LENGTH:
        return True
    first = _MENTION.match(plain)
    if first is not None and first[1] != bot_user_id:
        return False  # addressed to a colleague
    words_of = _SHORTCODE.sub(" ", _MENTION.sub(" ", plain)).lower()
    if "?" in words_of or _ORDER_NUMBER.search(words_of):
        return True
    words = _WORD.findall(words_of)
    if not words or all(w in _CHATTER for w in words):
        return False
    thanked = any(w in _THANKS for w in words)
    return not (thanked and all(w in _CHATTER or w == "help" for w in words))
