"""Order backends: the embedded SQL store (default) and the HTTP order service."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError
from sqlmodel import col, select

from bot.errors import OrderServiceError
from bot.store.db import Database
from bot.store.models import Order
from bot.store.queries import insert_ignore

log = logging.getLogger(__name__)


class OrderItem(BaseModel):
    name: str
    quantity: int
    price: Decimal


class OrderRecord(BaseModel):
    """An order as the HTTP order service contract (DESIGN section 4) defines it."""

    order_id: str
    customer_email: str
    status: str
    items: list[OrderItem]
    total: Decimal
    currency: str
    created_at: datetime
    tracking: str | None = None
    shipping_address: dict[str, Any] | None = None
    note: str | None = None


class OrderBackend(Protocol):
    async def get(self, order_id: str) -> OrderRecord | None: ...

    async def list_for(self, email: str) -> list[OrderRecord]: ...


def _record(row: Order) -> OrderRecord:
    return OrderRecord.model_validate(row.model_dump())


class SqlOrders:
    """Orders in the bot's own database (`demo_order`), filled by `supportbot orders import`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, order_id: str) -> OrderRecord | None:
        async with self._db.session() as s:
            row = await s.get(Order, order_id)
            return _record(row) if row else None

    async def list_for(self, email: str) -> list[OrderRecord]:
        async with self._db.session() as s:
            rows = await s.exec(
                select(Order)
                .where(col(Order.customer_email) == email.lower())
                .order_by(col(Order.created_at).desc())
                .limit(20)
            )
            return [_record(r) for r in rows]


class HttpOrders:
    """The HTTP order service: GET /orders/{id} and GET /orders?customer_email=E."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            async with self._client().get(self._base + path, params=params) as resp:
                if resp.status == 404:
                    return None
                if resp.status in (401, 403):
                    # Not an outage: every lookup fails until the operator fixes the token.
                    log.error(
                        "configuration error: the order service refused our credentials "
                        "(HTTP %d); set ORDERS_API_TOKEN to a token it accepts",
                        resp.status,
                    )
                    raise OrderServiceError(
                        f"order service refused ORDERS_API_TOKEN ({resp.status})"
                    )
                if resp.status != 200:
                    log.warning("the order service answered HTTP %d", resp.status)
                    raise OrderServiceError(f"order service answered HTTP {resp.status}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            log.warning("the order service (ORDERS_API_URL) is unreachable: %s", type(exc).__name__)
            raise OrderServiceError(f"order service unreachable: {type(exc).__name__}") from exc

    async def get(self, order_id: str) -> OrderRecord | None:
        data = await self._get(f"/orders/{quote(order_id, safe='')}")
        if data is None:
            return None
        try:
            return OrderRecord.model_validate(data)
        except ValidationError as exc:
            raise OrderServiceError("order service returned a malformed order") from exc

    async def list_for(self, email: str) -> list[OrderRecord]:
        data = await self._get("/orders", {"customer_email": email})
        try:
            return [OrderRecord.model_validate(o) for o in (data or {}).get("orders", [])]
        except (ValidationError, AttributeError) as exc:
            raise OrderServiceError("order service returned malformed orders") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def parse_order_file(text: str, filename: str) -> list[OrderRecord]:
    """Orders from a JSON list (or {"orders": [...]}) or a CSV with an `items` JSON column;
    a ValueError of one line naming the file for anything else, an empty file included."""
    parse = _parse_csv if filename.lower().endswith(".csv") else _parse_json
    records = parse(text, filename)
    if not records:
        raise ValueError(f"{filename} holds no orders")
    return records


REQUIRED_FIELDS = [name for name, field in OrderRecord.model_fields.items() if field.is_required()]


def _problems(exc: ValidationError) -> str:
    """A validation error in one line, without the values (customer data)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or 'order'}: {err['msg']}"
        for err in exc.errors()
    )


def _parse_csv(text: str, filename: str) -> list[OrderRecord]:
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValueError(f"{filename} holds no orders")
    missing = [name for name in REQUIRED_FIELDS if name not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(
            f"{filename} has no column {', '.join(missing)} (an order file's columns: "
            f"{', '.join(REQUIRED_FIELDS)}; items is a JSON list)"
        )
    records = []
    for line_no, row in enumerate(reader, start=2):
        try:
            for key in ("items", "shipping_address"):
                if row.get(key):
                    row[key] = json.loads(row[key])
                else:
                    row.pop(key, None)
            records.append(OrderRecord.model_validate({k: v for k, v in row.items() if v != ""}))
        except ValidationError as exc:
            raise ValueError(f"{filename} line {line_no}: {_problems(exc)}") from exc
        except ValueError as exc:
            raise ValueError(f"{filename} line {line_no}: {exc}") from exc
    return records


def _parse_json(text: str, filename: str) -> list[OrderRecord]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{filename} is not valid JSON: {exc}") from exc
    if isinstance(data, dict) and "orders" in data:
        data = data["orders"]
    if not isinstance(data, list):
        raise ValueError(f'{filename}: expected a list of orders or {{"orders": [...]}}')
    records = []
    for number, item in enumerate(data, start=1):
        try:
            records.append(OrderRecord.model_validate(item))
        except ValidationError as exc:
            raise ValueError(f"{filename} order {number}: {_problems(exc)}") from exc
    return records


async def import_orders(db: Database, records: list[OrderRecord], *, replace: bool = True) -> int:
    """Insert orders in the embedded store, replacing any of the same id; with `replace`
    False, keeping those instead (replicas starting together all seed the demo orders).
    Returns how many were given."""
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
    return len(records)
