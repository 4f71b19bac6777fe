"""The HTTP order service (`ORDERS_BACKEND=http`): GET /orders/{id} and
GET /orders?customer_email=E, with an optional bearer token (DESIGN section 4); with an
account scope, `account_id=A` is sent as a query parameter on both."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
from pydantic import ValidationError

from bot.errors import OrderServiceError
from bot.orders.record import OrderRecord

log = logging.getLogger(__name__)


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

    async def get(self, order_id: str, *, account: str | None = None) -> OrderRecord | None:
        scope = {"account_id": account} if account is not None else None
        data = await self._get(f"/orders/{quote(order_id, safe='')}", scope)
        if data is None:
            return None
        try:
            return OrderRecord.model_validate(data)
        except ValidationError as exc:
            raise OrderServiceError("order service returned a malformed order") from exc

    async def list_for(
        self, email: str | None = None, *, account: str | None = None
    ) -> list[OrderRecord]:
        if email is None and account is None:
            return []  # nobody's orders: never every order of the service
        params = {"account_id": account} if account is not None else {}
        if email is not None:
            params["customer_email"] = email
        data = await self._get("/orders", params)
        try:
            return [OrderRecord.model_validate(o) for o in (data or {}).get("orders", [])]
        except (ValidationError, AttributeError) as exc:
            raise OrderServiceError("order service returned malformed orders") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
