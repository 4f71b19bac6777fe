"""The cost figures as Block Kit for `/costs`, shown privately to the lead who asked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.costs.money import format_usd
from bot.costs.results import CostReport, CustomerSpend, ThreadDetail, ThreadSpend, TierSpend
from bot.slack_format import escape_mrkdwn

_MAX_CALL_LINES = 60


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, 150)}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, 3000)}}


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs[:10]],
    }


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, 3000)}]}


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _window(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC"


def _thread_ref(channel_id: str, thread_ts: str, link: str) -> str:
    # A link's label is text: the channel mention stands beside it (nested, it broke the link).
    return f"<#{channel_id}> <{link}|{escape_mrkdwn(thread_ts)}>"


def _thread_lines(threads: list[ThreadSpend]) -> str:
    return "\n".join(
        f"{i}. {_thread_ref(t.channel_id, t.thread_ts, t.link)} · <@{t.user_id}> · "
        f"{format_usd(t.cost_usd)} ({t.calls} calls)"
        for i, t in enumerate(threads, start=1)
    )


def _by_tier_section(tiers: list[TierSpend]) -> dict[str, Any]:
    return section(
        "*By tier*\n"
        + "\n".join(f"• {t.tier} {format_usd(t.cost_usd)} ({t.calls} calls)" for t in tiers)
    )


def _report_fields(r: CostReport) -> dict[str, Any]:
    s = r.savings
    if s.saved_usd is None:
        saved = "unknown (no price for the strong model)"
    else:
        saved = format_usd(s.saved_usd) + (
            f" ({_pct(s.saved_share)})" if s.saved_share is not None else ""
        )
    unpriced = f" ({r.unknown_cost_calls} unpriced)" if r.unknown_cost_calls else ""
    return _fields(
        [
            ("Spend", format_usd(r.total_usd)),
            ("Conversations", str(r.conversations)),
            (
                "Per conversation",
                f"mean {format_usd(r.cost_per_conversation_mean_usd)} · "
                f"p95 {format_usd(r.cost_per_conversation_p95_usd)}",
            ),
            ("Model calls", f"{r.calls}{unpriced}"),
            (
                "Escalated to the strong tier",
                f"{_pct(r.strong_escalation_rate)} ({r.conversations_with_strong})",
            ),
            (
                "Escalated to a person",
                f"{_pct(r.human_escalation_rate)} ({r.conversations_with_human})",
            ),
            ("Saved vs always-strong", saved),
            (
                "Projected month",
                f"{format_usd(r.projected_month_usd)} at {format_usd(r.daily_rate_usd)}/day",
            ),
        ]
    )


def report_blocks(r: CostReport) -> list[dict[str, Any]]:
    s = r.savings
    blocks = [_header(f"Costs · {r.period}"), _report_fields(r)]
    if r.by_model:
        models = "\n".join(
            f"• `{m.provider}:{m.model}` {format_usd(m.cost_usd)} ({m.calls} calls"
            + (f", {m.unknown_cost_calls} unpriced" if m.unknown_cost_calls else "")
            + ")"
            for m in r.by_model
        )
        blocks += [section("*By model*\n" + models), _by_tier_section(r.by_tier)]
    if s.always_strong_usd is not None:
        blocks.append(
            section(
                f"*Savings* · on `{s.strong_model}` alone the same messages would have cost "
                f"{format_usd(s.always_strong_usd)}; they cost {format_usd(s.actual_usd)}. "
                f"{s.repriced_calls} primary calls of messages that never needed the strong tier "
                f"were re-priced from their recorded tokens; {s.strong_calls} strong calls count "
                "at what they cost."
            )
        )
    if r.top_threads:
        blocks.append(section("*Most expensive threads*\n" + _thread_lines(r.top_threads)))
    if not r.calls and not r.conversations:
        blocks.append(section("No model calls in this period."))
    note = _window(r.start, r.end)
    if r.unknown_cost_calls:
        note += (
            f" · {r.unknown_cost_calls} calls have no known price: they are not in the sums "
            "(set SUPPORTBOT_PRICE_OVERRIDES)"
        )
    blocks.append(_context(note))
    return blocks


def thread_blocks(d: ThreadDetail) -> list[dict[str, Any]]:
    blocks = [
        _header("Costs · one thread"),
        _fields(
            [
                ("Thread", _thread_ref(d.channel_id, d.thread_ts, d.link)),
                ("Customer", f"<@{d.user_id}>"),
                ("Spend", format_usd(d.total_usd)),
                ("Status", f"{d.status} · {d.tier} tier"),
                ("Model calls", str(len(d.calls))),
            ]
        ),
    ]
    lines = []
    for i, c in enumerate(d.calls[:_MAX_CALL_LINES], start=1):
        cached = f" ({c.cached_input_tokens:,} cached)" if c.cached_input_tokens else ""
        written = f" ({c.cache_write_tokens:,} cache write)" if c.cache_write_tokens else ""
        why = f" · why: {c.reasons}" if c.reasons else ""
        outcome = "" if c.outcome == "ok" else f" · {c.outcome}"
        lines.append(
            f"{i}. {c.tier} `{c.model}` · in {c.input_tokens:,}{cached}{written} · "
            f"out {c.output_tokens:,} · {format_usd(c.cost_usd)}{outcome}{why}"
        )
    if len(d.calls) > _MAX_CALL_LINES:
        lines.append(
            f"… and {len(d.calls) - _MAX_CALL_LINES} more: `supportbot costs --thread {d.link}`"
        )
    chunk: list[str] = []
    for line in lines:  # sections hold 3000 characters at most
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("*Model calls*\n" * (len(blocks) == 2) + "\n".join(chunk)))
    if not d.calls:
        blocks.append(section("No model calls in this thread."))
    for e in d.escalations:
        blocks.append(
            section(
                f"*Handed to a person* {e.created_at:%Y-%m-%d %H:%M} UTC · {e.status} · "
                f"why: {', '.join(e.reasons) or 'n/a'}"
            )
        )
    return blocks[:50]


def customer_blocks(c: CustomerSpend) -> list[dict[str, Any]]:
    blocks = [
        _header(f"Costs · one customer · {c.period}"),
        _fields(
            [
                ("Customer", f"<@{c.user_id}>"),
                ("Spend", format_usd(c.total_usd)),
                ("Conversations", str(c.conversations)),
                ("Model calls", str(c.calls)),
            ]
        ),
    ]
    if c.by_tier:
        blocks.append(_by_tier_section(c.by_tier))
    if c.top_threads:
        blocks.append(section("*Their most expensive threads*\n" + _thread_lines(c.top_threads)))
    else:
        blocks.append(section("No model calls for this customer in this period."))
    blocks.append(_context(_window(c.start, c.end)))
    return blocks
