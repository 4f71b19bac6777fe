"""The leads' App Home sections for tickets: "At risk / breached" (open SLA clocks past their
reminder or due time) and "Mine" (the unresolved tickets the lead took with 👀). Account names
are escaped; nothing of a customer's words is shown."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.sla.lifecycle import ClockState
from bot.sla.policy import ClockKind
from bot.sla.report import OpenTicket
from bot.slack_format import escape_mrkdwn
from bot.slack_links import thread_url

_KIND = {ClockKind.FIRST_RESPONSE: "first response", ClockKind.NEXT_RESPONSE: "next response"}
_STATE = {
    ClockState.AT_RISK: ":alarm_clock: at risk",
    ClockState.BREACHED: ":rotating_light: breached",
}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _line(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _ticket(ticket: OpenTicket) -> str:
    link = f"<{thread_url(ticket.channel_id, ticket.thread_ts)}|thread>"
    account = escape_mrkdwn(ticket.account) if ticket.account else "no account"
    return f"{link} · {account}"


def ticket_blocks(
    at_risk: list[OpenTicket], mine: list[OpenTicket], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The two sections, each with a line when it is empty."""
    blocks = [_header("At risk / breached")]
    if not at_risk:
        blocks.append(_line("No ticket is at risk. :white_check_mark:"))
    for ticket in at_risk:
        assert ticket.kind is not None and ticket.due_at is not None and ticket.state is not None
        due = ticket.due_at.astimezone(zone).strftime("%a %d %b %H:%M")
        owner = f"<@{ticket.owner}>" if ticket.owner else "nobody yet"
        blocks.append(
            _line(
                f"{_STATE.get(ticket.state, '')} {_ticket(ticket)} · {_KIND[ticket.kind]} due "
                f"{due} ({zone.key}) · owner {owner}"
            )
        )
    blocks.append(_header("Mine"))
    if not mine:
        blocks.append(_line("You own no open ticket. React with :eyes: to take one."))
    for ticket in mine:
        blocks.append(_line(f"{_ticket(ticket)} · {ticket.status.replace('_', ' ')}"))
    return blocks
