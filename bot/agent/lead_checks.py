"""The output checks on what a lead sends, run at the moment of sending.

A lead's answer goes to the customer under the bot's name, so it passes the checks the bot's
own answers pass: the canary and verbatim runs of the system prompt (leaks, never sent), and
the answer-data check (emails other than the customer's, identifiers none of the customer's
orders contains). Tool results are not stored, so the data the customer may see is taken as
the orders of the customer whose message was escalated, looked up again now.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import KW_ONLY, dataclass

from bot.agent.checks import off_loop
from bot.agent.identity import IdentityResolver
from bot.errors import OrderServiceError
from bot.orders import OrderBackend
from bot.store.customers import sender_of
from bot.store.db import Database
from bot.store.models import Escalation
from bot.store.queries import message_and_conversation
from escalation.answer_data import check_answer_data
from escalation.guards import GuardFinding, check_output
from escalation.policy import DATA_RULES, LEAK_RULES

log = logging.getLogger(__name__)
# Of Slack's 3 s for answering a lead's click, what looking up the customer may take.
CUSTOMER_DATA_SECONDS = 1.5

_WHAT_WAS_FOUND = {
    "canary_leak": "the bot's secret marker (canary), so it may quote the bot's hidden"
    " instructions",
    "system_prompt_leak": "a passage of the bot's hidden instructions (system prompt)",
    "foreign_email": "an email address that is not this customer's",
    "unverified_identifier": "a reference (tracking or order number) that none of this"
    " customer's orders contains",
    "unchecked_text": "more text than the checks can read (shorten it)",
}


@dataclass(frozen=True)
class LeadAnswerVerdict:
    """What the checks found in one answer a lead is about to send."""

    findings: list[GuardFinding]

    @property
    def leaks(self) -> list[GuardFinding]:
        return [f for f in self.findings if f.rule in LEAK_RULES]

    @property
    def data(self) -> list[GuardFinding]:
        return [f for f in self.findings if f.rule in DATA_RULES]

    def blocks(self, *, send_anyway: bool) -> bool:
        """A leak always stops the answer; data the customer may not see stops it unless the
        lead ticked *Send anyway* in the edit modal."""
        return bool(self.leaks) or (bool(self.data) and not send_anyway)

    def explain(self, *, edited: bool) -> str:
        """One private message for the lead: which check found what, and how to fix it."""
        found = "; ".join(
            f"{_WHAT_WAS_FOUND.get(f.rule, f.detail)} (check `{f.rule}`)"
            for f in self.leaks + self.data
        )
        where = "this answer" if edited else "the draft"
        text = f"Nothing was sent: {where} contains {found}."
        fix = "Remove it" if edited else "Use *Edit and send* to remove it"
        if self.leaks:
            return f"{text} {fix} and write the answer in your own words."
        return (
            f"{text} {fix}; if this customer is meant to see it, tick *Send anyway* in the"
            " *Edit and send* form and send again."
        )


@dataclass(frozen=True)
class LeadAnswerChecks:
    """Runs the output checks on a lead's answer to one escalation."""

    db: Database
    orders: OrderBackend
    identity: IdentityResolver
    _: KW_ONLY
    protected_prompt: str
    canary: str

    async def check(self, esc: Escalation, text: str) -> LeadAnswerVerdict:
        findings = await off_loop(
            check_output, text, system_prompt=self.protected_prompt, canary=self.canary
        )
        email, orders = await self._customer_data(esc)
        findings += await off_loop(check_answer_data, text, asker_email=email, tool_texts=orders)
        return LeadAnswerVerdict(findings)

    async def _customer_data(self, esc: Escalation) -> tuple[str | None, list[str]]:
        """The email of the customer whose message was escalated, and their orders as the
        order tools return them (as JSON text); nothing when that takes too long, since the
        lead's click or form is answered only after the checks, within Slack's 3 seconds."""
        try:
            async with asyncio.timeout(CUSTOMER_DATA_SECONDS):
                return await self._look_up_customer(esc)
        except TimeoutError:
            log.warning(
                "escalation %s: the customer's data came too late for the send check", esc.id
            )
            return None, []

    async def _look_up_customer(self, esc: Escalation) -> tuple[str | None, list[str]]:
        user_id, link = await sender_of(self.db, esc.message_id)
        if not user_id:
            return None, []
        # As the turn saw the asker: in a Slack Connect channel, by the account.
        message, conversation = await message_and_conversation(self.db, esc.message_id)
        asker = await self.identity.resolve_turn(message, conversation, link)
        account = asker.account.external_id if asker.account is not None else None
        if not asker.email and account is None:
            return None, []
        try:
            orders = await self.orders.list_for(asker.email, account=account)
        except OrderServiceError:
            # Without the orders every identifier counts as unverified: the lead is told, and
            # may still send it deliberately (Send anyway).
            log.warning("escalation %s: the order service did not answer the send check", esc.id)
            return asker.email, []
        return asker.email, [
            json.dumps(o.model_dump(mode="json"), ensure_ascii=False)
            for o in orders
            if account is None or o.account_id == account
        ]
