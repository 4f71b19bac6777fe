"""Customer accounts and shared channels: adding, linking, listing and loading them.

Every query is scoped by `team_id`, the workspace that owns the rows. Refusals are
`AccountError`s whose message says what to do, for the terminal (`supportbot accounts`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.views import AccountView, ChannelMapping, ReplyMode, SharedChannelView
from bot.errors import SupportbotError
from bot.store.account_models import Account, AccountDomain, AccountTeam, SharedChannel
from bot.store.db import Database
from bot.store.models import utcnow


class AccountError(SupportbotError, ValueError):
    """An account or a channel link refused; the message says why and what to do."""


@dataclass(frozen=True)
class NewAccount:
    team_id: str  # the owning workspace
    name: str
    tier: str
    domains: tuple[str, ...]
    slack_team_ids: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True)
class AccountListing:
    account: AccountView
    channels: tuple[SharedChannelView, ...]


def normal_domains(domains: Iterable[str]) -> tuple[str, ...]:
    """Lower-cased, without a leading `@` or surrounding blanks, each once, in order."""
    seen: dict[str, None] = {}
    for domain in domains:
        cleaned = domain.strip().lstrip("@").lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


async def _refuse_taken(s: AsyncSession, new: NewAccount, domains: tuple[str, ...]) -> None:
    """A polite refusal when the name, a domain, a Slack team or the external id is taken."""
    taken = await s.exec(
        select(Account.name).where(
            Account.team_id == new.team_id, func.lower(Account.name) == new.name.lower()
        )
    )
    if taken.first() is not None:
        raise AccountError(f"an account named {new.name!r} exists already in {new.team_id}")
    rows = await s.exec(
        select(AccountDomain.domain, Account.name)
        .join(Account, col(Account.id) == AccountDomain.account_id)
        .where(AccountDomain.team_id == new.team_id, col(AccountDomain.domain).in_(domains))
    )
    for domain, owner in rows.all():
        raise AccountError(f"the domain {domain} belongs to the account {owner!r} already")
    teams = await s.exec(
        select(AccountTeam.slack_team_id).where(
            AccountTeam.team_id == new.team_id,
            col(AccountTeam.slack_team_id).in_(new.slack_team_ids),
        )
    )
    for slack_team in teams.all():
        raise AccountError(f"the Slack team {slack_team} belongs to another account already")
    if new.external_id is not None:
        same = await s.exec(
            select(Account.name).where(
                Account.team_id == new.team_id, Account.external_id == new.external_id
            )
        )
        if (holder := same.first()) is not None:
            raise AccountError(f"the external id {new.external_id} is the account {holder!r}'s")


async def add_account(db: Database, new: NewAccount) -> AccountView:
    """Store an account with its domains (lower-cased) and Slack teams, or refuse it."""
    domains = normal_domains(new.domains)
    if not new.name.strip():
        raise AccountError("an account needs a name")
    if not new.tier.strip():
        raise AccountError("an account needs a tier (--tier), e.g. standard")
    if not domains:
        raise AccountError("an account needs at least one email domain (--domain)")
    async with db.session() as s:
        await _refuse_taken(s, new, domains)
        account = Account(
            team_id=new.team_id,
            name=new.name.strip(),
            tier=new.tier.strip(),
            external_id=new.external_id,
        )
        s.add(account)
        await s.flush()
        assert account.id is not None
        for domain in domains:
            s.add(AccountDomain(account_id=account.id, domain=domain, team_id=new.team_id))
        for slack_team in dict.fromkeys(new.slack_team_ids):
            s.add(AccountTeam(team_id=new.team_id, slack_team_id=slack_team, account_id=account.id))
        try:
            await s.commit()
        except IntegrityError:  # a concurrent add took a name, domain or team first
            raise AccountError(f"{new.name!r} clashes with an account added meanwhile") from None
        return _view(account, domains, new.slack_team_ids)


def _view(account: Account, domains: Iterable[str], teams: Iterable[str]) -> AccountView:
    assert account.id is not None
    return AccountView(
        id=account.id,
        team_id=account.team_id,
        name=account.name,
        tier=account.tier,
        external_id=account.external_id,
        domains=frozenset(domains),
        slack_team_ids=frozenset(teams),
    )


async def _load_views(s: AsyncSession, accounts: list[Account]) -> dict[int, AccountView]:
    ids = [a.id for a in accounts]
    domains: dict[int, list[str]] = {i: [] for i in ids if i is not None}
    teams: dict[int, list[str]] = {i: [] for i in ids if i is not None}
    for d in await s.exec(select(AccountDomain).where(col(AccountDomain.account_id).in_(ids))):
        domains[d.account_id].append(d.domain)
    for t in await s.exec(select(AccountTeam).where(col(AccountTeam.account_id).in_(ids))):
        teams[t.account_id].append(t.slack_team_id)
    return {a.id: _view(a, domains[a.id], teams[a.id]) for a in accounts if a.id is not None}


async def _account_named(s: AsyncSession, team_id: str, name: str) -> Account:
    found = await s.exec(
        select(Account).where(Account.team_id == team_id, func.lower(Account.name) == name.lower())
    )
    account = found.first()
    if account is None:
        names = (await s.exec(select(Account.name).where(Account.team_id == team_id))).all()
        known = ", ".join(sorted(names)) or "none yet (`supportbot accounts add`)"
        raise AccountError(f"no account named {name!r} in {team_id}; the accounts are: {known}")
    return account


def _channel_view(row: SharedChannel, account: AccountView | None) -> SharedChannelView:
    confirmed = row.mapping == ChannelMapping.CONFIRMED
    return SharedChannelView(
        team_id=row.team_id,
        channel_id=row.channel_id,
        mapping=ChannelMapping(row.mapping),
        account=account if confirmed else None,
        reply_mode=ReplyMode(row.reply_mode),
        external_team_ids=frozenset(str(t.get("id", "")) for t in row.external_teams or ()),
    )


async def link_channel(
    db: Database,
    team_id: str,
    account_name: str,
    channel_id: str,
    reply_mode: ReplyMode = ReplyMode.MENTIONS,
    confirmed_by: str | None = None,
) -> SharedChannelView:
    """Map a shared channel to an account (confirmed), creating its row if it has none."""
    async with db.session() as s:
        account = await _account_named(s, team_id, account_name)
        row = await s.get(SharedChannel, (team_id, channel_id))
        if row is None:
            row = SharedChannel(team_id=team_id, channel_id=channel_id)
        row.account_id = account.id
        row.mapping = ChannelMapping.CONFIRMED
        row.reply_mode = reply_mode
        row.confirmed_by = confirmed_by
        row.confirmed_at = utcnow()
        s.add(row)
        await s.commit()
        (view,) = (await _load_views(s, [account])).values()
        return _channel_view(row, view)


async def list_accounts(db: Database, team_id: str) -> list[AccountListing]:
    """The workspace's accounts by name, each with its domains, teams and mapped channels."""
    async with db.session() as s:
        accounts = list(
            await s.exec(select(Account).where(Account.team_id == team_id).order_by(Account.name))
        )
        views = await _load_views(s, accounts)
        rows = await s.exec(
            select(SharedChannel)
            .where(SharedChannel.team_id == team_id, col(SharedChannel.account_id).is_not(None))
            .order_by(SharedChannel.channel_id)
        )
        channels: dict[int, list[SharedChannelView]] = {i: [] for i in views}
        for row in rows:
            if row.account_id in views:
                channels[row.account_id].append(_channel_view(row, views[row.account_id]))
    return [AccountListing(views[i], tuple(channels[i])) for i in views]


async def load_shared_channel(
    db: Database, team_id: str, channel_id: str
) -> SharedChannelView | None:
    """The shared channel's view, its account only when a lead confirmed the mapping."""
    async with db.session() as s:
        row = await s.get(SharedChannel, (team_id, channel_id))
        if row is None:
            return None
        account = None
        if row.mapping == ChannelMapping.CONFIRMED and row.account_id is not None:
            found = await s.get(Account, row.account_id)
            account = (await _load_views(s, [found]))[row.account_id] if found else None
        return _channel_view(row, account)


async def record_shared_channel(
    db: Database, team_id: str, channel_id: str, external_teams: list[dict[str, Any]]
) -> SharedChannelView | None:
    """A shared channel seen for the first time: a pending row (kept if one exists already,
    e.g. written meanwhile by another process); the channel's view either way."""
    async with db.session() as s:
        if await s.get(SharedChannel, (team_id, channel_id)) is None:
            s.add(
                SharedChannel(
                    team_id=team_id,
                    channel_id=channel_id,
                    external_teams=external_teams,
                    checked_at=utcnow(),
                )
            )
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
    return await load_shared_channel(db, team_id, channel_id)
