"""Lead review in Slack: the escalation buttons, the edit modal, and refusals for non-leads."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.agent.lead_checks import LeadAnswerChecks
from bot.agent.replies import REVIEWED_MARK
from bot.listeners.interactions import team_of, tell_privately
from bot.listeners.leads import leads_only
from bot.services import Services
from bot.slack_blocks import (
    ACTION_PREFIX,
    ANSWER_BLOCK,
    EDIT_CALLBACK,
    edit_modal,
    edited_answer,
    sends_draft_as_is,
)
from bot.slack_out import SlackSender
from bot.store import escalations
from escalation.review import LeadAction, ReviewStatus, next_status, sends_answer

log = logging.getLogger(__name__)
NOT_A_LEAD = "Sorry, only support leads can act on escalations."
EMPTY_ANSWER = "The answer cannot be empty."
TOO_LATE = "This escalation has already been handled."
# Of an escalation id this workspace has none of (another workspace's): nothing is said of it.
NO_RECORD = "I have no record of that escalation in this workspace."
NOT_POSTED_YET = (
    "Slack did not take your answer in the customer's thread just now. It is saved, and the"
    " bot keeps trying to post it for the next hour."
)
NOT_AS_IS = (
    "This draft cannot be sent as it is (the checks flagged it, or it is too long to show in"
    " full here). Use *Edit and send*."
)


async def act(
    services: Services,
    slack: SlackSender,
    checks: LeadAnswerChecks,
    escalation_id: int,
    action: LeadAction,
    lead: str,
    *,
    team: str,
    send_anyway: bool = False,
    answer: str | None = None,
) -> str | None:
    """Apply a lead's action on an escalation of their workspace (`team`): update the row,
    answer the customer, refresh the leads post. None when it was applied; otherwise what to
    tell the lead, privately.

    An answer is checked here, at the moment of sending, whatever button or form it came
    from: a draft only as the leads post showed it whole and unflagged, and every answer
    through the output checks (see `bot.agent.lead_checks`)."""
    found = await escalations.get(services.db, escalation_id, team)
    if found is None:
        return NO_RECORD
    if next_status(ReviewStatus(found[0].status), action) is None:
        return TOO_LATE
    esc = found[0]
    text: str | None = None
    if sends_answer(action):
        if action == LeadAction.SEND_DRAFT and not sends_draft_as_is(esc):
            return NOT_AS_IS
        text = esc.draft if action == LeadAction.SEND_DRAFT else (answer or "")
        edited = action == LeadAction.SEND_EDITED
        verdict = await checks.check(esc, text)
        rules = ", ".join(f.rule for f in verdict.findings)
        if verdict.blocks(send_anyway=edited and send_anyway):
            log.info(
                "escalation %s: the lead's answer was stopped by the checks: %s", esc.id, rules
            )
            return verdict.explain(edited=edited)
        if verdict.findings:
            log.warning("escalation %s: lead %s sent an answer flagged %s", esc.id, lead, rules)
    reply = f"{text}\n\n{REVIEWED_MARK}" if text else None
    applied = await escalations.apply_action(
        services.db, escalation_id, action, lead, text, reply, services.holders.me, team
    )
    if applied is None:
        return TOO_LATE
    if not await services.poster.post(applied.posts):
        await slack.tell_lead(applied.escalation, lead, NOT_POSTED_YET)
    await slack.refresh_leads_post(applied.escalation)
    return None


async def open_edit_form(
    services: Services, client: AsyncWebClient, body: dict[str, Any], escalation_id: int, team: str
) -> None:
    """The edit modal for an escalation of the lead's workspace; else a private 'no record'."""
    found = await escalations.get(services.db, escalation_id, team)
    if found is None:
        await tell_privately(client, body, NO_RECORD)
    else:
        await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(found[0]))


def answer_checks(services: Services) -> LeadAnswerChecks:
    """The checks a lead's answer goes through before it is sent."""
    return LeadAnswerChecks(
        services.db,
        services.orders,
        services.identity,
        protected_prompt=services.answerer.protected_prompt,
        canary=services.answerer.canary,
    )


def register(app: AsyncApp, services: Services, slack: SlackSender) -> None:
    checks = answer_checks(services)

    @app.action(
        re.compile(f"^{ACTION_PREFIX}"),
        middleware=[leads_only(services.workspaces, services.channels, NOT_A_LEAD)],
    )
    async def on_button(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        user = body["user"]["id"]
        action_payload = body["actions"][0]
        try:
            action = LeadAction(action_payload["action_id"].removeprefix(ACTION_PREFIX))
            escalation_id = int(action_payload["value"])
        except (ValueError, KeyError):
            log.warning("ignored a malformed escalation action")
            return
        team = team_of(context)
        if action == LeadAction.SEND_EDITED:
            await open_edit_form(services, client, body, escalation_id, team)
            return
        refusal = await act(services, slack, checks, escalation_id, action, user, team=team)
        if refusal is not None:
            await tell_privately(client, body, refusal)

    @app.view(
        EDIT_CALLBACK,
        middleware=[
            leads_only(services.workspaces, services.channels, NOT_A_LEAD, form_field=ANSWER_BLOCK)
        ],
    )
    async def on_edit_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        user = body["user"]["id"]
        text, send_anyway = edited_answer(view["state"]["values"])
        if not text:
            await ack(response_action="errors", errors={ANSWER_BLOCK: EMPTY_ANSWER})
            return
        escalation_id = int(view["private_metadata"])
        # Acknowledge (closing the modal) only once the answer is safely applied; a refusal
        # keeps the modal open with the reason under the answer, and the text as typed.
        refusal = await act(
            services,
            slack,
            checks,
            escalation_id,
            LeadAction.SEND_EDITED,
            user,
            team=team_of(context),
            answer=text,
            send_anyway=send_anyway,
        )
        if refusal is None:
            await ack()
        else:
            await ack(response_action="errors", errors={ANSWER_BLOCK: refusal})
