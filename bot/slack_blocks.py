"""Block Kit for leads: the escalation post, the edit modal, the App Home."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.slack_format import escape_mrkdwn
from bot.slack_links import thread_url
from bot.store.models import Conversation, Escalation, utcnow
from escalation.review import LeadAction, ReviewStatus, allowed_actions, draft_flagged

ACTION_PREFIX = "escalation_"
EDIT_CALLBACK = "escalation_edit"
SECTION_TEXT_LIMIT = 3000  # Slack's limit on a section's text
INPUT_MAX_LENGTH = 3000  # and on a plain_text_input's value
SEND_ANYWAY = "send_anyway"  # the edit modal's tick: "the customer is meant to see this data"
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


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _cut_line(line: str, width: int) -> list[str]:
    """A line in pieces of at most `width` characters, never cut inside an `&…;` entity."""
    pieces = []
    while len(line) > width:
        cut = width
        amp = line.rfind("&", cut - 5, cut)
        if amp > 0 and ";" not in line[amp:cut]:
            cut = amp
        pieces.append(line[:cut])
        line = line[cut:]
    return [*pieces, line]


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines (each at most `limit` long) joined by line breaks into chunks of at most `limit`
    characters; the chunks joined by line breaks give the lines joined by line breaks."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + 1 + len(line) > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    return [*chunks, "\n".join(current)]


def _quoted(text: str, limit: int) -> list[str]:
    """`text` escaped and block-quoted, in pieces of at most `limit` characters."""
    lines = [
        "> " + piece
        for line in text.split("\n")
        for piece in _cut_line(escape_mrkdwn(line), limit - 2)
    ]
    return _chunks(lines, limit)


def _shown(text: str, limit: int) -> str:
    """`text` escaped, and cut to at most `limit` characters (never inside an entity)."""
    escaped = escape_mrkdwn(text)
    return escaped if len(escaped) <= limit else _cut_line(escaped, limit - 1)[0] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


_DRAFT_TITLE = "*Draft answer*\n"
# A message holds 50 blocks: header, fields, question, summary, context and actions leave 44
# for the draft, one of them kept for the note that the draft goes on.
_DRAFT_SECTIONS = 44


def _draft_pieces(draft: str) -> list[str]:
    return _quoted(draft, SECTION_TEXT_LIMIT - len(_DRAFT_TITLE))


def draft_shown_whole(draft: str) -> bool:
    """Whether the leads post shows every character of `draft` (only then may it be sent as
    it is: a lead never sends more than they were shown)."""
    return len(_draft_pieces(draft)) <= _DRAFT_SECTIONS


def sends_draft_as_is(esc: Escalation) -> bool:
    """*Send draft* is offered, and honoured, only for a draft shown whole that no output
    check flagged."""
    return (
        bool(esc.draft)
        and draft_shown_whole(esc.draft)
        and not draft_flagged(esc.reasons, esc.findings)
    )


def _draft_blocks(draft: str) -> list[dict[str, Any]]:
    if not draft:
        return [_section(_DRAFT_TITLE + "_none_")]
    pieces = _draft_pieces(draft)
    if len(pieces) > _DRAFT_SECTIONS:
        more = "_…the draft goes on, too long to show here: *Edit and send* holds all of it._"
        pieces = [*pieces[: _DRAFT_SECTIONS - 1], more]
    pieces[0] = _DRAFT_TITLE + pieces[0]
    return [_section(p) for p in pieces]


def escalation_blocks(
    esc: Escalation, conv: Conversation, question: str, asker: str
) -> list[dict[str, Any]]:
    """The leads-channel post: who asked (`asker`, the sender of the escalated message), what,
    why, the whole draft, a link, and the buttons. Everything a customer, a tool or a model
    wrote is escaped: it is shown, never parsed."""
    status = ReviewStatus(esc.status)
    when = _when(esc.claimed_at if status == ReviewStatus.CLAIMED else esc.resolved_at)
    status_line = _STATUS_LINE[status].format(lead=esc.lead_user_id or "?", when=when)
    link = thread_url(conv.channel_id, conv.thread_ts)
    confidence = "n/a" if esc.confidence is None else f"{esc.confidence:.2f}"
    findings = ", ".join(f"{f['check']}:{f['rule']}" for f in esc.findings) or "none"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Escalation #{esc.id}"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Customer*\n<@{asker or conv.user_id}>"},
                {"type": "mrkdwn", "text": f"*Reasons*\n{_shown(', '.join(esc.reasons), 300)}"},
                {"type": "mrkdwn", "text": f"*Confidence*\n{confidence}"},
                {"type": "mrkdwn", "text": f"*Checks*\n{_shown(findings, 300)}"},
            ],
        },
        # The question is not sent anywhere: its beginning is enough, the thread has the rest.
        _section("*Question*\n" + _quoted(_clip(question, 1500), 2900)[0]),
        _section("*Summary*\n" + _shown(esc.summary, 2900)),
        *_draft_blocks(esc.draft),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the thread> · {status_line}"}],
        },
    ]
    buttons = []
    for action in allowed_actions(ReviewStatus(esc.status)):
        if action == LeadAction.SEND_DRAFT and not sends_draft_as_is(esc):
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


ANSWER_BLOCK = "answer"  # the first box of the edit modal; the next ones are answer_2, answer_3…
CONFIRM_BLOCK = "confirm"


def _answer_parts(draft: str) -> list[str]:
    """The draft in boxes of at most INPUT_MAX_LENGTH characters, cut at line breaks, so the
    modal holds all of it: `edited_answer` joins them back with line breaks."""
    lines = [piece for line in draft.split("\n") for piece in _cut_line(line, INPUT_MAX_LENGTH)]
    return _chunks(lines, INPUT_MAX_LENGTH)[:_MAX_ANSWER_BOXES]


# A modal holds 100 blocks; 90 boxes hold more than the 44 sections of a leads post show, so
# a draft shown whole is always held whole.
_MAX_ANSWER_BOXES = 90


def edit_modal(esc: Escalation) -> dict[str, Any]:
    """The edit form, holding the whole draft (in several boxes when it is long), and the
    tick that lets a lead send data the checks cannot match to the customer."""
    parts = _answer_parts(esc.draft)
    boxes = [
        {
            "type": "input",
            "block_id": ANSWER_BLOCK if n == 1 else f"{ANSWER_BLOCK}_{n}",
            "optional": n > 1,
            "label": {
                "type": "plain_text",
                "text": "Answer to the customer"
                + (f" ({n} of {len(parts)})" if len(parts) > 1 else ""),
            },
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "max_length": INPUT_MAX_LENGTH,
                **({"initial_value": part} if part else {}),
            },
        }
        for n, part in enumerate(parts, start=1)
    ]
    confirm = {
        "type": "input",
        "block_id": CONFIRM_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": "If the checks flag an email or a reference"},
        "hint": {
            "type": "plain_text",
            "text": "Tick only when this customer is meant to see it. Text that quotes the bot's"
            " instructions is never sent.",
        },
        "element": {
            "type": "checkboxes",
            "action_id": SEND_ANYWAY,
            "options": [
                {
                    "text": {"type": "plain_text", "text": "Send anyway"},
                    # Slack allows 75 characters here.
                    "description": {
                        "type": "plain_text",
                        "text": "The customer is meant to see the flagged email or reference",
                    },
                    "value": SEND_ANYWAY,
                }
            ],
        },
    }
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "private_metadata": str(esc.id),
        "title": {"type": "plain_text", "text": f"Answer escalation #{esc.id}"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [*boxes, confirm],
    }


def edited_answer(values: dict[str, Any]) -> tuple[str, bool]:
    """The answer a lead submitted in the edit modal (its boxes joined), and whether they
    ticked *Send anyway*."""
    parts = []
    for n in range(1, _MAX_ANSWER_BOXES + 1):
        box = values.get(ANSWER_BLOCK if n == 1 else f"{ANSWER_BLOCK}_{n}")
        if box is None:
            break
        parts.append((box.get("text") or {}).get("value") or "")
    ticked = (values.get(CONFIRM_BLOCK) or {}).get(SEND_ANYWAY) or {}
    send_anyway = any(o.get("value") == SEND_ANYWAY for o in ticked.get("selected_options") or [])
    return "\n".join(parts).strip(), send_anyway


def _age(moment: datetime) -> str:
    minutes = int((utcnow() - moment).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"


def home_view(
    is_lead: bool, open_items: list[tuple[Escalation, Conversation, str]]
) -> dict[str, Any]:
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
    for esc, conv, asker in open_items[:40]:  # a Home view holds at most 100 blocks
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*#{esc.id}* · <@{asker or conv.user_id}> · {esc.status} · waiting "
                    f"{_age(esc.created_at)}\n{escape_mrkdwn(', '.join(esc.reasons))} · "
                    f"<{thread_url(conv.channel_id, conv.thread_ts)}|thread>",
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
