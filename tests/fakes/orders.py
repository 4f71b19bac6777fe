"""The fake order service the HTTP order backend is tested against."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer

TOKEN = "order-service-token"


def order(order_id: str, email: str, status: str = "shipped", **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_email": email,
        "status": status,
        "items": [{"name": "Trail running shoes", "quantity": 1, "price": "89.00"}],
        "total": "89.00",
        "currency": "USD",
        "created_at": "2026-11-10T14:03:00Z",
        **extra,
    }


@dataclass
class FakeOrderService(FakeServer):
    """GET /orders/{id} and GET /orders?customer_email=E, with a bearer token, like the README's
    order service contract; with `account_id=A` (docs/issue-15-plan.md §1.4), only account A's
    orders (an order's optional `account_id`). Each request's query is kept in `queries`."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    token: str = TOKEN
    status: int | None = None  # when set, every request is answered with this status
    body: str | None = None  # when set, every request is answered with this raw body
    delay: float = 0.0
    requests: list[web.Request] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        self.orders[record["order_id"]] = record

    async def _check(self, request: web.Request) -> web.Response | None:
        self.requests.append(request)
        self.queries.append(dict(request.query))
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.status is not None:
            return web.json_response({"error": "boom"}, status=self.status)
        if self.body is not None:
            return web.Response(text=self.body, content_type="application/json")
        return None

    async def one(self, request: web.Request) -> web.Response:
        refused = await self._check(request)
        if refused is not None:
            return refused
        found = self.orders.get(request.match_info["order_id"])
        account = request.query.get("account_id")
        if found is None or (account is not None and found.get("account_id") != account):
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(found)

    async def many(self, request: web.Request) -> web.Response:
        refused = await self._check(request)
        if refused is not None:
            return refused
        email, account = request.query.get("customer_email"), request.query.get("account_id")
        if account is None:  # the contract before accounts: one customer's orders
            email = email or ""
        found = [
            o
            for o in self.orders.values()
            if (email is None or o["customer_email"] == email)
            and (account is None or o.get("account_id") == account)
        ]
        return web.json_response({"orders": found})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/orders/{order_id}", self.one)
        app.router.add_get("/orders", self.many)
        return app
