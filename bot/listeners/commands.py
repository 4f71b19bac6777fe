"""`/costs` for support leads: spend, savings and the priciest threads, one thread, one
customer, or a chart of daily spend by tier.

Slack wants an answer within 3 seconds. The report is the ephemeral body of the acknowledgement
when it is ready in time (it normally is: every figure is one SQL aggregate); otherwise the
command is acknowledged with a short note and the report follows through `response_url`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.slack_format import escape_mrkdwn
from bot.store import costs
from bot.store.cost_results import (
    CostReport,
    CustomerSpend,
    DailySpend,
    ThreadDetail,
    ThreadSpend,
)
from bot.store.costs import PERIODS, format_usd, parse_thread_link

log = logging.getLogger(__name__)

COMMAND = "/costs"
NOT_A_LEAD = (
    "Sorry, `/costs` is only for support leads. Ask a lead if you need the figures "
    "(leads are listed in `SUPPORTBOT_LEAD_USERS`)."
)
HELP = (
    "*`/costs` shows what the bot spends.* Use one of:\n"
    "• `/costs` — today's spend (UTC)\n"
    f"• `/costs {' | '.join(PERIODS)}` — another period: today, this week (since Monday), "
    "this month, or the last 7 or 30 days\n"
    "• `/costs chart [period]` — a chart of daily spend by tier, posted in this channel "
    "(default 7d)\n"
    "• `/costs <thread link>` — every model call of one thread (use *Copy link* on a message)\n"
    "• `/costs @user [period]` — one customer's spend"
)
CHART_DEFAULT_PERIOD = "7d"
# Acknowledge with the answer if it is ready by then; Slack gives up after 3 s.
ACK_BUDGET_SECONDS = 2.0
_MAX_CALL_LINES = 60
_TIER_COLOURS = {"primary": "#2E86AB", "strong": "#E07A5F", "fallback": "#81B29A"}

_USER = re.compile(r"^<@(?P<id>[UW][A-Z0-9]+)(?:\|[^>]*)?>$|^(?P<raw>[UW][A-Z0-9]{5,})$")


class UsageError(ValueError):
    """Arguments `/costs` does not understand; the message says why, HELP says how."""


@dataclass(frozen=True)
class CostsRequest:
    kind: Literal["report", "chart", "thread", "customer"]
    period: str = "today"
    channel_id: str = ""
    thread_ts: str = ""
    user_id: str = ""


def _period(word: str) -> str:
    if word.lower() not in PERIODS:
        raise UsageError(f"`{word}` is not a period.")
    return word.lower()


def parse_args(text: str) -> CostsRequest:
    """The command's text as a request; UsageError for anything else."""
    words = text.split()
    if not words:
        return CostsRequest("report")
    first = words[0]
    if first.lower() == "chart":
        if len(words) > 2:
            raise UsageError("`chart` takes at most a period.")
        return CostsRequest("chart", _period(words[1]) if len(words) > 1 else CHART_DEFAULT_PERIOD)
    if first.lower() in PERIODS:
        if len(words) > 1:
            raise UsageError("A period stands alone, or after a user.")
        return CostsRequest("report", first.lower())
    link = parse_thread_link(first)
    if link:
        if len(words) > 1:
            raise UsageError("A thread link stands alone.")
        return CostsRequest("thread", channel_id=link[0], thread_ts=link[1])
    user = _USER.match(first)
    if user:
        if len(words) > 2:
            raise UsageError("A user may be followed by a period, nothing else.")
        period = _period(words[1]) if len(words) > 1 else "today"
        return CostsRequest("customer", period, user_id=user["id"] or user["raw"])
    if first.startswith("@"):
        raise UsageError(
            f"Slack sent `{first}` as plain text, not as a user id: pick the person from the "
            "@-menu (with escaping switched on for `/costs`, `should_escape: true` in the app "
            "manifest) or give their user id, such as `/costs U012ABCDEF`."
        )
    if "slack.com/archives/" in first:
        raise UsageError("That is not a link to a Slack message.")
    raise UsageError(f"I don't understand `{_clip(text.strip(), 80)}`.")


# ---------------------------------------------------------------------------------------------
# Block Kit


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(text, 150)}}


def _section(text: str) -> dict[str, Any]:
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


