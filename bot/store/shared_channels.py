"""Shared channels as leads see and settle them: recognition refreshes, the one suggestion to
leads (claimed by a conditional UPDATE, so two processes or a redelivered event post it once),
a lead's confirm / ignore / link, the reply mode, and the lists App Home shows.

Every statement is scoped by `team_id`, the workspace that owns the row; a lead of another
workspace finds no row (`None`), which the listeners answer with "no record"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.accounts.suggest import organisations
from bot.accounts.views import AccountView, ChannelMapping, ReplyMode, SharedChannelView
from bot.store.account_models import Account, AccountTeam, SharedChannel
from bot.store.accounts import AccountError, _load_views, load_shared_channel
from bot.store.db import Database
from bot.store.models import Conversation, Message, utcnow


@dataclass(frozen=True)
class ChannelToMap:
    """A shared channel no lead has settled yet, with the organisations in it (Slack's names)."""

    channel_id: str
    external_teams: tuple[dict[str, Any], ...]
    suggested: AccountView | None


async def senders_of(db: Database, team_id: str, channel_id: str) -> list[str]:
    """The other teams seen sending in a channel of workspace `team_id` (the last fallback for
    who is in a Slack Connect channel), in the order first seen."""
    async with db.session() as s:
        rows = await s.exec(
            select(Message.sender_team_id)
            .join(Conversation, col(Conversation.id) == Message.conversation_id)
            .where(
                Conversation.team_id == team_id,
                Message.channel_id == channel_id,
                Message.sender_team_id != "",
                Message.sender_team_id != team_id,
            )
            .order_by(col(Message.id))
        )
        return list(dict.fromkeys(rows.all()))


async def save_external_teams(
    db: Database, team_id: str, channel_id: str, external_teams: list[dict[str, Any]]
) -> SharedChannelView | None:
    """A shared channel as Slack describes it now: its row created (pending) or its connected
    organisations refreshed; its mapping, account and reply mode are kept."""
    async with db.session() as s:
        row = await s.get(SharedChannel, (team_id, channel_id))
        if row is None:
            row = SharedChannel(team_id=team_id, channel_id=channel_id)
        row.external_teams = external_teams
        row.checked_at = utcnow()
        s.add(row)
        await s.commit()
    return await load_shared_channel(db, team_id, channel_id)


async def drop_shared_channel(db: Database, team_id: str, channel_id: str) -> bool:
    """The channel is no longer shared outside: its row goes (True if there was one)."""
    async with db.session() as s:
        result: Any = await s.exec(
            delete(SharedChannel).where(
                col(SharedChannel.team_id) == team_id, col(SharedChannel.channel_id) == channel_id
            )
        )
        await s.commit()
        return bool(result.rowcount)


async def claim_suggestion(
    db: Database, team_id: str, channel_id: str, suggested_account_id: int | None
) -> bool:
    """Whether this caller is the one to post the channel's suggestion to leads: a conditional
    UPDATE of `suggested_at`, true for one caller only, and only while the channel is pending."""
    async with db.session() as s:
        result: Any = await s.exec(
            update(SharedChannel)
            .where(
                col(SharedChannel.team_id) == team_id,
                col(SharedChannel.channel_id) == channel_id,
                col(SharedChannel.mapping) == ChannelMapping.PENDING,
                col(SharedChannel.suggested_at).is_(None),
            )
            .values(suggested_at=utcnow(), suggested_account_id=suggested_account_id)
        )
        await s.commit()
        return bool(result.rowcount)


async def release_suggestion(db: Database, team_id: str, channel_id: str) -> None:
    """The suggestion could not be posted: the next event about the channel posts it."""
    async with db.session() as s:
        await s.exec(
            update(SharedChannel)
            .where(
                col(SharedChannel.team_id) == team_id, col(SharedChannel.channel_id) == channel_id
            )
            .values(suggested_at=None)
        )
        await s.commit()


async def settle(
    db: Database,
    team_id: str,
    channel_id: str,
    lead: str,
    account_id: int | None,
) -> SharedChannelView | None:
    """A lead's decision on a channel of workspace `team_id`: mapped to account `account_id`
    (confirmed, and the organisation in the channel recorded as one of the account's Slack
    teams), or ignored (`account_id` None). None when the workspace has no such channel or
    account. Raises `AccountError` when the channel's organisation is another account's."""
    async with db.session() as s:
        row = await s.get(SharedChannel, (team_id, channel_id))
        account = await s.get(Account, account_id) if account_id is not None else None
        if row is None or (
            account_id is not None and (account is None or account.team_id != team_id)
        ):
            return None
        if account is not None:
            await _record_account_teams(s, team_id, account, row)
        row.mapping = ChannelMapping.CONFIRMED if account else ChannelMapping.IGNORED
        row.account_id = account.id if account else None
        row.confirmed_by = lead
        row.confirmed_at = utcnow()
        s.add(row)
        await s.commit()
    return await load_shared_channel(db, team_id, channel_id)


async def _record_account_teams(s: Any, team_id: str, account: Account, row: SharedChannel) -> None:
    """The Slack teams in a channel of one outside organisation become the account's own."""
    teams = [str(t.get("id") or "") for t in row.external_teams or () if t.get("id")]
    assert account.id is not None
    if len(organisations(row.external_teams or [])) != 1:
        return  # several organisations: which is the account's is not for the bot to guess
    for slack_team in teams:
        held = await s.get(AccountTeam, (team_id, slack_team))
        if held is None:
            s.add(AccountTeam(team_id=team_id, slack_team_id=slack_team, account_id=account.id))
        elif held.account_id != account.id:
            other = await s.get(Account, held.account_id)
            raise AccountError(
                f"the Slack team {slack_team} belongs to the account"
                f" {other.name if other else held.account_id!r} already"
            )


async def set_reply_mode(
    db: Database, team_id: str, channel_id: str, mode: ReplyMode
) -> SharedChannelView | None:
    """What the bot answers in a channel of workspace `team_id`; None when it has no such row."""
    async with db.session() as s:
        result: Any = await s.exec(
            update(SharedChannel)
            .where(
                col(SharedChannel.team_id) == team_id, col(SharedChannel.channel_id) == channel_id
            )
            .values(reply_mode=mode)
        )
        await s.commit()
        if not result.rowcount:
            return None
    return await load_shared_channel(db, team_id, channel_id)


async def channels_to_map(db: Database, team_id: str) -> list[ChannelToMap]:
    """Workspace `team_id`'s pending shared channels, oldest first, with their suggestion."""
    async with db.session() as s:
        rows = list(
            await s.exec(
                select(SharedChannel)
                .where(
                    SharedChannel.team_id == team_id,
                    SharedChannel.mapping == ChannelMapping.PENDING,
                )
                .order_by(col(SharedChannel.created_at))
            )
        )
        ids = {r.suggested_account_id for r in rows if r.suggested_account_id is not None}
        found = list(await s.exec(select(Account).where(col(Account.id).in_(ids)))) if ids else []
        views = await _load_views(s, found)
    return [
        ChannelToMap(
            r.channel_id,
            tuple(r.external_teams or ()),
            views.get(r.suggested_account_id) if r.suggested_account_id is not None else None,
        )
        for r in rows
    ]


async def accounts_of(db: Database, team_id: str) -> list[AccountView]:
    """Workspace `team_id`'s accounts by name (for the link select and App Home)."""
    async with db.session() as s:
        accounts = list(
            await s.exec(select(Account).where(Account.team_id == team_id).order_by(Account.name))
        )
        return list((await _load_views(s, accounts)).values())


async def external_teams_of(db: Database, team_id: str, channel_id: str) -> list[dict[str, Any]]:
    """The outside teams recorded for a channel (Slack's names: data, shown escaped)."""
    async with db.session() as s:
        row = await s.get(SharedChannel, (team_id, channel_id))
        return list(row.external_teams or ()) if row else []
