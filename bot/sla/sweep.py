"""The SLA part of the worker's sweep: schedule new clocks (tier and business calendar), fill the
response times of answered ones, and tell the leads of reminders and breaches.

A reminder and a breach are each a conditional UPDATE … RETURNING (`bot/store/sla.py`) with
the alert's outbox row written in the same transaction, held by this process and posted at
once: whichever replica's UPDATE matched posts it, once. Alerts go to the workspace's leads
channel only, never to the customer's."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.clock import Clock
from bot.poster import LeadsChannel, Poster
from bot.sla.lifecycle import clock_for
from bot.sla.policy import ClockKind, SlaPolicy
from bot.slack_format import escape_mrkdwn
from bot.slack_links import thread_url
from bot.store import outbox, sla
from bot.store.db import Database
from bot.store.holders import Holders
from bot.store.models import PostKind, utcnow

log = logging.getLogger(__name__)

_KIND_NAMES = {ClockKind.FIRST_RESPONSE: "first response", ClockKind.NEXT_RESPONSE: "next response"}


def alert_text(due: sla.Due, policy: SlaPolicy, *, breached: bool) -> str:
    """The leads' alert: the account, a link to the thread, the due time and the owner."""
    zone = policy.calendar.tz
    when = due.due_at.astimezone(zone).strftime("%a %d %b %H:%M")
    account = escape_mrkdwn(due.account) if due.account else "no account"
    owner = f"<@{due.owner}>" if due.owner else "nobody yet"
    link = f"<{thread_url(due.channel_id, due.thread_ts)}|the thread>"
    what = _KIND_NAMES[due.kind]
    if breached:
        head = f":rotating_light: SLA breached: the {what} was due {when} ({zone.key})"
    else:
        head = f":alarm_clock: SLA at risk: the {what} is due {when} ({zone.key})"
    return f"{head}. Account: {account}. Owner: {owner}. See {link}."


class SlaSweep:
    def __init__(
        self,
        db: Database,
        policy: SlaPolicy,
        poster: Poster,
        holders: Holders,
        leads_channel: LeadsChannel,
        clock: Clock,
    ) -> None:
        self._db = db
        self._policy = policy
        self._poster = poster
        self._holders = holders
        self._leads_channel = leads_channel
        self._clock = clock

    async def sweep(self) -> int:
        """Schedule, measure, then remind and breach as of the clock's now; the alerts posted."""
        now = self._clock()
        await self._schedule()
        await self._measure()
        return await self._alert(now)

    async def _schedule(self) -> None:
        times = []
        for clock in await sla.unscheduled(self._db):
            known = clock.account_tier in self._policy.targets_by_tier
            tier = clock.account_tier if known and clock.account_tier else self._policy.default_tier
            planned = clock_for(self._policy, tier, clock.kind, clock.started_at)
            times.append((clock.id, tier, planned.remind_at, planned.due_at))
        await sla.schedule(self._db, times)

    async def _measure(self) -> None:
        between = self._policy.calendar.between
        unmeasured = await sla.unmeasured(self._db)
        await sla.measure(self._db, [(i, between(a, b)) for i, a, b in unmeasured])

    async def _alert(self, now: datetime) -> int:
        teams = await sla.teams_due(self._db, now)
        if not teams:
            return 0
        # Looked up before writing: never a second pooled connection inside the transaction;
        # a workspace due since is told at the next sweep.
        channels = {team: await self._leads_channel(team) for team in teams}
        holder, posts = self._holders.me, []
        # The posts' own times are the system clock's, as the poster's are: a post held by
        # this process is released by a sweep only once it is `OWN_CLAIM_GRACE` old.
        written = utcnow()
        async with self._db.engine.begin() as conn:
            reminded, breached = await sla.take_due(conn, now, teams)
            for due, is_breach in [(d, False) for d in reminded] + [(d, True) for d in breached]:
                channel = channels[due.team_id]
                text = alert_text(due, self._policy, breached=is_breach)
                post_id = await outbox.add_leads_post(
                    conn,
                    PostKind.LEADS_ALERT,
                    channel,
                    holder,
                    written,
                    team_id=due.team_id,
                    text=text,
                )
                posts.append(
                    outbox.Post(
                        post_id,
                        PostKind.LEADS_ALERT,
                        channel,
                        None,
                        written,
                        text=text,
                        team_id=due.team_id,
                        holder=holder,
                    )
                )
        if posts:
            log.info("SLA: %d reminder(s), %d breach(es) told", len(reminded), len(breached))
            await self._poster.post(posts)
        return len(posts)
