"""Rule patterns for the instruction-hierarchy guards.

Every rule pairs an *action* with a *target*: a verb of overriding together with the
assistant's instructions, a request to reveal together with the system prompt, a persona
switch together with dropping rules.  Single words ("ignore", "system", "developer mode",
"DAN") are never enough on their own, because customers use them innocently all the time.

Patterns run on ``normalize(text)`` (one line, casefolded, look-alikes and leetspeak folded)
unless noted; structural markers run on ``clean(text)``, which keeps line breaks.  Persona
takeovers, forged system messages and system-prompt requests live in ``escalation.roleplay``,
``escalation.markers`` and ``escalation.extraction``.
"""

from __future__ import annotations

import re

from escalation import prefilter
from escalation.extraction import is_system_prompt_request
from escalation.framing import is_jailbreak_framing
from escalation.hijack import is_reply_hijack
from escalation.indirect import indirect_rules
from escalation.markers import is_fake_system_message
from escalation.prefilter import GuardPattern
from escalation.roleplay import is_roleplay_takeover
from escalation.translated import translated_rules

_F = re.NOFLAG  # the text is already casefolded (clean, normalize)


def _rx(pattern: str) -> GuardPattern:
    return prefilter.compile(pattern, _F)


# --- 1. overriding the assistant's instructions ---------------------------------------------

