"""What leads read in a terminal: `stats`, `escalations`, `costs`, `calibrate`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.cli.data import parse_age
from bot.cli.database import open_database
from bot.cli.parser import ALL
from bot.cli.workspaces import pick_team
from bot.config import Settings
from bot.errors import ConfigError
from bot.store.models import EscalationStatus

if TYPE_CHECKING:
    from bot.sla.report import SlaFigures


async def _stats(settings: Settings, days: int, as_json: bool, team: str | None) -> None:
    from bot.sla import report
    from bot.sla.policy import sla_policy
    from bot.store import feedback
    from bot.store.models import utcnow

    now = utcnow()
    async with open_database(settings) as db:
        chosen = await pick_team(db, team)
        since = now - timedelta(days=days)
        figures = await feedback.stats(db, since, chosen)
        sla = await report.figures(db, sla_policy(settings), since, now, chosen)

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    if as_json:
        data = {
            "days": days,
            "satisfaction_by_tier": {
                t.tier: {"up": t.up, "down": t.down, "satisfaction": t.satisfaction}
                for t in figures.by_tier
            },
            "conversations": figures.conversations,
            "resolved_by_bot": figures.resolved_by_bot,
            "resolution_rate": figures.resolution_rate,
            "sla": sla.as_json(),
        }
        print(json.dumps(data, indent=2))
        return
    print(f"last {days} day(s)")
    for t in figures.by_tier:
        print(f"  {t.tier:<8} satisfaction {share(t.satisfaction):>4}  (+{t.up} / -{t.down})")
    print(
        f"  resolution rate {share(figures.resolution_rate)} "
        f"({figures.resolved_by_bot} of {figures.conversations} conversations closed without "
        "a person and without a thumbs-down)"
    )
    _print_sla(sla)


def _print_sla(sla: SlaFigures) -> None:
    """The SLA lines of `stats`: response times in business minutes, breaches, open clocks."""
    print("  SLA (business minutes)")
    for name, times in (
        ("first response", sla.first_response),
        ("next response", sla.next_response),
    ):
        median = "n/a" if times.median_business_minutes is None else times.median_business_minutes
        p90 = "n/a" if times.p90_business_minutes is None else times.p90_business_minutes
        print(
            f"    {name:<14} {times.count} answered, median {median}, p90 {p90},"
            f" {times.breached} breached"
        )
    print(f"    open now       {sla.open_at_risk} at risk, {sla.open_breached} breached")


async def _escalations(
    settings: Settings, status: EscalationStatus | None, as_json: bool, team: str | None
) -> None:
    """The escalations with `status`, or all of them (None), of one workspace."""
    from bot.store import escalations

    async with open_database(settings) as db:
        items = await escalations.listing(db, status, await pick_team(db, team))
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in items], indent=2))
        return
    if not items:
        print(
            "no escalations"
            if status is None
            else f"no {status} escalations (--status all: every one)"
        )
        return
    for e in items:
        lead = f" lead={e.lead_user_id}" if e.lead_user_id else ""
        print(
            f"#{e.id} {e.status:<9} {e.created_at:%Y-%m-%d %H:%M} conversation={e.conversation_id}"
            f" reasons={','.join(e.reasons)}{lead}"
        )


async def _costs(settings: Settings, args: argparse.Namespace) -> int:
    period, thread, user, as_json = args.period, args.thread, args.user, args.json
    from bot import costs
    from bot.costs.results import CostReport, CustomerSpend, ThreadDetail
    from bot.costs.text import format_text
    from bot.slack_links import parse_thread_link

    try:
        costs.period_window(period)
    except costs.PeriodError as exc:
        raise ConfigError(str(exc)) from exc
    where = parse_thread_link(thread) if thread else None
    if thread and where is None:
        raise ConfigError(
            f"{thread!r} is not a Slack message link "
            "(https://WORKSPACE.slack.com/archives/CHANNEL/p1700000000123456)"
        )
    result: CostReport | ThreadDetail | CustomerSpend | None
    async with open_database(settings) as db:
        team = await pick_team(db, args.team)
        if where is not None:
            result = await costs.thread_detail(db, *where, team)
        elif user:
            result = await costs.customer_spend(db, user, period, team=team)
        else:
            result = await costs.report(
                db,
                period,
                strong_model=settings.strong_model,
                overrides=settings.price_overrides,
                team=team,
            )
    if result is None:
        print(f"supportbot: no record of the thread {thread}", file=sys.stderr)
        return 1
    print(result.to_json() if as_json else format_text(result))
    return 0


async def _calibrate(settings: Settings, args: argparse.Namespace) -> None:
    from bot import calibration
    from bot.store.models import utcnow

    since = utcnow() - parse_age(args.since, "--since")
    runs = calibration.read_eval_runs(args.eval)
    async with open_database(settings) as db:
        stored = await calibration.stored_verdicts(db, since)
    result = calibration.calibrate(
        stored + runs.verdicts,
        since=since,
        target_error=args.target_error,
        current_threshold=settings.confidence_threshold,
        eval_turns_skipped=runs.skipped,
        eval_runs_skipped=runs.runs_skipped,
    )
    print(result.to_json() if args.json else calibration.format_text(result))


def run_stats(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_stats(settings, args.days, args.json, args.team))
    return 0


def run_escalations(args: argparse.Namespace, settings: Settings) -> int:
    status = None if args.status == ALL else EscalationStatus(args.status)
    asyncio.run(_escalations(settings, status, args.json, args.team))
    return 0


def run_costs(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_costs(settings, args))


def run_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    """The table, and a recommendation or why there is none: exit status 0 either way."""
    asyncio.run(_calibrate(settings, args))
    return 0
