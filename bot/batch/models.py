"""The batch tables (schema 0012): each batch sent to a Batch API, and each request in it with
its result once the batch ended, so that an interrupted run resumes (`bot/batch/store.py`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class BatchState(StrEnum):
    """Where a batch is, as we keep it (the provider's own word is `provider_status`)."""

    IN_PROGRESS = "in_progress"  # sent; its results are not in yet
    ENDED = "ended"  # its results are stored with its requests
    FAILED = "failed"  # it ended without results; its requests were forgotten, to send again


class ModelBatch(SQLModel, table=True):
    """One batch sent to a provider's Batch API: the requests of one round for one model."""

    __tablename__ = "model_batch"
    __table_args__ = (UniqueConstraint("batch_id", name="uq_model_batch_batch_id"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=32)
    model: str = Field(max_length=128)
    batch_id: str = Field(max_length=128)  # the provider's id of the batch
    round: int  # the run's n-th round of calls (every case's n-th call, roughly)
    state: str = Field(default=BatchState.IN_PROGRESS, max_length=16)
    provider_status: str = Field(default="", max_length=32)
    request_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class BatchCall(SQLModel, table=True):
    """One request in a batch; the same request (its custom id and the hash of its body) is
    never sent again: its stored result answers it."""

    __tablename__ = "batch_call"
    __table_args__ = (UniqueConstraint("custom_id", "request_hash", name="uq_batch_call"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="model_batch.id", index=True)
    custom_id: str = Field(max_length=64)  # the case's scope and the call's index in it
    request_hash: str = Field(max_length=64)  # sha256 of the provider and the request's body
    # The batch's result line for it, as the provider wrote it (a response or an error).
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


MODEL_BATCH: Any = ModelBatch.__table__  # type: ignore[attr-defined]
BATCH_CALL: Any = BatchCall.__table__  # type: ignore[attr-defined]
