"""Orders: the HTTP order backend against a local fake order service, end to end through the
bot, and the authorization of the order tools (`Toolbox`)."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from bot.accounts.views import AccountView
from bot.agent.identity import Asker, AskerRole
from bot.agent.models.base import ToolCall
from bot.agent.tools import Toolbox
from bot.agent.tools.base import ToolContext
from bot.errors import OrderServiceError
from bot.orders import HttpOrders, OrderRecord, SqlOrders
from bot.orders.importing import import_orders, parse_order_file
from bot.store.db import Database
from tests.conftest import dm
from tests.fakes.orders import TOKEN, FakeOrderService, order


@pytest.fixture
async def order_service() -> AsyncIterator[FakeOrderService]:
    service = await FakeOrderService().start()
    service.add(order("1042", "alice@example.com", "out for delivery", tracking="TRK-1042"))
    service.add(order("1043", "alice@example.com", "processing"))
    service.add(order("2001", "bob@example.com", "delivered"))
    yield service
    await service.close()


@pytest.fixture
async def http_orders(order_service: FakeOrderService) -> AsyncIterator[HttpOrders]:
    backend = HttpOrders(order_service.base_url, TOKEN)
    yield backend
    await backend.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- HttpOrders -----------------------------------------------------------------------------


async def test_http_backend_returns_a_found_order_with_every_field(
    http_orders: HttpOrders, order_service: FakeOrderService
) -> None:
    found = await http_orders.get("1042")
    assert found is not None
    assert found.order_id == "1042"
    assert found.customer_email == "alice@example.com"
    assert found.status == "out for delivery"
    assert found.tracking == "TRK-1042"
    assert found.total == Decimal("89.00")
    assert [(i.name, i.quantity, i.price) for i in found.items] == [
        ("Trail running shoes", 1, Decimal("89.00"))
    ]
    [request] = order_service.requests
    assert request.path == "/orders/1042"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_http_backend_returns_none_for_an_unknown_order(http_orders: HttpOrders) -> None:
    assert await http_orders.get("9999") is None


async def test_http_backend_quotes_the_order_id_into_one_path_segment(
    http_orders: HttpOrders, order_service: FakeOrderService
) -> None:
    order_service.add(order("A 7?x", "alice@example.com"))
    found = await http_orders.get("A 7?x")
    assert found is not None and found.order_id == "A 7?x"
    assert order_service.requests[0].query == {}


async def test_http_backend_lists_the_orders_of_one_customer(
    http_orders: HttpOrders, order_service: FakeOrderService
) -> None:
    listed = await http_orders.list_for("alice@example.com")
    assert sorted(o.order_id for o in listed) == ["1042", "1043"]
    assert all(isinstance(o, OrderRecord) for o in listed)
    [request] = order_service.requests
    assert request.path == "/orders"
    assert request.query["customer_email"] == "alice@example.com"


async def test_http_backend_sends_a_plus_address_intact(
    http_orders: HttpOrders, order_service: FakeOrderService
) -> None:
    order_service.add(order("5000", "dana+shop@example.com"))
    listed = await http_orders.list_for("dana+shop@example.com")
    assert [o.order_id for o in listed] == ["5000"]


async def test_http_backend_lists_nothing_for_a_customer_without_orders(
    http_orders: HttpOrders,
) -> None:
    assert await http_orders.list_for("nobody@example.com") == []


async def test_http_backend_without_a_token_sends_no_authorization(
    order_service: FakeOrderService,
) -> None:
    backend = HttpOrders(order_service.base_url)
    try:
        with pytest.raises(OrderServiceError):
            await backend.get("1042")  # the service refuses: 401
    finally:
        await backend.close()
    assert "Authorization" not in order_service.requests[0].headers


@pytest.mark.parametrize("status", [500, 503, 401])
async def test_an_http_error_of_the_service_is_an_order_service_error(
    http_orders: HttpOrders, order_service: FakeOrderService, status: int
) -> None:
    order_service.status = status
    with pytest.raises(OrderServiceError):
        await http_orders.get("1042")
    with pytest.raises(OrderServiceError):
        await http_orders.list_for("alice@example.com")


async def test_an_unreachable_service_is_an_order_service_error() -> None:
    backend = HttpOrders(closed_port_url(), TOKEN)
    try:
        with pytest.raises(OrderServiceError):
            await backend.get("1042")
        with pytest.raises(OrderServiceError):
            await backend.list_for("alice@example.com")
    finally:
        await backend.close()


async def test_a_service_slower_than_the_timeout_is_an_order_service_error(
    order_service: FakeOrderService,
) -> None:
    order_service.delay = 1.0
    backend = HttpOrders(order_service.base_url, TOKEN, timeout=0.2)
    try:
        with pytest.raises(OrderServiceError):
            await backend.get("1042")
    finally:
        await backend.close()


@pytest.mark.parametrize(
    "body",
    ["not json", json.dumps({"order_id": "1042"}), json.dumps([1, 2])],
    ids=["not-json", "order-missing-fields", "not-an-object"],
)
async def test_a_malformed_answer_is_an_order_service_error(
    http_orders: HttpOrders, order_service: FakeOrderService, body: str
) -> None:
    order_service.body = body
    with pytest.raises(OrderServiceError):
        await http_orders.get("1042")


@pytest.mark.parametrize(
    "body",
    ["not json", json.dumps({"orders": [{"order_id": "1"}]}), json.dumps(["x"])],
    ids=["not-json", "order-missing-fields", "not-an-object"],
)
async def test_a_malformed_list_is_an_order_service_error(
    http_orders: HttpOrders, order_service: FakeOrderService, body: str
) -> None:
    order_service.body = body
    with pytest.raises(OrderServiceError):
        await http_orders.list_for("alice@example.com")


# --- end to end -----------------------------------------------------------------------------

_ts = itertools.count(900_000)


def customer_dm(text: str, user: str = "UALICE") -> dict[str, Any]:
    """A DM whose ts (in the past second) cannot equal one the fake Slack gives its posts."""
    return dm(text, user=user, ts=f"{int(time.time()) - 1}.{next(_ts):06d}")


async def test_a_dm_about_an_order_is_answered_from_the_http_order_service(
    start_bot: Any, order_service: FakeOrderService
) -> None:
    bot = await start_bot(
        orders_backend="http", orders_api_url=order_service.base_url, orders_api_token=TOKEN
    )
    await bot.event(customer_dm("where is my order 1042?"))
    await bot.settle()
    [post] = bot.replies()
    assert "out for delivery" in post["text"] and "TRK-1042" in post["text"]
    assert [r.path for r in order_service.requests] == ["/orders/1042"]


async def test_the_http_backend_still_hides_other_customers_orders(
    start_bot: Any, order_service: FakeOrderService
) -> None:
    bot = await start_bot(
        orders_backend="http", orders_api_url=order_service.base_url, orders_api_token=TOKEN
    )
    await bot.event(customer_dm("where is my order 2001?"))  # Bob's
    await bot.settle()
    [post] = bot.replies()
    assert "delivered" not in post["text"] and "bob@" not in post["text"]
    result = bot.anthropic.requests[1]["messages"][-1]["content"][0]["content"]
    assert "delivered" not in result and "bob@" not in result


@pytest.mark.parametrize("failure", ["down", "error"])
async def test_when_the_order_service_fails_the_customer_gets_a_polite_answer(
    start_bot: Any, order_service: FakeOrderService, failure: str
) -> None:
    if failure == "error":
        order_service.status = 500
        url = order_service.base_url
    else:
        url = closed_port_url()
    bot = await start_bot(orders_backend="http", orders_api_url=url, orders_api_token=TOKEN)
    await bot.event(customer_dm("where is my order 1042?"))
    await bot.settle()
    [post] = bot.replies()
    assert post["text"]
    for internal in (
        "OrderServiceError",
        "Traceback",
        "HTTP 500",
        "unreachable",
        "ClientConnector",
        "127.0.0.1",
    ):
        assert internal not in post["text"]
    # The model was told plainly that the order system is unavailable, without the details.
    result = bot.anthropic.requests[1]["messages"][-1]["content"][0]
    assert result["is_error"] is True
    assert "unavailable" in result["content"]
    assert "127.0.0.1" not in result["content"] and "500" not in result["content"]


# --- Toolbox authorization ------------------------------------------------------------------


class MemoryOrders:
    """An order backend in memory that counts its calls."""

    def __init__(self, records: list[dict[str, Any]], *, fail: bool = False) -> None:
        self.orders = {r["order_id"]: OrderRecord.model_validate(r) for r in records}
        self.fail = fail
        self.calls: list[str] = []

    async def get(self, order_id: str, *, account: str | None = None) -> OrderRecord | None:
        self.calls.append(f"get {order_id}" + (f" in {account}" if account else ""))
        if self.fail:
            raise OrderServiceError("order service answered HTTP 500")
        return self.orders.get(order_id)  # the scope is not honoured: the tool must check

    async def list_for(
        self, email: str | None = None, *, account: str | None = None
    ) -> list[OrderRecord]:
        self.calls.append(f"list {email}" + (f" in {account}" if account else ""))
        if self.fail:
            raise OrderServiceError("order service answered HTTP 500")
        return [o for o in self.orders.values() if email in (None, o.customer_email.lower())]

    async def close(self) -> None:
        pass


ALICE = Asker("UALICE", "alice@example.com", is_lead=False)
LEAD = Asker("ULEAD", "lead@example.com", is_lead=True)
NO_EMAIL = Asker("UNOMAIL", None, is_lead=False)


@pytest.fixture
def store() -> MemoryOrders:
    return MemoryOrders(
        [
            order("1042", "alice@example.com", "shipped", tracking="TRK-1042"),
            order("1043", "Alice@Example.com", "processing"),
            order("2001", "bob@example.com", "delivered", shipping_address={"city": "Austin"}),
        ]
    )


async def lookup(toolbox: Toolbox, order_id: str) -> Any:
    return await toolbox.run(ToolCall("call_1", "lookup_order", {"order_id": order_id}))


async def test_a_customer_sees_their_own_order(store: MemoryOrders) -> None:
    outcome = await lookup(Toolbox(ToolContext(ALICE, store, None), 4000), "1042")
    assert outcome.ok and not outcome.denied
    data = json.loads(outcome.content)
    assert data["order"]["order_id"] == "1042"
    assert data["order"]["status"] == "shipped"
    assert outcome.order_ids == ["1042"]


async def test_an_order_email_in_other_case_is_still_the_customers_own(
    store: MemoryOrders,
) -> None:
    outcome = await lookup(Toolbox(ToolContext(ALICE, store, None), 4000), "1043")
    assert outcome.ok and json.loads(outcome.content)["order"]["status"] == "processing"


async def test_a_hash_before_the_order_number_is_ignored(store: MemoryOrders) -> None:
    outcome = await lookup(Toolbox(ToolContext(ALICE, store, None), 4000), " #1042 ")
    assert outcome.ok and outcome.order_ids == ["1042"]


async def test_someone_elses_order_is_denied_with_the_same_content_as_not_found(
    store: MemoryOrders,
) -> None:
    toolbox = Toolbox(ToolContext(ALICE, store, None), 4000)
    other = await lookup(toolbox, "2001")
    missing = await lookup(toolbox, "9999")
    assert other.denied is True and missing.denied is False
    assert not other.ok and not missing.ok
    assert other.content == missing.content
    assert other.order_ids == [] and missing.order_ids == []
    for leaked in ("bob@", "delivered", "Austin", "2001"):
        assert leaked not in other.content


async def test_another_customers_order_is_denied_whichever_way_the_emails_sort(
    store: MemoryOrders,
) -> None:
    # bob@example.com's order, asked for by customers whose emails sort before and after his,
    # and by one whose email only starts like his.
    for email in ("aaron@example.com", "zoe@example.com", "bob@example.co"):
        toolbox = Toolbox(ToolContext(Asker("UOTHER", email, is_lead=False), store, None), 4000)
        outcome = await lookup(toolbox, "2001")
        assert (outcome.ok, outcome.denied, outcome.order_ids) == (False, True, []), email


async def test_an_order_number_of_1_to_64_characters_is_looked_up_and_others_refused(
    store: MemoryOrders,
) -> None:
    toolbox = Toolbox(ToolContext(ALICE, store, None), 4000)
    for looked_up in ("7", "9" * 64):
        outcome = await lookup(toolbox, looked_up)
        assert not outcome.ok and not outcome.denied
        assert "Invalid arguments" not in outcome.content
    assert store.calls == ["get 7", "get " + "9" * 64]
    for refused in ("", "9" * 65):
        outcome = await lookup(toolbox, refused)
        assert "Invalid arguments" in json.loads(outcome.content)["error"]
    assert len(store.calls) == 2  # nothing more was looked up


async def test_an_order_is_shown_with_the_fields_it_has_and_no_empty_ones(
    store: MemoryOrders,
) -> None:
    # 1043 has no tracking number: the model sees no tracking field, not a null one.
    outcome = await lookup(Toolbox(ToolContext(ALICE, store, None), 4000), "1043")
    shown = json.loads(outcome.content)["order"]
    assert "tracking" not in shown and None not in shown.values()
    assert shown == order("1043", "Alice@Example.com", "processing")


async def test_a_lead_sees_any_order(store: MemoryOrders) -> None:
    outcome = await lookup(Toolbox(ToolContext(LEAD, store, None), 4000), "2001")
    assert outcome.ok and not outcome.denied
    assert json.loads(outcome.content)["order"]["customer_email"] == "bob@example.com"


async def test_a_lead_without_an_email_still_sees_any_order(store: MemoryOrders) -> None:
    outcome = await lookup(
        Toolbox(ToolContext(Asker("ULEAD", None, is_lead=True), store, None), 4000), "2001"
    )
    assert outcome.ok


async def test_an_asker_without_email_is_not_linked_and_nothing_is_looked_up(
    store: MemoryOrders,
) -> None:
    toolbox = Toolbox(ToolContext(NO_EMAIL, store, None), 4000)
    looked_up = await lookup(toolbox, "1042")
    listed = await toolbox.run(ToolCall("call_2", "list_my_orders", {}))
    for outcome in (looked_up, listed):
        assert outcome.not_linked is True and not outcome.ok
        assert "shipped" not in outcome.content
    assert store.calls == []


async def test_list_my_orders_lists_only_the_askers_orders(store: MemoryOrders) -> None:
    outcome = await Toolbox(ToolContext(ALICE, store, None), 4000).run(
        ToolCall("c", "list_my_orders", {})
    )
    assert outcome.ok
    ids = [o["order_id"] for o in json.loads(outcome.content)["orders"]]
    assert sorted(ids) == ["1042", "1043"]
    assert sorted(outcome.order_ids) == ["1042", "1043"]
    assert store.calls == ["list alice@example.com"]


async def test_tool_output_is_capped_at_the_configured_size(store: MemoryOrders) -> None:
    store.orders["1042"] = OrderRecord.model_validate(
        order("1042", "alice@example.com", note="very long note " * 500)
    )
    outcome = await lookup(Toolbox(ToolContext(ALICE, store, None), 300), "1042")
    assert outcome.ok
    assert len(outcome.content) <= 300
    assert outcome.content.endswith("[truncated]")
    assert outcome.content.startswith('{"order": {"order_id": "1042"')


async def test_tool_output_under_the_cap_is_whole_json(store: MemoryOrders) -> None:
    outcome = await lookup(Toolbox(ToolContext(ALICE, store, None), 4000), "1042")
    assert json.loads(outcome.content)["order"]["tracking"] == "TRK-1042"


async def test_an_order_service_failure_is_a_plain_tool_error_without_details() -> None:
    toolbox = Toolbox(ToolContext(ALICE, MemoryOrders([], fail=True), None), 4000)
    outcome = await lookup(toolbox, "1042")
    assert not outcome.ok
    assert json.loads(outcome.content) == {"error": "The order system is unavailable right now."}


async def test_invalid_arguments_and_unknown_tools_are_tool_errors(store: MemoryOrders) -> None:
    toolbox = Toolbox(ToolContext(ALICE, store, None), 4000)
    missing = await toolbox.run(ToolCall("c1", "lookup_order", {}))
    unknown = await toolbox.run(ToolCall("c2", "refund_order", {"order_id": "1042"}))
    assert not missing.ok and "Invalid arguments" in json.loads(missing.content)["error"]
    assert not unknown.ok and "refund_order" in json.loads(unknown.content)["error"]
    assert store.calls == []


# --- the account scope (docs/issue-15-plan.md §1.4) -----------------------------------------

ACME_ORDERS = [
    order("3001", "joe@acme.com", "shipped", account_id="acc-acme"),
    order("3002", "ann@acme.com", "processing", account_id="acc-acme"),
    order("3003", "gus@globex.com", "delivered", account_id="acc-globex"),
    order("3004", "joe@acme.com", "shipped"),  # an order of no account
]


async def test_the_http_backend_sends_the_account_scope_and_gets_only_the_accounts_orders(
    http_orders: HttpOrders, order_service: FakeOrderService
) -> None:
    for record in ACME_ORDERS:
        order_service.add(record)
    found = await http_orders.get("3001", account="acc-acme")
    assert found is not None and found.account_id == "acc-acme"
    assert await http_orders.get("3003", account="acc-acme") is None
    assert await http_orders.get("3004", account="acc-acme") is None
    mine = await http_orders.list_for("joe@acme.com", account="acc-acme")
    assert [o.order_id for o in mine] == ["3001"]
    every = await http_orders.list_for(account="acc-acme")
    assert sorted(o.order_id for o in every) == ["3001", "3002"]
    assert order_service.queries == [
        {"account_id": "acc-acme"},
        {"account_id": "acc-acme"},
        {"account_id": "acc-acme"},
        {"account_id": "acc-acme", "customer_email": "joe@acme.com"},
        {"account_id": "acc-acme"},
    ]
    assert await http_orders.list_for() == [] and len(order_service.queries) == 5


@pytest.fixture
async def sql_orders(database_url: str) -> AsyncIterator[SqlOrders]:
    db = Database(database_url)
    await db.upgrade()
    await import_orders(db, [OrderRecord.model_validate(o) for o in ACME_ORDERS])
    yield SqlOrders(db)
    await db.close()


async def test_the_sql_backend_filters_orders_by_account(sql_orders: SqlOrders) -> None:
    found = await sql_orders.get("3001", account="acc-acme")
    assert found is not None and found.account_id == "acc-acme"
    assert await sql_orders.get("3003", account="acc-acme") is None
    assert await sql_orders.get("3004", account="acc-acme") is None
    unscoped = await sql_orders.get("3004")
    assert unscoped is not None and unscoped.account_id is None
    mine = await sql_orders.list_for("Joe@Acme.com", account="acc-acme")
    assert [o.order_id for o in mine] == ["3001"]
    every = await sql_orders.list_for(account="acc-acme")
    assert sorted(o.order_id for o in every) == ["3001", "3002"]
    assert sorted(o.order_id for o in await sql_orders.list_for("joe@acme.com")) == [
        "3001",
        "3004",
    ]
    assert await sql_orders.list_for() == []


def test_an_order_file_may_give_each_orders_account() -> None:
    csv_text = (
        "order_id,customer_email,status,items,total,currency,created_at,account_id\n"
        '3001,joe@acme.com,shipped,"[]",10.00,USD,2026-11-10T14:03:00Z,acc-acme\n'
        '3004,joe@acme.com,shipped,"[]",10.00,USD,2026-11-10T14:03:00Z,\n'
    )
    records = parse_order_file(csv_text, "orders.csv")
    assert [r.account_id for r in records] == ["acc-acme", None]
    listed = parse_order_file(json.dumps(ACME_ORDERS), "orders.json")
    assert [r.account_id for r in listed] == ["acc-acme", "acc-acme", "acc-globex", None]


ACME_VIEW = AccountView(
    1, "T0001", "Acme", "gold", "acc-acme", frozenset({"acme.com"}), frozenset({"T0ACME"})
)


async def test_an_account_customer_is_shown_no_order_the_backend_returns_outside_the_account() -> (
    None
):
    """The tool checks the returned order's account_id again: a backend that ignores the
    scope still shows an Acme user nothing of Globex's (the unknown-order words)."""
    store = MemoryOrders(ACME_ORDERS)
    joe = Asker("UACME1", None, False, team_id="T0ACME", account=ACME_VIEW)
    toolbox = Toolbox(ToolContext(joe, store, None), 4000)
    own, other, missing = [await lookup(toolbox, n) for n in ("3001", "3003", "9999")]
    assert own.ok and json.loads(own.content)["order"]["order_id"] == "3001"
    assert other.denied and other.content == missing.content and other.order_ids == []
    listed = await toolbox.run(ToolCall("c", "list_my_orders", {}))
    shown = sorted(o["order_id"] for o in json.loads(listed.content)["orders"])
    assert shown == ["3001", "3002"]  # the backend's 3003 and 3004 are dropped
    assert store.calls == [
        "get 3001 in acc-acme",
        "get 3003 in acc-acme",
        "get 9999 in acc-acme",
        "list None in acc-acme",
    ]


async def test_an_unattributed_asker_is_not_linked_and_nothing_is_looked_up(
    store: MemoryOrders,
) -> None:
    stranger = Asker("UGLOBEX", None, False, team_id="T0GLOBEX", role=AskerRole.UNATTRIBUTED)
    toolbox = Toolbox(ToolContext(stranger, store, None), 4000)
    for outcome in (
        await lookup(toolbox, "1042"),
        await toolbox.run(ToolCall("c", "list_my_orders", {})),
    ):
        assert outcome.not_linked and not outcome.ok
    assert store.calls == []
