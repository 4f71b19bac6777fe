"""Where orders come from: the embedded SQL table (default) or the HTTP order service.

The order tools (`bot.agent.tools.orders`) read through `OrderBackend`; which one serves is
`ORDERS_BACKEND`, picked once by `order_backend`. `supportbot orders import` fills the embedded
table (`bot.orders.importing`).
"""

from __future__ import annotations

from typing import Protocol

from bot.config import Settings
from bot.orders.http import HttpOrders
from bot.orders.record import OrderItem, OrderRecord
from bot.orders.sql import SqlOrders
from bot.store.db import Database

__all__ = ["HttpOrders", "OrderBackend", "OrderItem", "OrderRecord", "SqlOrders", "order_backend"]


class OrderBackend(Protocol):
    async def get(self, order_id: str, *, account: str | None = None) -> OrderRecord | None:
        """The order with this id, or None when there is none; with `account`, None unless
        the order is that account's."""
        ...

    async def list_for(
        self, email: str | None = None, *, account: str | None = None
    ) -> list[OrderRecord]:
        """The most recent orders (up to 20), newest first: of the customer `email`, within
        `account` when one is given (then `email` only narrows; without it, the account's)."""
        ...

    async def close(self) -> None: ...


def order_backend(settings: Settings, db: Database) -> OrderBackend:
    """The backend `ORDERS_BACKEND` names."""
    if settings.orders_backend == "http":
        return HttpOrders(settings.orders_api_url, settings.orders_api_token.get_secret_value())
    return SqlOrders(db)
