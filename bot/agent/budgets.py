"""Spending limits from configuration, checked before every model call."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from bot.config import Settings
from bot.costs.money import format_budget_usd as usd
from bot.delivery import Transcript
from bot.errors import SupportbotError
from bot.store.db import Database
from bot.store.models import Conversation, utcnow
from bot.store.spend import Spend, first_notice, spend_since
from escalation.guards import GuardFinding
from escalation.policy import Reason

log = logging.getLogger(__name__)
Alert = Callable[[str, str], Awaitable[None]]  # (team_id, text): to that workspace's leads


class Budget(StrEnum):
    """The spending limits: per thread, per customer and day, per workspace and day."""

    THREAD = "thread"
    CUSTOMER = "customer"
    WORKSPACE = "workspace"


class BudgetExceeded(SupportbotError):
    """A spending limit was reached."""

    def __init__(self, budget: Budget, spent: Decimal, limit: Decimal) -> None:
        super().__init__(f"{budget} budget reached: ${spent:.4f} of ${limit:.4f}")
        self.budget = budget
        self.spent = spent
        self.limit = limit
        self.draft = ""  # the best answer so far, for the lead who takes over
        # Why the strong tier was being asked, and what the checks found in the draft: the
        # lead's post, the Send draft button and the message's verdict depend on them.
        self.reasons: tuple[Reason, ...] = ()
        self.findings: list[GuardFinding] = []
        self.drafted: Transcript | None = None  # what the model that wrote the draft did


def _today() -> datetime:
    now = utcnow()
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


class Budgets:
    def __init__(self, settings: Settings, db: Database, alert: Alert) -> None:
        self._thread = settings.budget_thread_usd
        self._customer = settings.budget_customer_daily_usd
        self._workspace = settings.budget_workspace_daily_usd
        self._db = db
        self._alert = alert

    @property
    def enabled(self) -> bool:
        return any(x is not None for x in (self._thread, self._customer, self._workspace))

    async def spend(self, conversation: Conversation, user_id: str) -> Spend:
        """The thread's spend, and today's of the customer `user_id` (the calls that answered
        their messages, in any thread) and of the workspace."""
        return await spend_since(self._db, conversation.id, user_id, _today(), conversation.team_id)

    async def check(
        self, conversation: Conversation, user_id: str, *, strong: bool = False
    ) -> None:
        """Raise `BudgetExceeded` for the first limit reached, before a call that answers a
        message of `user_id` (charged to them, whoever started the thread); the workspace
        limit only stops the strong tier. Leads are told once per budget, scope and day."""
        if not self.enabled:
            return
        spend = await self.spend(conversation, user_id)
        thread = f"{conversation.channel_id}/{conversation.thread_ts}"
        limits = [
            (Budget.THREAD, spend.thread, self._thread, thread),
            (Budget.CUSTOMER, spend.customer_today, self._customer, user_id),
        ]
        if strong:
            team = conversation.team_id
            limits.append((Budget.WORKSPACE, spend.workspace_today, self._workspace, team))
        for budget, spent, limit, scope in limits:
            if limit is not None and spent >= limit:
                await self._notify_once(conversation.team_id, budget, scope, spent, limit)
                raise BudgetExceeded(budget, spent, limit)

    async def _notify_once(
        self, team_id: str, budget: Budget, scope: str, spent: Decimal, limit: Decimal
    ) -> None:
        if await first_notice(self._db, team_id, budget, scope, _today().date().isoformat()):
            who = {Budget.THREAD: f"thread {scope}", Budget.CUSTOMER: f"customer <@{scope}>"}.get(
                budget, "the workspace"
            )
            period = "" if budget == Budget.THREAD else " today"
            try:
                await self._alert(
                    team_id,
                    f":money_with_wings: The {budget} budget was reached for {who}: "
                    f"{usd(spent)} spent of {usd(limit)}{period}.",
                )
            except Exception:
                log.exception("could not tell the leads that a %s budget was reached", budget)
