"""An order as the HTTP order service contract (DESIGN section 4) defines it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


class OrderItem(BaseModel):
    name: str
    quantity: int
    price: Decimal


class OrderRecord(BaseModel):
    """One order, whichever backend it came from."""

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
    # The order service's account (a customer organisation) the order belongs to.
    account_id: str | None = None
