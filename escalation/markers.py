"""Forged system/developer messages: chat-template tokens, "SYSTEM:" headers followed by
orders, fake transcripts, settings toggles and claims to be the bot's developer.

A header alone is not enough ("System: Windows 11" in a bug report): a role header must be
followed by instruction words.  Structural patterns run on ``clean(text)`` (line breaks
kept); the rest on ``normalize(text)``.

Every pattern is linear in the text: a line-start pattern begins at the *last* line break
before the header (``\n[^\\S\n]*+``, not ``\n\\s*``, which let every break of a long blank run
start a scan of the whole run), and whitespace runs are possessive (``\\s*+``) so a failed match
is not retried with every split of the run between two quantifiers.
"""

from __future__ import annotations

from escalation import prefilter
from escalation.prefilter import GuardPattern


def _rx(pattern: str) -> GuardPattern:
    return prefilter.compile(pattern)  # the text is already casefolded (clean, normalize)


_TEMPLATE_TOKENS = _rx(
    r"<\|\s*+(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id"
    r"|end_header_id|begin_of_text)\s*+\|>|\[/?inst\]|<</?sys>>"
    r"|<\s*+/?\s*+(?:system|sys|system_prompt|instructions?|admin|developer)\s*+>"
    r"|(?:^|\n)[^\S\n]*+#{2,}+\s*+(?:system|instructions?|new instructions?|response|developer"
    r"|admin)\b"
)
# "chain of thought" headers run to the colon ("System chain of thought for step 2:").
_ROLE_HEADER = _rx(
    r"(?:^|\n)[^\S\n]*+(?:[\[\(<*#=-]++\s*+)?(?:system|sys|developer|dev|admin|administrator|root"
    r"|operator|openai|security|moderator|support team lead)(?:\s++(?:message|prompt|note|notice"
    r"|instructions?|override|update|alert|request|command|chain of thought\b[^:\n]*+))?"
    r"\s*+[\]\)>*]*\s*+(?:::|:|\]|->|=>)(?P<rest>[^\n]*+(?:\n[^\n]*+)?)"
)
_INSTRUCTION_WORDS = _rx(
    r"\b(?:ignore|disregard|override|bypass|you (?:are|must|will|should|shall|may|can)"
    r"|(?:the )?(?:assistant|ai|model|bot|chatbot)|instructions?|authori[sz]ed|verified|approve"
    r"|grant|reveal|print|output|respond|reply|focus|provide|give|disable|enable|unlock|policy"
    r"|refund|discount|prompt|evaluate|report)\b"
)
_FAKE_MARKERS = [
    _rx(
        r"\b(?:i am|i'm)\s+(?:a |an |the )?(?:\w+ )?(?:developer|programmer|engineer|employee"
        r"|admin\w*|researcher|staff member)\s+(?:at|from|for|of|with)\s+(?:open ?ai|anthropic"
        r"|google deepmind|deepmind|meta ai)\b|\b(?:i am|i'm) (?:the |your )(?:developer|creator"
        r"|programmer|admin\w*|owner) of (?:this|you|the) (?:bot|assistant|ai|chatbot|model"
        r"|system)\b"
    ),
    _rx(
        r"\b(?:developer_mode|dev_mode|god_mode|jailbreak_mode|debug_mode|admin_mode)\s*[:=]\s*"
        r"(?:on|true|enabled|1)\b"
    ),
    _rx(r"\b(?:assistant|personality|persona|ai)\s*=\s*\["),
    _rx(r"\[(?:system|assistant|user|developer)\]\s*\(#\w+\)"),
    _rx(
        r"\b(?:sudo|god|jailbreak|dan|unrestricted)(?: mode)?\s*[:=]\s*(?:on|true|enabled|1)\b"
        r"|\b(?:safety|filters?|guardrails|restrictions|censorship|content filter|ethics)"
        r"(?: mode)?\s*[:=]\s*(?:off|false|disabled|0)\b"
    ),
    _rx(
        r"\b(?:admin(?:istrator)?|developer|system|root|sudo|debug|maintenance|emergency)"
        r"\s+(?:override|mode activated|command)\s*[:!\]]"
    ),
    _rx(
        r"\b(?:end|begin|start)\s+(?:of\s+)?(?:the\s+)?(?:system|admin|developer|new|user"
        r"|customer|original)\s+(?:prompt|instructions?|message|input)\b"
    ),
    _rx(
        r"\b(?:end of (?:session|prompt|system prompt|instructions|(?:user )?input|ambiguity)"
        r"|begin (?:new )?instructions"
        r"|begin reprogramming)\b"
    ),
    _rx(r"\[admin request::|\badmin override\b|\bsystem override\b"),
]
_PREFILL = _rx(
    r"(?:^|\n)[^\S\n]*+(?:assistant|ai|gpt|chatgpt)\s*+:\s*+(?:(?:sure|certainly|of course"
    r"|absolutely|ok|okay)[,!.]?\s++(?:here|i can|i will|i'll)|here is the|here's the"
    r"|here are the)\b"
)
# A bot line, then a user line (on the same line after a space, or on a later one), or a user
# line followed by a bot line.
_TRANSCRIPT = _rx(
    r"(?:^|\n)[^\S\n]*+(?:assistant|ai|chatbot|gpt|chatgpt)\s*+:(?:[^\n]*\s(?:user|human)"
    r"|[^\n]*+\n\s*+(?:user|human))\s*+:"
    r"|(?:^|\n)[^\S\n]*+(?:user|human)\s*+:[^\n]*+\n\s*+(?:assistant|ai)\s*+:"
)


def is_fake_system_message(cleaned: str, normalized: str) -> bool:
    if _TEMPLATE_TOKENS.search(cleaned) or _TRANSCRIPT.search(cleaned) or _PREFILL.search(cleaned):
        return True
    if any(rx.search(normalized) for rx in _FAKE_MARKERS):
        return True
    return any(
        _INSTRUCTION_WORDS.search(match.group("rest")) for match in _ROLE_HEADER.finditer(cleaned)
    )
