"""The order tools: one order by its number, and the asker's recent orders. Authorization is
checked here, in code: a customer sees only their own orders, a lead any."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

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


async def lookup_order(context: ToolContext, args: LookupOrderArgs) -> ToolResult:
    asker = context.asker
    if not asker.is_lead and not asker.email:
        return ToolResult.error(_NOT_LINKED, not_linked=True)
    order = await context.orders.get(args.order_id.strip().lstrip("#"))
    if order is None:
        return ToolResult.error(_NOT_FOUND)
    if not asker.is_lead and order.customer_email.lower() != asker.email:
        # Same words as "not found": the asker learns nothing about other customers' orders.
        return ToolResult.error(_NOT_FOUND, denied=True)
    return ToolResult(
        {"order": _order_view(order)}, order_ids=[order.order_id], order_totals=[order.total]
    )


async def list_my_orders(context: ToolContext, args: ListMyOrdersArgs) -> ToolResult:
    email = context.asker.email
    if not email:
        return ToolResult.error(_NOT_LINKED, not_linked=True)
    orders = await context.orders.list_for(email)
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