_OVERRIDE_VERB = (
    r"(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overriding|bypass"
    r"|bypassing|neglect|overlook|abandon|discard|dismiss|set aside|put aside|throw out|erase"
    r"|delete|clear|skip|stop following|stop obeying|do not follow|don'?t follow|do not obey"
    r"|don'?t obey|no longer follow|pay no attention to|not follow|drop|dropping|cease|scrap"
    r"|wipe|throw away|get rid of|ignoriere?n?|vergiss)"
)
# Words allowed between the verb and its object.  "my"/"our" are deliberately absent:
# "ignore my previous email" and "my previous instructions were to deliver on Friday" are
# the customer's own words, not the assistant's.
_FILLER = (
    r"(?:(?:all|any|every|each|of|the|your|these|those|this|that|its|previous|prior|preceding"
    r"|above|earlier|former|foregoing|initial|original|old|existing|current|given|default|other"
    r"|standing|system|developer|programmed|hidden|secret|safety|ethical|moral|content|openai"
    r"|built-in|internal|first|last|rest of|remaining|following|and|or|&|,|instructions?"
    r"|prompts?|rules|guidelines|die|alle|deine|bisherigen|vorherigen)\s+){0,6}"
)
_STRONG_OBJECT = (
    r"(?:instructions?|instrutions|directions?|directives?|prompts?|programming|guidelines"
    r"|guard ?rails|system (?:prompt|message)|training|anweisung(?:en)?|regeln)"
)
_QUALIFIED_OBJECT = r"(?:rules|restrictions|limitations|constraints|filters|polic(?:y|ies))"
# Customers often say "ignore my previous messages/orders/requests", so those nouns are left
# out; "ignore all previous text" or "... input" is not how customers talk.
_WEAK_OBJECT = r"(?:context|text|input|content|evidence|information|data|commands)"
_QUALIFIER = (
    r"(?:your|all|any|every|previous|prior|above|earlier|preceding|foregoing|system|safety"
    r"|ethical|moral|content|openai|these|those|its|existing|original|initial|programmed"
    r"|built-in|default|other|given)"
)
_TEMPORAL = r"(?:previous|prior|above|earlier|preceding|foregoing|other|initial|original)"
_OWN_WORDS = (
    r"(?!\s+(?:i|we)\s+(?:gave|left|wrote|sent|added|put|provided|made|had|entered))"
    r"(?!\s+(?:for|to|on|in|from|of)\s+(?:the\s+|my\s+|this\s+)?(?:driver|courier|delivery"
    r"|box|package|parcel|manual|label|website|app|order|note|device|router|machine))"
)
_OVERRIDE = [
    _rx(rf"\b{_OVERRIDE_VERB}\s+{_FILLER}{_QUALIFIER}\s+{_FILLER}{_STRONG_OBJECT}\b{_OWN_WORDS}"),
    _rx(
        rf"\b{_OVERRIDE_VERB}\s+(?:the\s+)?{_STRONG_OBJECT}\s+(?:above|below|before this"
        r"|previously given|you (?:were|have been) given|given to you|you have|you received)"
    ),
    _rx(rf"\b{_OVERRIDE_VERB}\s+(?:\w+\s+){{0,3}}{_QUALIFIER}\s+{_FILLER}{_QUALIFIED_OBJECT}\b"),
    _rx(rf"\b{_OVERRIDE_VERB}\s+(?:\w+\s+){{0,2}}{_TEMPORAL}\s+{_FILLER}{_WEAK_OBJECT}\b"),
    _rx(
        r"\b(?:ignore|disregard|forget)\s+(?:about\s+)?(?:everything|anything|all)\s+(?:of\s+)?"
        r"(?:(?:to|in|of)\s+your\s+\w+\s+)?"
        r"(?:that\s+)?(?:(?:above|(?:from\s+)?before(?:\s+(?:this|that))?|previously|prior|so far"
        r"|up to now|from earlier"
        r"|written above|said above)(?=\s*(?:[.;:!?\n]|$|and\b|then\b|instead\b|now\b))"
        r"|you(?:'ve| have)? (?:been |were )?(?:told|taught|given|trained|programmed|know"
        r"|learned))"
    ),
    # a bare imperative "Ignore instructions." (not "the courier ignores instructions")
    _rx(
        r"(?:^|[.!?:;,\-]\s*|\b(?:please|now|just|and|then|so)\s+)(?:ignore|disregard|forget"
        rf"|bypass|override)\s+(?:all\s+)?(?:instructions|directions|directives|prompts"
        rf"|guidelines)\b{_OWN_WORDS}"
    ),
    _rx(
        r"\bignore\s+(?:the\s+|all\s+(?:of\s+)?the\s+)?(?:above|previous|preceding|prior)"
        r"\s*(?:,|and|\.)\s*(?:(?:instead|just|only)\s+)*(?:instead\b|tell(?! me (?:where|when"
        r"|if|whether|how|why|about my))|print|say|output|write|respond|reveal|show|give|repeat"
        r"|translate)"
    ),
    _rx(
        r"\b(?:new|updated|revised|real|true|actual|secret|hidden|supplementary|supplement)"
        r"\s+(?:system\s+)?(?:instructions?|rules?|directives?|prompt)\s+(?:from|by)\s+(?:the\s+)?"
        r"(?:system|admin\w*|developers?|support team|operator|openai|owner|management)"
    ),
    _rx(
        r"\b(?:new|these)\s+instructions\s+(?:that\s+|which\s+)?(?:override|replace|supersede"
        r"|take precedence)"
    ),
    _rx(r"\bgiving you (?:new|different|updated) (?:instructions|rules|orders|directives)\b"),
    _rx(
        r"\byour (?:new|real|true|actual|only) (?:instructions?|task|role|purpose|goal|job"
        r"|directive|mission) (?:is|are|will be)\b"
    ),
    _rx(
        r"\bnow we (?:are going to|will|shall) (?:perform|do|start|begin) (?:a |an )?(?:different"
        r"|new|another|other) task"
    ),
    _rx(
        r"\b(?:do not|don'?t|stop|never) (?:follow|obey|execute|listen to|process|apply|consider)"
        r"\w*\s+(?:any |all |the )?"
        r"(?:previous|prior|earlier|above|preceding|other) (?:requests|commands|orders|messages"
        r"|instructions|directions)"
    ),
    _rx(
        rf"\b{_OVERRIDE_VERB}\s+(?:all\s+|any\s+|the\s+)*(?:preceding|foregoing|prior)\s+"
        r"(?:orders|messages|requests|conversation)"
    ),
    _rx(
        r"\b(?:now|instead),? (?:please )?(?:help me with|complete|perform|do|focus on) (?:the"
        r" following|a new|another|a different) task\b"
    ),
    _rx(
        r"\b(?:all|your|the|any)\s+(?:previous\s+|prior\s+|above\s+|earlier\s+|initial\s+"
        r"|original\s+|system\s+)*(?:instructions|rules|directions|prompts?)\s+(?:are|is|were)"
        r"\s+(?:now\s+)?(?:void|null|false|cancell?ed|invalid|obsolete|revoked|fake|irrelevant"
        r"|no longer valid)"
    ),
    _rx(
        r"\b(?:modify|modifying|alter|altering|rewrite|rewriting|reprogram\w*|override|overriding)"
        r"\s+your\s+(?:programming|system prompt|directives|training|core instructions)\b"
    ),
    # AgentDojo-style indirect injection: "Before you can solve the task that I gave you ..."
    _rx(
        r"\bbefore you (?:can )?(?:solve|do|complete|answer|continue with|finish) the"
        r" (?:task|request) (?:that )?i gave you\b"
        r"|\bthis is an important message from me\b[^.]{0,60}\bto you\b"
    ),
]
_OVERRIDE_SQUASHED = [
    prefilter.compile(
        r"(?:ignore|disregard|forget)(?:all|any|the|your)*(?:previous|prior|above|earlier"
        r"|preceding)(?:instructions?|prompts?|rules|directions|guidelines)"
    ),
    prefilter.compile(
        r"all(?:previous|prior|above|earlier)?(?:instructions?|rules|directions|prompts?)"
        r"(?:are|is|were)(?:now)?(?:void|null|false|cancell?ed|invalid|obsolete|revoked|fake"
        r"|irrelevant|nolongervalid)"
    ),
]

