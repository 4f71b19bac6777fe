"""The `workspace` rows: one team's settings, and a single workspace's adoption of the rows
stored before teams were recorded (`bot/workspaces.py` holds the memo and the rules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, and_, cast, exists, or_, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from bot.store.db import Database
from bot.store.models import utcnow
from bot.store.tables import (
    BUDGET_NOTICE,
    CONVERSATION,
    CUSTOMER_LINK,
    ESCALATION,
    FEEDBACK,
    MODEL_CALL,
    OUTBOX,
)
from bot.store.workspace_models import Workspace

WORKSPACE: Any = Workspace.__table__  # type: ignore[attr-defined]
# The tables whose rows belong to one workspace (`team_id`; '' before it was recorded).
TENANT_TABLES: tuple[Any, ...] = (CONVERSATION, MODEL_CALL, ESCALATION, OUTBOX, FEEDBACK)
_DIALECTS: dict[str, Any] = {"postgresql": postgresql, "sqlite": sqlite}


def _adopt_keyed(table: Any, key: tuple[str, ...], team_id: str) -> Any:
    """Rows of `table` without a team become the team's, unless the team has a row with the
    same `key` already (its unique key would refuse the second: a budget notice, a link)."""
    same = table.alias("same")
    return (
        update(table)
        .where(
            table.c.team_id == "",
            ~exists().where(
                and_(same.c.team_id == team_id, *(same.c[k] == table.c[k] for k in key))
            ),
        )
        .values(team_id=team_id)
    )


async def known_teams(db: Database) -> list[str]:
    """The workspaces the database knows: those with a row, and those of stored threads."""
    statement = union(
        select(WORKSPACE.c.team_id),
        select(CONVERSATION.c.team_id).where(CONVERSATION.c.team_id != ""),
    )
    async with db.engine.connect() as conn:
        return sorted(str(t) for t in (await conn.execute(statement)).scalars())


async def every_row(db: Database) -> list[Workspace]:
    async with db.session() as s:
        rows = await s.exec(sqlmodel_select(Workspace).order_by(col(Workspace.team_id)))
        return list(rows.all())


async def set_settings(db: Database, team_id: str, settings: dict[str, Any]) -> None:
    """Workspace `team_id`'s row with these settings (`leads_channel`, `lead_users`) changed,
    written if it had none."""
    row = {
        "team_id": team_id,
        "name": "",
        "leads_channel": "",
        "lead_users": [],
        "installed_at": utcnow(),
    }
    async with db.engine.begin() as conn:
        insert = _DIALECTS[conn.dialect.name].insert(WORKSPACE).values(**(row | settings))
        await conn.execute(insert.on_conflict_do_update(index_elements=["team_id"], set_=settings))


async def load(db: Database, team_id: str) -> Workspace | None:
    """Workspace `team_id`'s row, if it has one."""
    async with db.session() as s:
        return await s.get(Workspace, team_id)


async def _adopted_already(
    db: Database, team_id: str, leads_channel: str, lead_users: list[str]
) -> bool:
    """Whether the row holds these settings and no tenant row is without a team: a read, so
    that every later start (of every replica) writes nothing."""
    homeless = [exists().where(t.c.team_id == "") for t in (*TENANT_TABLES, CUSTOMER_LINK)]
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(WORKSPACE.c.leads_channel, WORKSPACE.c.lead_users).where(
                    WORKSPACE.c.team_id == team_id
                )
            )
        ).first()
        if row is None or (row.leads_channel, list(row.lead_users)) != (leads_channel, lead_users):
            return False
        return not (await conn.execute(select(or_(*homeless)))).scalar()


async def adopt(db: Database, team_id: str, leads_channel: str, lead_users: list[str]) -> int:
    """In one transaction: workspace `team_id`'s row, written (or rewritten) with the leads
    channel and lead users given, and every tenant row without a team given to it. How many
    rows were adopted. Once done, nothing is written at all."""
    if await _adopted_already(db, team_id, leads_channel, lead_users):
        return 0
    row = {
        "team_id": team_id,
        "name": "",
        "leads_channel": leads_channel,
        "lead_users": lead_users,
        "installed_at": utcnow(),
    }
    settings = {"leads_channel": leads_channel, "lead_users": lead_users}
    adopted = 0
    async with db.engine.begin() as conn:
        insert = _DIALECTS[conn.dialect.name].insert(WORKSPACE).values(**row)
        await conn.execute(insert.on_conflict_do_update(index_elements=["team_id"], set_=settings))
        for statement in (
            *(update(t).where(t.c.team_id == "").values(team_id=team_id) for t in TENANT_TABLES),
            _adopt_keyed(BUDGET_NOTICE, ("budget", "scope", "day"), team_id),
            _adopt_keyed(CUSTOMER_LINK, ("slack_user_id",), team_id),
        ):
            adopted += (await conn.execute(statement)).rowcount
    return adopted


async def installed(
    engine: AsyncEngine, team_id: str, *, name: str, enterprise_id: str | None, installer: str
) -> None:
    """Workspace `team_id` installed (or installed again) through Slack's install flow by user
    `installer`: its row names it, and the installer is its first lead when it has none yet
    (a lead added with `supportbot workspaces set` is never replaced by a reinstall)."""
    facts = {
        "name": name[:200],
        "enterprise_id": enterprise_id,
        "installed_by": installer[:32] or None,
        "installed_at": utcnow(),
        "uninstalled_at": None,
    }
    first_leads = [installer[:32]] if installer else []
    async with engine.begin() as conn:
        insert = (
            _DIALECTS[conn.dialect.name]
            .insert(WORKSPACE)
            .values(team_id=team_id, leads_channel="", lead_users=first_leads, **facts)
        )
        await conn.execute(insert.on_conflict_do_update(index_elements=["team_id"], set_=facts))
        if first_leads:
            await conn.execute(
                update(WORKSPACE)
                .where(WORKSPACE.c.team_id == team_id, cast(WORKSPACE.c.lead_users, Text) == "[]")
                .values(lead_users=first_leads)
            )


async def uninstalled(engine: AsyncEngine, team_id: str) -> None:
    """Workspace `team_id` removed the app (or revoked its tokens): its row says when; its
    settings are kept for a reinstall."""
    async with engine.begin() as conn:
        await conn.execute(
            update(WORKSPACE)
            .where(WORKSPACE.c.team_id == team_id, WORKSPACE.c.uninstalled_at.is_(None))
            .values(uninstalled_at=utcnow())
        )


async def team_of_channel(engine: AsyncEngine, channel_id: str) -> str | None:
    """The one workspace whose conversations channel `channel_id` holds (None when none, or
    when more than one is: the bot never guesses between workspaces)."""
    statement = (
        select(CONVERSATION.c.team_id)
        .where(CONVERSATION.c.channel_id == channel_id, CONVERSATION.c.team_id != "")
        .distinct()
        .limit(2)
    )
    async with engine.connect() as conn:
        teams = list((await conn.execute(statement)).scalars())
    return str(teams[0]) if len(teams) == 1 else None
