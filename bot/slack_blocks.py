"""Block Kit for leads: the escalation post, the edit modal, the App Home."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.models import Conversation, Escalation, utcnow
from escalation.review import LeadAction, ReviewStatus, allowed_actions

ACTION_PREFIX = "escalation_"
EDIT_CALLBACK = "escalation_edit"
_BUTTONS: dict[LeadAction, tuple[str, str | None]] = {
    LeadAction.SEND_DRAFT: ("Send draft", "primary"),
    LeadAction.SEND_EDITED: ("Edit and send", None),
    LeadAction.TAKE_OVER: ("Take over", None),
    LeadAction.DISMISS: ("Dismiss", "danger"),
    LeadAction.RESOLVE: ("Mark resolved", "primary"),
    LeadAction.HAND_BACK: ("Hand back to the bot", None),
}
_STATUS_LINE = {
    ReviewStatus.OPEN: ":large_orange_circle: Open",
    ReviewStatus.CLAIMED: ":large_blue_circle: Taken over by <@{lead}> {when}",
    ReviewStatus.ANSWERED: ":white_check_mark: Answered by <@{lead}> {when}",
    ReviewStatus.DISMISSED: ":heavy_minus_sign: Closed by <@{lead}> {when}",
}


def thread_link(conv: Conversation) -> str:
    return f"https://slack.com/archives/{conv.channel_id}/p{conv.thread_ts.replace('.', '')}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in _clip(text, 1500).splitlines() or [""])


def escalation_blocks(esc: Escalation, conv: Conversation, question: str) -> list[dict[str, Any]]:
    """The leads-channel post: who, what, why, the draft, a link, and the buttons."""
    status = ReviewStatus(esc.status)
    when = _when(esc.claimed_at if status == ReviewStatus.CLAIMED else esc.resolved_at)
    status_line = _STATUS_LINE[status].format(lead=esc.lead_user_id or "?", when=when)
    confidence = "n/a" if esc.confidence is None else f"{esc.confidence:.2f}"
    findings = ", ".join(f"{f['check']}:{f['rule']}" for f in esc.findings) or "none"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Escalation #{esc.id}"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Customer*\n<@{conv.user_id}>"},
                {"type": "mrkdwn", "text": f"*Reasons*\n{', '.join(esc.reasons)}"},
                {"type": "mrkdwn", "text": f"*Confidence*\n{confidence}"},
                {"type": "mrkdwn", "text": f"*Checks*\n{_clip(findings, 300)}"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Question*\n" + _quote(question)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Summary*\n" + _clip(esc.summary, 1500)},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Draft answer*\n" + (_quote(esc.draft) if esc.draft else "_none_"),
            },
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"<{thread_link(conv)}|Open the thread> · {status_line}"}
            ],
        },
    ]
    buttons = []
    for action in allowed_actions(esc.status):
        if action == LeadAction.SEND_DRAFT and not esc.draft:
            continue
        label, style = _BUTTONS[action]
        button: dict[str, Any] = {
            "type": "button",
            "action_id": ACTION_PREFIX + action.value,
            "text": {"type": "plain_text", "text": label},
            "value": str(esc.id),
        }
        if style:
            button["style"] = style
        buttons.append(button)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"escalation_{esc.id}", "elements": buttons})
    return blocks


def edit_modal(esc: Escalation) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": str(esc.id),
        "title": {"type": "plain_text", "text": f"Answer escalation #{esc.id}"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "answer",
                "label": {"type": "plain_text", "text": "Answer to the customer"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 3000,
                    "initial_value": _clip(esc.draft, 3000),
                },
            }
        ],
    }


def _age(moment: datetime) -> str:
    minutes = int((utcnow() - moment).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"


def home_view(is_lead: bool, open_items: list[tuple[Escalation, Conversation]]) -> dict[str, Any]:
    """App Home: for leads, the open escalations oldest first; for others, how to ask."""
    if not is_lead:
        return {
            "type": "home",
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*Hi!* Ask me about your orders in the *Messages* tab, or "
                        "mention me in a channel.",
                    },
                }
            ],
        }
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Open escalations"}}
    ]
    if not open_items:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "Nothing waiting. :tada:"}}
        )
    for esc, conv in open_items[:40]:  # a Home view holds at most 100 blocks
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*#{esc.id}* · <@{conv.user_id}> · {esc.status} · waiting "
                    f"{_age(esc.created_at)}\n{', '.join(esc.reasons)} · "
                    f"<{thread_link(conv)}|thread>",
                },
            }
        )
    return {"type": "home", "blocks": blocks}


FEEDBACK_UP, FEEDBACK_DOWN, FEEDBACK_PERSON = "feedback_up", "feedback_down", "feedback_person"


def feedback_block() -> dict[str, Any]:
    """Thumbs up / down under every bot answer."""
    return {
        "type": "actions",
        "block_id": "feedback",
        "elements": [
            {
                "type": "button",
                "action_id": FEEDBACK_UP,
                "text": {"type": "plain_text", "text": ":thumbsup: Helpful", "emoji": True},
                "value": "up",
            },
            {
                "type": "button",
                "action_id": FEEDBACK_DOWN,
                "text": {"type": "plain_text", "text": ":thumbsdown: Not helpful", "emoji": True},
                "value": "down",
            },
        ],
    }


def talk_to_person_blocks(message_ts: str) -> list[dict[str, Any]]:
    """Offered privately after a thumbs-down."""
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Sorry that didn't help. Would you like a person from our support team "
                "to take a look?",
            },
            "accessory": {
                "type": "button",
                "action_id": FEEDBACK_PERSON,
                "text": {"type": "plain_text", "text": "Talk to a person"},
                "value": message_ts,
            },
        }
    ]
