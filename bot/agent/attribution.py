"""Who is asking in a Slack Connect channel: which customer account, if any, a sender speaks for.

Two things are needed (docs/issue-15-plan.md §1.2): a lead confirmed the channel's mapping to an
account, and the sender's Slack team is one of that account's teams. Anything less attributes
nothing, and no account data is shown. A profile email (or a lead's link) only narrows inside
the account, and counts only when its domain is one of the account's domains.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.accounts.views import AccountView, ChannelMapping, SharedChannelView


class AskerRole(StrEnum):
    """What the asker is to the bot in this conversation."""

    CUSTOMER = "customer"  # today's rule, or a sender attributed to a confirmed account
    STAFF = "staff"  # the company's own people in a shared channel: never a customer
    LEAD = "lead"
    UNATTRIBUTED = "unattributed"  # a shared channel's sender of no confirmed account


def account_of(channel: SharedChannelView | None, sender_team: str) -> AccountView | None:
    """The account the sender speaks for: the channel's, when a lead confirmed the mapping and
    the sender's team (`T…` or `E…`) is one of the account's Slack teams; else None."""
    if channel is None or channel.mapping != ChannelMapping.CONFIRMED:
        return None
    account = channel.account
    if account is None or not sender_team or sender_team not in account.slack_team_ids:
        return None
    return account


def email_in_account(candidate: str | None, account: AccountView) -> str | None:
    """`candidate` (lower-cased) when its domain is one of the account's domains; else None."""
    if not candidate or candidate.count("@") != 1:
        return None
    email = candidate.strip().lower()
    return email if email.rsplit("@", 1)[1] in account.domains else None


def profile_email(user: dict[str, Any] | None, account: AccountView) -> str | None:
    """The visible profile email of an external user (a users.info user object) when the user
    belongs to one of the account's Slack teams and the address is in the account's domains."""
    if not user or user.get("deleted") or user.get("is_bot"):
        return None
    grid = user.get("enterprise_user") or {}
    teams = {str(user.get("team_id") or ""), str(grid.get("enterprise_id") or "")}
    if not teams & account.slack_team_ids:
        return None
    return email_in_account((user.get("profile") or {}).get("email"), account)
