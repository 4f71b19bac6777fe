"""The fake order service's account scope (docs/issue-15-plan.md §1.4), which the account
authorization tests rely on; without `account_id` it answers as the contract always did."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from tests.fakes.orders import TOKEN, FakeOrderService, order


@pytest.fixture
async def service() -> AsyncIterator[FakeOrderService]:
    fake = await FakeOrderService().start()
    fake.add(order("1042", "ann@acme.com", account_id="acme"))
    fake.add(order("1043", "joe@acme.com", account_id="acme"))
    fake.add(order("2001", "gus@globex.com", account_id="globex"))
    fake.add(order("3001", "ann@acme.com"))  # bought as a person, no account
    yield fake
    await fake.close()


async def get(service: FakeOrderService, path: str, **query: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{service.base_url}{path}"
    async with ClientSession() as http, http.get(url, params=query, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_an_order_of_another_account_is_not_found(service: FakeOrderService) -> None:
    assert (await get(service, "/orders/1042", account_id="acme"))[0] == 200
    assert (await get(service, "/orders/2001", account_id="acme"))[0] == 404
    assert (await get(service, "/orders/3001", account_id="acme"))[0] == 404
    assert (await get(service, "/orders/2001"))[0] == 200  # unscoped, as before


async def test_listing_is_scoped_to_the_account_and_narrowed_by_email(
    service: FakeOrderService,
) -> None:
    def ids(answer: tuple[int, Any]) -> list[str]:
        return [o["order_id"] for o in answer[1]["orders"]]

    assert ids(await get(service, "/orders", account_id="acme")) == ["1042", "1043"]
    narrowed = await get(service, "/orders", account_id="acme", customer_email="ann@acme.com")
    assert ids(narrowed) == ["1042"]
    assert ids(await get(service, "/orders", customer_email="ann@acme.com")) == ["1042", "3001"]
    assert ids(await get(service, "/orders")) == []  # no email, no account: nobody's orders
    assert service.queries[-2:] == [{"customer_email": "ann@acme.com"}, {}]