def report_blocks(r: CostReport) -> list[dict[str, Any]]:
    s = r.savings
    if s.saved_usd is None:
        saved = "unknown (no price for the strong model)"
    else:
        saved = format_usd(s.saved_usd) + (
            f" ({_pct(s.saved_share)})" if s.saved_share is not None else ""
        )
    unpriced = f" ({r.unknown_cost_calls} unpriced)" if r.unknown_cost_calls else ""
    blocks = [
        _header(f"Costs · {r.period}"),
        _fields(
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
        ),
    ]
    if r.by_model:
        blocks.append(
            _section(
                "*By model*\n"
                + "\n".join(
                    f"• `{m.provider}:{m.model}` {format_usd(m.cost_usd)} ({m.calls} calls"
                    + (f", {m.unknown_cost_calls} unpriced" if m.unknown_cost_calls else "")
                    + ")"
                    for m in r.by_model
                )
            )
        )
        blocks.append(
            _section(
                "*By tier*\n"
                + "\n".join(
                    f"• {t.tier} {format_usd(t.cost_usd)} ({t.calls} calls)" for t in r.by_tier
                )
            )
        )
    if s.always_strong_usd is not None:
        blocks.append(
            _section(
                f"*Savings* · on `{s.strong_model}` alone the same messages would have cost "
                f"{format_usd(s.always_strong_usd)}; they cost {format_usd(s.actual_usd)}. "
                f"{s.repriced_calls} primary calls of messages that never needed the strong tier "
                f"were re-priced from their recorded tokens; {s.strong_calls} strong calls count "
                "at what they cost."
            )
        )
    if r.top_threads:
        blocks.append(_section("*Most expensive threads*\n" + _thread_lines(r.top_threads)))
    if not r.calls and not r.conversations:
        blocks.append(_section("No model calls in this period."))
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
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("*Model calls*\n" * (len(blocks) == 2) + "\n".join(chunk)))
    if not d.calls:
        blocks.append(_section("No model calls in this thread."))
    for e in d.escalations:
        blocks.append(
            _section(
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
        blocks.append(
            _section(
                "*By tier*\n"
                + "\n".join(
                    f"• {t.tier} {format_usd(t.cost_usd)} ({t.calls} calls)" for t in c.by_tier
                )
            )
        )
    if c.top_threads:
        blocks.append(_section("*Their most expensive threads*\n" + _thread_lines(c.top_threads)))
    else:
        blocks.append(_section("No model calls for this customer in this period."))
    blocks.append(_context(_window(c.start, c.end)))
    return blocks


# ---------------------------------------------------------------------------------------------
# The chart


def render_chart(spend: list[DailySpend], start: datetime, end: datetime, title: str) -> bytes:
    """A PNG of daily spend stacked by tier, every day of the window on the x axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days: list[date] = []
    day = start.date()
    while day <= end.date():
        days.append(day)
        day += timedelta(days=1)
    tiers = sorted({s.tier for s in spend}, key=lambda t: (t not in _TIER_COLOURS, t))
    amounts = {(s.day, s.tier): float(s.cost_usd) for s in spend}

    fig = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(days)))
    bottom = [0.0] * len(days)
    for tier in tiers:
        values = [amounts.get((d, tier), 0.0) for d in days]
        ax.bar(
            positions, values, bottom=bottom, label=tier, color=_TIER_COLOURS.get(tier), width=0.8
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(days) // 10)
    ax.set_xticks(positions[::step], [d.strftime("%b %d") for d in days[::step]])
    ax.set_ylabel("USD")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if tiers:
        ax.legend(title="tier")
    else:
        ax.text(0.5, 0.5, "no spend in this period", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The listener

Answer = dict[str, Any]  # keyword arguments for ack() / respond()


def _private(text: str, blocks: list[dict[str, Any]] | None = None) -> Answer:
    answer: Answer = {"response_type": "ephemeral", "text": text}
    if blocks:
        answer["blocks"] = blocks
    return answer


async def answer(
    services: Services, request: CostsRequest, command: dict[str, Any], client: AsyncWebClient
) -> Answer:
    """Compute what `/costs` says for one request."""
    db, settings = services.db, services.settings
    if request.kind == "report":
        r = await costs.report(
            db,
            request.period,
            strong_model=settings.strong_model,
            overrides=settings.price_overrides,
        )
        return _private(
            f"Costs {r.period}: {format_usd(r.total_usd)} over {r.conversations} conversations",
            report_blocks(r),
        )
    if request.kind == "thread":
        detail = await costs.thread_detail(db, request.channel_id, request.thread_ts)
        if detail is None:
            return _private(
                "I have no record of that thread: the bot took no part in it, or the link points "
                "to another workspace's message."
            )
        return _private(
            f"Thread costs: {format_usd(detail.total_usd)} over {len(detail.calls)} calls",
            thread_blocks(detail),
        )
    if request.kind == "customer":
        c = await costs.customer_spend(db, request.user_id, request.period)
        return _private(f"<@{c.user_id}> {c.period}: {format_usd(c.total_usd)}", customer_blocks(c))
    return await _post_chart(services, request, command, client)


async def _post_chart(
    services: Services, request: CostsRequest, command: dict[str, Any], client: AsyncWebClient
) -> Answer:
    channel = command.get("channel_id", "")
    start, end, spend = await costs.daily_spend(services.db, request.period)
    total = sum((s.cost_usd for s in spend), Decimal(0))
    title = f"Daily spend by tier, {request.period} (UTC) · total {format_usd(total)}"
    try:
        png = await asyncio.to_thread(render_chart, spend, start, end, title)
    except ImportError:
        return _private("Charts need matplotlib on the bot's server: `pip install matplotlib`.")
    try:
        await client.files_upload_v2(
            channel=channel,
            file=png,
            filename=f"supportbot-costs-{request.period}-{end:%Y%m%d}.png",
            title=title,
            alt_txt=f"Bar chart of daily spend by tier for {request.period}",
        )
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        log.warning("could not upload the costs chart to %s: %s", channel, error)
        return _private(
            f"I couldn't post the chart here (Slack said `{error}`). Invite me to this channel "
            "or run `/costs chart` in a channel I am in."
        )
    except SlackRequestError as exc:
        log.warning("could not upload the costs chart to %s: %s", channel, exc)
        return _private("I couldn't upload the chart to Slack; please try again in a moment.")
    return _private(chart_done(request.period))


def chart_ack(period: str) -> str:
    return f"Drawing the chart of daily spend by tier for {period}; it will appear in this channel."


def chart_done(period: str) -> str:
    return f"Posted the chart of daily spend by tier for {period} here."


def register(app: AsyncApp, services: Services) -> None:
    pending: set[asyncio.Task[None]] = set()

    async def safely(
        request: CostsRequest, command: dict[str, Any], client: AsyncWebClient
    ) -> Answer:
        try:
            return await answer(services, request, command, client)
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("/costs failed [error %s]", error_id)
            return _private(f"Sorry, I couldn't work out the costs (error {error_id}, in the log).")

    async def follow_up(
        task: asyncio.Task[Answer], respond: AsyncRespond, unless: str | None = None
    ) -> None:
        try:
            result = await task
            if unless is None or result.get("text") != unless:
                await respond(replace_original=False, **result)
        except Exception:
            log.exception("could not send the /costs answer through response_url")

    def in_background(
        task: asyncio.Task[Answer], respond: AsyncRespond, unless: str | None = None
    ) -> None:
        follower = asyncio.create_task(follow_up(task, respond, unless))
        pending.add(follower)
        follower.add_done_callback(pending.discard)

    @app.command(COMMAND)
    async def on_costs(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        if not await services.identity.is_lead(command.get("user_id", "")):
            await ack(**_private(NOT_A_LEAD))
            return
        try:
            request = parse_args(command.get("text") or "")
        except UsageError as exc:
            await ack(**_private(f"{exc}\n\n{HELP}", [_section(f"{exc}\n\n{HELP}")]))
            return
        task = asyncio.create_task(safely(request, command, client))
        if request.kind == "chart":
            # Drawing and uploading take a while (matplotlib's first import alone can take
            # seconds): acknowledge now; only a failure is reported back, privately.
            await ack(**_private(chart_ack(request.period)))
            in_background(task, respond, unless=chart_done(request.period))
            return
        done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_SECONDS)
        if task in done:
            await ack(**task.result())
            return
        await ack(**_private("Working on it: the figures follow here in a moment."))
        in_background(task, respond)
