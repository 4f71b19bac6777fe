"""The leads' message about a new Slack Connect channel: who it is shared with (as Slack names
them), the account it probably belongs to, and the buttons to settle it (Confirm, Ignore, link
another account, the reply mode). Every name that came from Slack or a lead is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from bot.accounts.suggest import organisations
from bot.accounts.views import AccountView, ChannelMapping, ReplyMode, SharedChannelView
from bot.slack_format import escape_mrkdwn


class ChannelAction(StrEnum):
    """The action ids of the leads' buttons on a shared channel."""

    CONFIRM = "account_confirm"
    IGNORE = "account_ignore"
    LINK = "account_link"
    REPLY_MODE = "channel_reply_mode"


SEPARATOR = "|"  # between a channel id and an account id or a reply mode in an action's value
_OPTION_TEXT = 75  # Slack's limit on an option's text


def action_value(channel_id: str, item: object) -> str:
    return f"{channel_id}{SEPARATOR}{item}"


def describe_teams(external_teams: Sequence[Mapping[str, Any]]) -> str:
    """The outside teams as mrkdwn: `*Acme* (acme.com)`, names escaped; ids when unnamed."""
    parts = []
    for team in external_teams:
        name = escape_mrkdwn(str(team.get("name") or team.get("id") or "?"))
        domain = str(team.get("email_domain") or team.get("domain") or "")
        parts.append(f"*{name}*" + (f" ({escape_mrkdwn(domain)})" if domain else ""))
    return ", ".join(parts) or "another organisation (Slack did not say which)"


def _button(text: str, action: ChannelAction, value: str, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _link_select(channel_id: str, accounts: Sequence[AccountView]) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": ChannelAction.LINK,
        "placeholder": {"type": "plain_text", "text": "Link another account"},
        "options": [
            {
                "text": {"type": "plain_text", "text": a.name[:_OPTION_TEXT]},
                "value": action_value(channel_id, a.id),
            }
            for a in accounts[:100]
        ],
    }


def _lines(channel_id: str, teams: Sequence[Mapping[str, Any]], guess: AccountView | None) -> str:
    head = (
        f"*New shared channel* <#{escape_mrkdwn(channel_id)}>, shared with {describe_teams(teams)}."
    )
    if len(organisations(teams)) > 1:
        return f"{head}\nIt is shared with several organisations, so I suggest no account."
    if guess is None:
        return f"{head}\nI found no account that matches it."
    return f"{head}\nIt looks like the account *{escape_mrkdwn(guess.name)}*. Is it?"


def suggestion_blocks(
    channel_id: str,
    teams: Sequence[Mapping[str, Any]],
    guess: AccountView | None,
    accounts: Sequence[AccountView],
) -> list[dict[str, Any]]:
    """The leads' message about a new shared channel. Nothing of any account is said in the
    channel itself until a lead confirms."""
    elements: list[dict[str, Any]] = []
    if guess is not None:
        elements.append(
            _button("Confirm", ChannelAction.CONFIRM, action_value(channel_id, guess.id), "primary")
        )
    elements.append(_button("Ignore", ChannelAction.IGNORE, action_value(channel_id, "")))
    if accounts:
        elements.append(_link_select(channel_id, accounts))
    hint = "" if accounts else "\nAdd the customer with `supportbot accounts add` to link it."
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _lines(channel_id, teams, guess) + hint},
        },
        {"type": "actions", "block_id": "shared_channel", "elements": elements},
    ]


def settled_blocks(view: SharedChannelView, lead: str) -> list[dict[str, Any]]:
    """The message once a lead settled the channel: what was decided, by whom; for a mapped
    channel, the reply-mode toggle."""
    channel = f"<#{escape_mrkdwn(view.channel_id)}>"
    if view.mapping != ChannelMapping.CONFIRMED or view.account is None:
        text = f"{channel} is ignored (no customer's), by <@{escape_mrkdwn(lead)}>."
        return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    name = escape_mrkdwn(view.account.name)
    other = ReplyMode.REQUESTS if view.reply_mode == ReplyMode.MENTIONS else ReplyMode.MENTIONS
    toggle = f"Set reply mode: {other}"
    text = (
        f"{channel} is the account *{name}*, confirmed by <@{escape_mrkdwn(lead)}>."
        f" Reply mode: *{view.reply_mode}*."
    )
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": "shared_channel",
            "elements": [
                _button(toggle, ChannelAction.REPLY_MODE, action_value(view.channel_id, other))
            ],
        },
    ]
