"""`/costs` for support leads: spend, savings and the priciest threads, one thread, one
customer, or a chart of daily spend by tier (the figures and their rendering: `bot/costs/`).

Slack wants an answer within 3 seconds. The report is the ephemeral body of the acknowledgement
when it is ready in time (it normally is: every figure is one SQL aggregate); otherwise the
command is acknowledged with a short note and the report follows through `response_url`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot import costs
from bot.costs.blocks import customer_blocks, report_blocks, section, thread_blocks
from bot.costs.chart import render_chart
from bot.costs.money import format_usd
from bot.costs.request import HELP, CostsRequest, CostsView, parse_args
from bot.errors import UsageError
from bot.listeners.interactions import team_of
from bot.listeners.leads import leads_only
from bot.services import Services

log = logging.getLogger(__name__)

COMMAND = "/costs"
NOT_A_LEAD = (
    "Sorry, `/costs` is only for support leads. Ask a lead if you need the figures "
    "(leads are listed in `SUPPORTBOT_LEAD_USERS`)."
)
# Acknowledge with the answer if it is ready by then; Slack gives up after 3 s.
ACK_BUDGET_SECONDS = 2.0

Answer = dict[str, Any]  # keyword arguments for ack() / respond()


def _private(text: str, blocks: list[dict[str, Any]] | None = None) -> Answer:
    answer: Answer = {"response_type": "ephemeral", "text": text}
    if blocks:
        answer["blocks"] = blocks
    return answer


async def answer(
    services: Services,
    request: CostsRequest,
    command: dict[str, Any],
    client: AsyncWebClient,
    team: str,
) -> Answer:
    """Compute what `/costs` says for one request of a lead of workspace `team`: its figures
    only."""
    db, settings = services.db, services.settings
    if request.kind == CostsView.REPORT:
        r = await costs.report(
            db,
            request.period,
            strong_model=settings.strong_model,
            overrides=settings.price_overrides,
            team=team,
        )
        return _private(
            f"Costs {r.period}: {format_usd(r.total_usd)} over {r.conversations} conversations",
            report_blocks(r),
        )
    if request.kind == CostsView.THREAD:
        detail = await costs.thread_detail(db, request.channel_id, request.thread_ts, team)
        if detail is None:
            return _private(
                "I have no record of that thread: the bot took no part in it, or the link points "
                "to another workspace's message."
            )
        return _private(
            f"Thread costs: {format_usd(detail.total_usd)} over {len(detail.calls)} calls",
            thread_blocks(detail),
        )
    if request.kind == CostsView.CUSTOMER:
        c = await costs.customer_spend(db, request.user_id, request.period, team=team)
        return _private(f"<@{c.user_id}> {c.period}: {format_usd(c.total_usd)}", customer_blocks(c))
    channel = str(command.get("channel_id", ""))
    return await _post_chart(services, request, client, channel=channel, team=team)


async def _post_chart(
    services: Services, request: CostsRequest, client: AsyncWebClient, *, channel: str, team: str
) -> Answer:
    """The chart of workspace `team`'s daily spend, uploaded to `channel`."""
    start, end, spend = await costs.daily_spend(services.db, request.period, team=team)
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
        request: CostsRequest, command: dict[str, Any], client: AsyncWebClient, team: str
    ) -> Answer:
        try:
            return await answer(services, request, command, client, team)
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

    @app.command(
        COMMAND, middleware=[leads_only(services.workspaces, services.channels, NOT_A_LEAD)]
    )
    async def on_costs(
        ack: AsyncAck,
        command: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        try:
            request = parse_args(command.get("text") or "")
        except UsageError as exc:
            await ack(**_private(f"{exc}\n\n{HELP}", [section(f"{exc}\n\n{HELP}")]))
            return
        task = asyncio.create_task(safely(request, command, client, team_of(context)))
        if request.kind == CostsView.CHART:
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
