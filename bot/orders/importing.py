"""`supportbot orders import`: order files (JSON or CSV) into the embedded order store, and
the demo orders a fresh embedded store starts with."""

from __future__ import annotations

import csv
import io
import json
from importlib.resources import files

from pydantic import ValidationError

from bot.orders.record import OrderRecord
from bot.orders.sql import has_orders, save_orders
from bot.store.db import Database


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
    await save_orders(db, records, replace=replace)
    return len(records)


async def import_demo_orders(db: Database) -> None:
    """The bundled demo orders, when the embedded store holds no order yet."""
    if await has_orders(db):
        return
    demo = files("bot.data").joinpath("demo_orders.json").read_text(encoding="utf-8")
    await import_orders(db, parse_order_file(demo, "demo_orders.json"), replace=False)
