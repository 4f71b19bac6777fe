"""The order tools: one order by its number, and the asker's recent orders. Authorization is
checked here, in code: a customer sees only their own orders, a lead any; a customer attributed
to an account in a Slack Connect channel sees only that account's orders (the order service is
asked within the account, and the answer's `account_id` is checked again here); a shared
channel's sender of no account gets nothing, and the order service is not asked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.accounts.views import AccountView
from bot.agent.attribution import AskerRole
from bot.agent.tools.base import Tool, ToolContext, ToolName, ToolResult
from bot.orders import OrderRecord

_NOT_FOUND = "No order with this number was found for this customer."
_NOT_LINKED = "The asker's Slack account is not linked to a customer email."


class LookupOrderArgs(BaseModel):
    order_id: str = Field(
        description="The order number exactly as the customer gave it, e.g. '1042'.",
        min_length=1,
        max_length=64,
    )


class ListMyOrdersArgs(BaseModel):
    pass


def _order_view(order: OrderRecord) -> dict[str, Any]:
    return order.model_dump(mode="json", exclude_none=True)


def _scope(account: AccountView | None, role: AskerRole) -> str | None:
    """The order service's account id the asker is limited to; None: today's rule. Raises
    `_Unlinked` for an asker who may see no order at all."""
    if role in (AskerRole.UNATTRIBUTED, AskerRole.STAFF):
        raise _Unlinked
    if account is None:
        return None
    if not account.external_id:
        raise _Unlinked  # an account the order service does not know has no orders here
    return account.external_id


class _Unlinked(Exception):
    pass


async def _lookup_in_account(context: ToolContext, order_id: str, account: str) -> ToolResult:
    order = await context.orders.get(order_id, account=account)
    if order is None:
        return ToolResult.error(_NOT_FOUND)
    if order.account_id != account:
        # The service answered outside the scope it was given: the same words as "not
        # found", so another account's order reveals nothing.
        return ToolResult.error(_NOT_FOUND, denied=True)
    return ToolResult(
        {"order": _order_view(order)}, order_ids=[order.order_id], order_totals=[order.total]
    )


async def lookup_order(context: ToolContext, args: LookupOrderArgs) -> ToolResult:
    asker = context.asker
    order_id = args.order_id.strip().lstrip("#")
    try:
        account = _scope(asker.account, asker.role)
    except _Unlinked:
        return ToolResult.error(_NOT_LINKED, not_linked=True)
    if account is not None:
        return await _lookup_in_account(context, order_id, account)
    if not asker.is_lead and not asker.email:
        return ToolResult.error(_NOT_LINKED, not_linked=True)
    order = await context.orders.get(order_id)
    if order is None:
        return ToolResult.error(_NOT_FOUND)
    if not asker.is_lead and order.customer_email.lower() != asker.email:
        # Same words as "not found": the asker learns nothing about other customers' orders.
        return ToolResult.error(_NOT_FOUND, denied=True)
    return ToolResult(
        {"order": _order_view(order)}, order_ids=[order.order_id], order_totals=[order.total]
    )


async def list_my_orders(context: ToolContext, args: ListMyOrdersArgs) -> ToolResult:
    asker = context.asker
    try:
        account = _scope(asker.account, asker.role)
    except _Unlinked:
        return ToolResult.error(_NOT_LINKED, not_linked=True)
    if account is not None:
        # The email narrows only when visible and in the account's domains (identity).
        found = await context.orders.list_for(asker.email, account=account)
        orders = [o for o in found if o.account_id == account]
    elif not asker.email:
        return ToolResult.error(_NOT_LINKED, not_linked=True)
    else:
        orders = await context.orders.list_for(asker.email)
    return ToolResult(
        {"orders": [_order_view(o) for o in orders]}, order_ids=[o.order_id for o in orders]
    )


LOOKUP_ORDER = Tool(
    ToolName.LOOKUP_ORDER,
    "Look up one order by its number: status, items, total, tracking. Only the asker's own "
    "orders are returned.",
    LookupOrderArgs,
    lookup_order,
)

LIST_MY_ORDERS = Tool(
    ToolName.LIST_MY_ORDERS,
    "List the asker's most recent orders (up to 20), newest first.",
    ListMyOrdersArgs,
    list_my_orders,
)
