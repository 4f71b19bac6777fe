"""Lead review in Slack: the escalation buttons, the edit modal, and refusals for non-leads."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.agent.replies import REVIEWED_MARK
from bot.services import Services
from bot.slack_blocks import ACTION_PREFIX, EDIT_CALLBACK, edit_modal
from bot.slack_out import SlackOutbox
from bot.store import escalations
from escalation.review import LeadAction, sends_answer

log = logging.getLogger(__name__)
NOT_A_LEAD = "Sorry, only support leads can act on escalations."
TOO_LATE = "This escalation has already been handled."
NOT_POSTED_YET = (
    "Slack did not take your answer in the customer's thread just now. It is saved, and the"
    " bot keeps trying to post it for the next hour."
)


async def act(
    services: Services,
    outbox: SlackOutbox,
    escalation_id: int,
    action: LeadAction,
    lead: str,
    answer: str | None = None,
) -> bool:
    """Apply a lead's action: update the row, answer the customer, refresh the leads post."""
    found = await escalations.get(services.db, escalation_id)
    if found is None:
        return False
    esc, conv = found
    text = (
        (answer if action == LeadAction.SEND_EDITED else esc.draft)
        if sends_answer(action)
        else None
    )
    reply = f"{text}\n\n{REVIEWED_MARK}" if text else None
    applied = await escalations.apply_action(services.db, escalation_id, action, lead, text, reply)
    if applied is None:
        return False
    if applied.answer is not None and not await services.worker.post_stored(applied.answer):
        await outbox.tell_lead(applied.escalation, lead, NOT_POSTED_YET)
    await outbox.refresh_leads_post(applied.escalation, conv)
    return True


def register(app: AsyncApp, services: Services, outbox: SlackOutbox) -> None:
    async def refuse(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        user = body["user"]["id"]
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)

    @app.action(re.compile(f"^{ACTION_PREFIX}"))
    async def on_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        action_payload = body["actions"][0]
        try:
            action = LeadAction(action_payload["action_id"].removeprefix(ACTION_PREFIX))
            escalation_id = int(action_payload["value"])
        except (ValueError, KeyError):
            log.warning("ignored a malformed escalation action")
            return
        if not await services.identity.is_lead(user):
            await refuse(client, body, NOT_A_LEAD)
            return
        if action == LeadAction.SEND_EDITED:
            found = await escalations.get(services.db, escalation_id)
            if found is not None:
                await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(found[0]))
            return
        if not await act(services, outbox, escalation_id, action, user):
            await refuse(client, body, TOO_LATE)

    @app.view(EDIT_CALLBACK)
    async def on_edit_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        if not await services.identity.is_lead(user):
            await ack(response_action="errors", errors={"answer": NOT_A_LEAD})
            return
        text = (view["state"]["values"]["answer"]["text"].get("value") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"answer": "The answer cannot be empty."})
            return
        escalation_id = int(view["private_metadata"])
        # Acknowledge first (closing the modal) only once the answer is safely applied.
        if await act(services, outbox, escalation_id, LeadAction.SEND_EDITED, user, text):
            await ack()
        else:
            await ack(response_action="errors", errors={"answer": TOO_LATE})
