"""The batches' state in the database: what was sent in which batch and round, how far each
batch is, and each request's result line once its batch ended (tables in `models.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, select, update

from bot.batch.models import BATCH_CALL, MODEL_BATCH, BatchState
from bot.batch.transport import BatchStatus, ResultLine
from bot.store.db import Database
from bot.store.models import utcnow


@dataclass(frozen=True)
class StoredCall:
    """A request already sent: its batch (the provider's id, round, state), and its result
    line once the batch ended."""

    batch_id: str
    provider: str
    model: str
    round: int
    request_count: int
    result: ResultLine | None


@dataclass(frozen=True)
class SentCall:
    """A request as it goes into a batch: its custom id and the hash of its body."""

    custom_id: str
    request_hash: str


_FIND = (
    select(
        MODEL_BATCH.c.batch_id,
        MODEL_BATCH.c.provider,
        MODEL_BATCH.c.model,
        MODEL_BATCH.c.round,
        MODEL_BATCH.c.request_count,
        BATCH_CALL.c.result,
    )
    .join(MODEL_BATCH, MODEL_BATCH.c.id == BATCH_CALL.c.batch_id)
    .where(
        BATCH_CALL.c.custom_id == bindparam("custom_id"),
        BATCH_CALL.c.request_hash == bindparam("request_hash"),
    )
)
_BATCH_ROW = select(MODEL_BATCH.c.id).where(MODEL_BATCH.c.batch_id == bindparam("batch"))
_SET_RESULT = (
    update(BATCH_CALL)
    .where(BATCH_CALL.c.batch_id == bindparam("row"), BATCH_CALL.c.custom_id == bindparam("cid"))
    .values(result=bindparam("line"))
)


async def find_call(db: Database, custom_id: str, request_hash: str) -> StoredCall | None:
    """The request with this custom id and body, if it was sent before."""
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(_FIND, {"custom_id": custom_id, "request_hash": request_hash})
        ).first()
    return StoredCall(*row) if row else None


async def record_batch(
    db: Database, provider: str, model: str, status: BatchStatus, round_: int, calls: list[SentCall]
) -> None:
    """A batch just sent, with its requests, in one transaction."""
    async with db.engine.begin() as conn:
        inserted = await conn.execute(
            insert(MODEL_BATCH).returning(MODEL_BATCH.c.id),
            {
                "provider": provider,
                "model": model,
                "batch_id": status.batch_id,
                "round": round_,
                "state": BatchState.IN_PROGRESS,
                "provider_status": status.provider_status,
                "request_count": len(calls),
                "created_at": utcnow(),
            },
        )
        row = inserted.scalar_one()
        await conn.execute(
            insert(BATCH_CALL),
            [
                {
                    "batch_id": row,
                    "custom_id": c.custom_id,
                    "request_hash": c.request_hash,
                    "created_at": utcnow(),
                }
                for c in calls
            ],
        )


async def record_status(db: Database, batch_id: str, provider_status: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            update(MODEL_BATCH)
            .where(MODEL_BATCH.c.batch_id == batch_id)
            .values(provider_status=provider_status)
        )


async def record_results(
    db: Database, batch_id: str, provider_status: str, lines: dict[str, ResultLine]
) -> None:
    """An ended batch's result lines, each with its request, in one transaction; a request
    with no line is forgotten, so that a later run sends it again."""
    async with db.engine.begin() as conn:
        row = (await conn.execute(_BATCH_ROW, {"batch": batch_id})).scalar_one()
        if lines:
            await conn.execute(
                _SET_RESULT, [{"row": row, "cid": cid, "line": line} for cid, line in lines.items()]
            )
        await conn.execute(
            delete(BATCH_CALL).where(BATCH_CALL.c.batch_id == row, BATCH_CALL.c.result.is_(None))
        )
        await conn.execute(
            update(MODEL_BATCH)
            .where(MODEL_BATCH.c.id == row)
            .values(state=BatchState.ENDED, provider_status=provider_status, ended_at=utcnow())
        )


async def record_failure(db: Database, batch_id: str, provider_status: str) -> None:
    """A batch that ended without results: its requests are forgotten (sent again later)."""
    async with db.engine.begin() as conn:
        row = (await conn.execute(_BATCH_ROW, {"batch": batch_id})).scalar_one()
        await conn.execute(delete(BATCH_CALL).where(BATCH_CALL.c.batch_id == row))
        await conn.execute(
            update(MODEL_BATCH)
            .where(MODEL_BATCH.c.id == row)
            .values(state=BatchState.FAILED, provider_status=provider_status, ended_at=utcnow())
        )
