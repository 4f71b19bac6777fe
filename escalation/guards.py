"""Instruction-hierarchy checks: customer input, tool output and the bot's own answer.

``check_input`` and ``check_tool_output`` look for text that tries to override, replace or
extract the assistant's instructions; ``check_output`` looks for the canary token and for
verbatim runs of the system prompt in an answer.  An empty list means clean.  Findings
carry a stable rule code and one short line for a support lead, never the message itself.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from escalation import learned, patterns, prefilter
from escalation.normalize import (
    analyse_hidden,
    clean,
    decoded_payloads,
    expands,
    normalize,
    rot13,
    squash,
    words,
)
from escalation.policy import Check
from escalation.smuggling import asks_to_reassemble_and_obey, reassembled

__all__ = [
    "MAX_CHECKED_CHARS",
    "GuardFinding",
    "check_input",
    "check_output",
    "check_tool_output",
    "make_canary",
    "normalize",
]

MANY_INVISIBLE = 10  # invisible characters inside words that are suspicious on their own
_MAX_DECODE_DEPTH = 2
# The longest text a check reads.  Messages over SUPPORTBOT_MAX_MESSAGE_CHARS are declined
# before the checks and tool output is cut to SUPPORTBOT_TOOL_OUTPUT_MAX_CHARS (both settings
# are capped at this); an answer is at most SUPPORTBOT_MAX_OUTPUT_TOKENS (8,192) tokens.  A
# longer text is checked up to the limit and flagged ``unchecked_text``, never read whole.
# Every pattern is linear in its text, so this bounds a check's time; that bound is what keeps
# the bot fair, since CPython's ``re`` holds the GIL for a whole match (see bot/agent/checks.py).
MAX_CHECKED_CHARS = 40_000


@dataclass(frozen=True)
class GuardFinding:
    check: Check
    rule: str  # stable rule code
    detail: str  # one short human-readable line for a support lead (no message text)


def _rules_on(text: str) -> list[str]:
    normalized = normalize(text)
    return patterns.core_rules(normalized, clean(text), squash(normalized))


def _scan(text: str, check: Check, extra: list[str], depth: int = 0) -> list[GuardFinding]:
    """Shared scanner: plain rules, hidden characters, then encoded payloads."""
    findings: list[GuardFinding] = []
    plain = _rules_on(text)
    fired = plain + extra
    for rule in dict.fromkeys(fired):
        findings.append(GuardFinding(check, rule, _detail(rule)))

    hidden = analyse_hidden(text)
    if hidden.tag_text:
        smuggled = _rules_on(hidden.tag_text)
        for rule in smuggled:
            findings.append(GuardFinding(check, rule, _detail(rule) + " (in invisible tag text)"))
        if smuggled or len(hidden.tag_text) >= MANY_INVISIBLE:
            findings.append(
                GuardFinding(check, "hidden_characters", "text hidden in invisible tag characters")
            )
    if fired and (hidden.invisible or hidden.mixed_script_words):
        disguises = []
        if hidden.invisible:
            disguises.append(f"{hidden.invisible} invisible characters")
        if hidden.mixed_script_words:
            disguises.append(f"{hidden.mixed_script_words} words with look-alike letters")
        findings.append(
            GuardFinding(
                check, "hidden_characters", "instruction disguised with " + " and ".join(disguises)
            )
        )
    elif hidden.invisible >= MANY_INVISIBLE and not hidden.tag_text:
        findings.append(
            GuardFinding(
                check,
                "hidden_characters",
                f"{hidden.invisible} invisible characters inside the text",
            )
        )

    if depth < _MAX_DECODE_DEPTH:
        findings.extend(_encoded(text, check, depth, bool(plain)))
    return _dedupe(findings)


def _encoded(text: str, check: Check, depth: int, plain_fired: bool) -> list[GuardFinding]:
    found: list[GuardFinding] = []
    for encoding, decoded in decoded_payloads(text):
        inner = _scan(decoded, check, [], depth + 1)
        if inner:
            rules = ", ".join(sorted({f.rule for f in inner}))
            found.append(
                GuardFinding(check, "encoded_payload", f"{encoding} text that decodes to: {rules}")
            )
    if not plain_fired:
        hidden = [("rot13", rot13(text))]
        hidden += [("split or reversed", rebuilt) for rebuilt in reassembled(clean(text))]
        for how, candidate in hidden:
            hidden_rules = _rules_on(candidate)
            if hidden_rules:
                found.append(
                    GuardFinding(
                        check,
                        "encoded_payload",
                        f"{how} text that decodes to: {', '.join(hidden_rules)}",
                    )
                )
                break
    normalized = normalize(text)
    if _DECODE_AND_OBEY.search(normalized):
        found.append(
            GuardFinding(check, "encoded_payload", "asks the assistant to decode and obey text")
        )
    elif asks_to_reassemble_and_obey(normalized):
        found.append(
            GuardFinding(
                check, "encoded_payload", "asks the assistant to join or reverse text and obey it"
            )
        )
    return found


_DECODE_AND_OBEY = prefilter.compile(
    r"\b(?:decode|decrypt|de-?obfuscate|translate from (?:base64|hex|rot13|binary))\b[^.!?]{0,60}"
    r"\b(?:and|then)\s+(?:follow|execute|run|obey|do|act on|carry out|comply)\b"
)


def _detail(rule: str) -> str:
    if rule in patterns.ALL_RULES:
        return patterns.detail(rule)
    return _TOOL_DETAILS[rule]


def _dedupe(findings: list[GuardFinding]) -> list[GuardFinding]:
    seen: set[tuple[str, str]] = set()
    unique: list[GuardFinding] = []
    for finding in findings:
        key = (finding.check, finding.rule)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _bounded(text: str, check: Check) -> tuple[str, list[GuardFinding]]:
    """The part of ``text`` a check reads, and a finding when that is not all of it."""
    if len(text) > MAX_CHECKED_CHARS:
        detail = f"text of {len(text)} characters; only the first {MAX_CHECKED_CHARS} were checked"
        return text[:MAX_CHECKED_CHARS], [GuardFinding(check, "unchecked_text", detail)]
    if expands(text):
        detail = "characters that expand many-fold; only the start of the text was checked"
        return text, [GuardFinding(check, "unchecked_text", detail)]
    return text, []


def check_input(text: str) -> list[GuardFinding]:
    """Prompt-injection and jailbreak attempts in a customer's message: the rules, then the
    learned layer (escalation/learned.py), which carries over to attacks the rules never saw."""
    text, unchecked = _bounded(text, Check.INPUT)
    findings = _scan(text, Check.INPUT, []) + unchecked
    if learned.flags(text):
        findings.append(GuardFinding(Check.INPUT, learned.RULE, learned.DETAIL))
    return findings


# --- tool output ------------------------------------------------------------------------------

# "model", "bot" and "agent" are left out: product data has "Model: X200", robot toys and
# notes for human agents.
_AI_NOUN = r"(?:ai|a\.i\.|assistant|chatbot|language model|llm|ai model|gpt|chatgpt)"
_ORDER_WORDS = (
    r"\b(?:ignore|tell|say|respond|reply|issue|approve|refund|recommend|send|forward|give|grant"
    r"|print|output|reveal|do not|don't|never|always|you (?:must|should|will|need)|the customer"
    r"|the user|instead|make sure)\b"
)
_TOOL_RULES = [
    # "AI: issue a refund" / "Assistant, approve this" at the start of a line or sentence
    # Starts at the last line break before the noun, so a blank run is not rescanned per break.
    prefilter.compile(rf"(?:^|\n|[.!?]\s)[^\S\n]*+{_AI_NOUN}\s*+[:,][^\n]{{0,80}}{_ORDER_WORDS}"),
    prefilter.compile(
        rf"\b(?:when|if|once|as soon as|whenever) (?:you|an? {_AI_NOUN}|the {_AI_NOUN})"
        r" (?:read|reads|see|sees|process|processes|parse|parses|summari[sz]es?|encounters?"
        r"|are reading|is reading) (?:this|these)\b"
    ),
    prefilter.compile(rf"\bif you(?:'re| are) (?:an? )?{_AI_NOUN}\b"),
    prefilter.compile(
        rf"\b(?:note|message|instructions?|attention|reminder|memo) (?:to|for) (?:the |any |all )?"
        rf"(?:{_AI_NOUN}|automated (?:system|agent|analysis|software)|ai agent)s?\b"
    ),
    prefilter.compile(
        rf"\b{_AI_NOUN}s? (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing) this"
    ),
    prefilter.compile(
        r"\btell (?:the |this |our )?(?:customer|user|client|shopper|buyer|caller)s? (?:to|that)\b"
    ),
    prefilter.compile(
        r"\b(?:do not|don't|never) (?:tell|inform|mention|reveal|disclose)\b[^.!?]{0,30}"
        r"\b(?:customer|user|client)s?\b"
    ),
    prefilter.compile(
        rf"\b(?:the |this )?{_AI_NOUN}\s+(?:must|should|shall|will|needs to|has to|is (?:required"
        r"|instructed|expected) to)\s+\w"
    ),
    prefilter.compile(
        r"\b(?:respond|reply|answer)\s+(?:only\s+)?with\s+(?:only|exactly|the following"
        r"|nothing but)\b|\b(?:respond|reply|answer|say)\s+(?:only|exactly)\b"
    ),
]
_TOOL_DETAILS = {
    "ai_directed_instruction": "tool data contains an instruction addressed to the assistant",
}


def check_tool_output(text: str) -> list[GuardFinding]:
    """Text inside a tool result (order note, product description, help article) that tries
    to instruct the model."""
    text, unchecked = _bounded(text, Check.TOOL_OUTPUT)
    cleaned = clean(text)
    normalized = normalize(text)
    extra = []
    if any(rx.search(cleaned) or rx.search(normalized) for rx in _TOOL_RULES):
        extra.append("ai_directed_instruction")
    return _scan(text, Check.TOOL_OUTPUT, extra) + unchecked


# --- output -----------------------------------------------------------------------------------


def check_output(
    answer: str, *, system_prompt: str, canary: str, min_span_words: int = 12
) -> list[GuardFinding]:
    """Leaks of the canary token or of verbatim system-prompt passages in an answer."""
    answer, findings = _bounded(answer, Check.OUTPUT)
    if canary and _contains_canary(answer, canary):
        findings.append(
            GuardFinding(Check.OUTPUT, "canary_leak", "answer contains the canary token")
        )
    run = _longest_shared_run(_prompt_index(system_prompt, max(1, min_span_words)), words(answer))
    if run:
        findings.append(
            GuardFinding(
                Check.OUTPUT,
                "system_prompt_leak",
                f"answer repeats {run} consecutive words of the system prompt",
            )
        )
    return findings


def _contains_canary(answer: str, canary: str) -> bool:
    if canary in answer:
        return True
    # Compare without leetspeak folding too: "c n r y - 0 1 ..." keeps its digits as digits.
    for fold in (clean, normalize):
        token = squash(fold(canary))
        if token and token in squash(fold(answer)):
            return True
    return False


@functools.lru_cache(maxsize=8)
def _prompt_index(
    system_prompt: str, n: int
) -> tuple[tuple[str, ...], int, dict[tuple[str, ...], list[int]]]:
    """The system prompt's words and where each run of ``n`` of them starts (the prompt is
    the same for every answer, so this is built once)."""
    prompt = tuple(words(system_prompt))
    starts: dict[tuple[str, ...], list[int]] = {}
    for j in range(len(prompt) - n + 1):
        starts.setdefault(prompt[j : j + n], []).append(j)
    return prompt, n, starts


def _longest_shared_run(
    index: tuple[tuple[str, ...], int, dict[tuple[str, ...], list[int]]], answer: list[str]
) -> int:
    """Length of the longest run (>= n words) of the indexed prompt found verbatim in
    ``answer``."""
    prompt, n, starts = index
    if len(prompt) < n or len(answer) < n:
        return 0
    best = 0
    i = 0
    while i <= len(answer) - n:
        run = 0
        for j in starts.get(tuple(answer[i : i + n]), [])[:_MAX_CANDIDATES]:
            k = n
            while i + k < len(answer) and j + k < len(prompt) and answer[i + k] == prompt[j + k]:
                k += 1
            run = max(run, k)
        best = max(best, run)
        i += max(1, run - n + 1)  # skip positions already inside the run just found
    return best


_MAX_CANDIDATES = 50  # bounds the work on repetitive prompts ("the the the ...")


def make_canary() -> str:
    """A random token to plant in the system prompt: ``cnry-`` and 16 hex digits."""
    return f"cnry-{secrets.token_hex(8)}"
