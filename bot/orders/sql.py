"""The embedded order store: the `demo_order` table of the bot's own database."""

from __future__ import annotations

from sqlmodel import col, select

from bot.orders.record import OrderRecord
from bot.store.db import Database
from bot.store.models import Order
from bot.store.queries import insert_ignore

MAX_LISTED = 20


def _record(row: Order) -> OrderRecord:
    return OrderRecord.model_validate(row.model_dump())


class SqlOrders:
    """Orders in the bot's own database, filled by `supportbot orders import`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, order_id: str, *, account: str | None = None) -> OrderRecord | None:
        async with self._db.session() as s:
            row = await s.get(Order, order_id)
            if row is None or (account is not None and row.account_id != account):
                return None
            return _record(row)

    async def list_for(
        self, email: str | None = None, *, account: str | None = None
    ) -> list[OrderRecord]:
        if email is None and account is None:
            return []  # nobody's orders: never every order in the table
        query = select(Order)
        if email is not None:
            query = query.where(col(Order.customer_email) == email.lower())
        if account is not None:
            query = query.where(col(Order.account_id) == account)
        async with self._db.session() as s:
            rows = await s.exec(query.order_by(col(Order.created_at).desc()).limit(MAX_LISTED))
            return [_record(r) for r in rows]

    async def close(self) -> None:
        """Nothing to close: the database belongs to the process."""


async def has_orders(db: Database) -> bool:
    async with db.session() as s:
        return (await s.exec(select(Order).limit(1))).first() is not None


async def save_orders(db: Database, records: list[OrderRecord], *, replace: bool) -> None:
    """Insert orders, replacing any of the same id; with `replace` False, keeping those."""
    async with db.session() as s:
        for rec in records:
            row = Order.model_validate(
                rec.model_dump(mode="python") | {"customer_email": rec.customer_email.lower()}
            )
            row.items = [i.model_dump(mode="json") for i in rec.items]
            if replace:
                await s.merge(row)
            else:
                await insert_ignore(await s.connection(), Order, row.model_dump())
        await s.commit()
