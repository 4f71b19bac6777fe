"""Money: exact amounts at the cost columns' precision, and dollars as people read them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

_PLACES = Decimal("1e-10")  # the precision of the cost columns
_CENT = Decimal("0.01")


def usd(value: Any) -> Decimal:
    """A cost as an exact Decimal at the columns' precision, without trailing zeros."""
    if value is None:
        return Decimal(0)
    amount = value if isinstance(value, Decimal) else Decimal(repr(value))
    return Decimal(format(amount.quantize(_PLACES).normalize(), "f"))


def format_usd(value: Decimal | None, *, cents_from: Decimal = Decimal(1)) -> str:
    """Dollars for people: cents from `cents_from` up (a dollar by default, so the tiny costs of
    single calls keep four places above a cent), six places below a cent; None is unknown."""
    if value is None:
        return "unknown"
    if value == 0:
        return "$0.00"
    if abs(value) >= cents_from:
        return f"${value:,.2f}"
    if abs(value) >= _CENT:
        return f"${value:.4f}"
    return f"${value:.6f}"


def format_budget_usd(amount: Decimal) -> str:
    """A budget's limit or spend: dollars with cents, or six places for less than a cent."""
    return format_usd(amount, cents_from=_CENT)
