"""Rules for indirect and framed attacks: instructions hidden in "data", conditional hijacks of
the reply, and jailbreak framings. Matched on normalised text (see `normalize`)."""

from __future__ import annotations

import re

_DATA = r"(?:data|text|document|input|prompt|content|context)"
_INSTRUCTIONS = r"(?:commands|instructions|prompts|rules|directives)"
_SAY = r"(?:reply|respond|answer|say|output|print|write)"

_IGNORE_DATA = [
    re.compile(
        rf"\b(?:ignore|disregard|skip|forget)\s+(?:the\s+)?(?:rest|remainder)\s+of\s+"
        rf"(?:this|the|that)\s+{_DATA}\b"
    ),
    re.compile(
        rf"\bstop\s+(?:processing|following|obeying)\s+(?:the\s+|any\s+|all\s+)?"
        rf"{_INSTRUCTIONS}\s*(?:$|[.,;:!]|and\b|now\b)"
    ),
    re.compile(
        r"\brepeat\s+(?:the\s+)?(?:last|previous|above|first|initial)\s+"
        r"(?:instruction|instructions|prompt|rule|rules|directive)\b"
    ),
    re.compile(
        r"\boverride\s+(?:the\s+|all\s+|any\s+|your\s+)?(?:manual\s+|previous\s+|safety\s+"
        r"|current\s+)?(?:scoring|rules|instructions|guidelines|restrictions|filters"
        r"|programming)\b"
    ),
]
_HIJACK = [
    re.compile(
        rf"\bif\s+(?:the\s+|a\s+|any\s+)?(?:user|customer|human|person)\s+(?:asks|says|requests"
        rf"|types|writes|wants)\b[^.!?\n]{{0,80}}\b{_SAY}\s+(?:only\s+)?(?:with\s+)?"
        r"(?:only|exactly|just|[\"“'])"
    ),
    re.compile(
        rf"\b(?:whatever|no matter what)\s+(?:the\s+)?(?:user|customer|human)\s+(?:says|asks"
        rf"|writes|types)\b[^.!?\n]{{0,40}}\b{_SAY}\b"
    ),
]
_FRAMING = [
    re.compile(
        r"\b(?:you are|you're)\s+(?:now\s+)?no\s+longer\s+(?:bound|restricted|limited|an?\s+ai)\b"
    ),
    re.compile(
        r"\b(?:act|behave|respond|answer|pretend)\s+(?:as|like|to be)\s+(?:an?\s+)?"
        r"(?:unrestricted|uncensored|unfiltered|unbound|jailbroken|amoral|unethical|unlimited)\b"
    ),
    re.compile(
        rf"\b{_SAY}\b[^.!?\n]{{0,30}}\bwithout\s+(?:any\s+)?(?:warnings?|disclaimers?|moral"
        r"|ethic|censor|filter|restriction|limitation)"
    ),
    re.compile(
        r"\b(?:enable|activate|enter|switch\s+(?:in)?to)\s+your\s+(?:developer|dev|god"
        r"|jailbreak|unrestricted|dan|admin|sudo)\s+mode\b|\byou(?:'re| are)\s+(?:now\s+)?in\s+"
        r"(?:developer|dev|god|jailbreak|unrestricted|dan)\s+mode\b"
    ),
    re.compile(
        r"\bhypothetical(?:ly)?\b[^.!?\n]{0,80}\b(?:no|without)\s+(?:restrictions|rules|limits"
        r"|guidelines|filters|censorship)\b"
    ),
    re.compile(
        r"\b(?:two|2|dual)\s+(?:different\s+|separate\s+)?(?:personas?|personalities"
        r"|modes)\b[^\n]{0,120}\b(?:unfiltered|uncensored|jailbr\w*|no\s+(?:rules|filters"
        r"|restrictions)|without\s+(?:restrictions|rules|filters))"
    ),
]


def indirect_rules(normalized: str) -> list[str]:
    """The rule codes these families fire on one normalised text."""
    fired: list[str] = []
    if any(rx.search(normalized) for rx in _IGNORE_DATA):
        fired.append("ignore_instructions")
    if any(rx.search(normalized) for rx in _HIJACK):
        fired.append("output_hijack")
    if any(rx.search(normalized) for rx in _FRAMING):
        fired.append("roleplay_takeover")
    return fired