# --- 2. dictating the exact reply ("just print 'pwned'") -----------------------------------------

_QUOTE = r"[\"“”'‘’«]"
# The quoted reply must end the sentence: "just say 'done' when it ships" is a customer.
_QUOTED_REPLY = (
    rf"\s*[:\-]?\s*{_QUOTE}[^\"“”'‘’]{{1,120}}{_QUOTE}\W{{0,3}}(?:$|and nothing else|[.!:\]])"
)
_IMPERATIVE = r"(?:^|[.!?:\[(]\s*|\b(?:and|then|just|simply|now|please|only)\s+)"
_OUTPUT_HIJACK = [
    _rx(
        rf"{_IMPERATIVE}(?:output|print|say|respond with|reply with|answer with|write)\s+only"
        rf"{_QUOTED_REPLY}"
    ),
    _rx(
        rf"\b(?:just|only|simply)\s+(?:print|say|output|write|repeat|respond with|reply with"
        rf"|answer with){_QUOTED_REPLY}"
    ),
    # the whole message is "Say 'Access Granted'"
    _rx(rf"^\W*(?:say|print|output|write)\s*[:\-]?\s*{_QUOTE}[^\"“”'‘’]{{1,60}}{_QUOTE}\W*$"),
    _rx(
        rf"\b(?:ignore|disregard)\b[^.!?]{{0,60}}\b(?:and|then|,)\s+(?:just\s+|only\s+"
        rf"|instead\s+)?(?:write|say|print|output|respond|reply|answer|translate)\b[^.!?]{{0,30}}"
        rf"(?:{_QUOTE}|:)"
    ),
    _rx(
        rf"\b(?:repeat|say|print|write)\s+(?:the following|this|these)\s++(?:(?:sentence|text"
        rf"|phrase|words?)\s*+)?:?\s*+{_QUOTE}"
    ),
]

ALL_RULES = (
    "ignore_instructions",
    "roleplay_takeover",
    "fake_system_message",
    "system_prompt_request",
    "output_hijack",
)
_DETAILS = {
    "ignore_instructions": "asks the assistant to ignore or replace its instructions",
    "roleplay_takeover": "tries to switch the assistant into an unrestricted persona",
    "fake_system_message": "contains a forged system/developer message or chat-template markup",
    "system_prompt_request": "asks for the system prompt or hidden instructions",
    "output_hijack": "tries to dictate the assistant's exact reply",
}


def detail(rule: str) -> str:
    return _DETAILS[rule]


def core_rules(normalized: str, cleaned: str, squashed: str) -> list[str]:
    """Names of the rules that fire on one text (already normalised three ways)."""
    fired: list[str] = []
    if any(rx.search(normalized) for rx in _OVERRIDE) or any(
        rx.search(squashed) for rx in _OVERRIDE_SQUASHED
    ):
        fired.append("ignore_instructions")
    if is_roleplay_takeover(normalized) or is_jailbreak_framing(normalized):
        fired.append("roleplay_takeover")
    if is_fake_system_message(cleaned, normalized):
        fired.append("fake_system_message")
    if is_system_prompt_request(normalized):
        fired.append("system_prompt_request")
    if any(rx.search(normalized) for rx in _OUTPUT_HIJACK) or is_reply_hijack(normalized):
        fired.append("output_hijack")
    for rule in indirect_rules(normalized) + translated_rules(normalized):
        if rule not in fired:
            fired.append(rule)
    return fired
