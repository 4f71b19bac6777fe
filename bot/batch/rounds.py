"""Model calls through the Batch APIs, round by round (`supportbot eval --batch`).

`BatchRounds.wrap` wraps each adapter a `ModelFactory` builds. A wrapped model's `complete()`
queues its request and waits. When every running case (`case_started`, `case_finished`) waits
on a queued call, the queued calls go out, one batch per provider and model: a round (every
case's first call, then every second one, ...). Each batch is polled with a backoff until it
ended; its result lines are stored, and each caller gets its response read by the adapter's
own code, or the adapter's `ProviderError` for a line that is an error.

A call is named by its case (`CALL_SCOPE`, set by the runner in each case's task) and its
index in the case. Stored with the hash of its body, it is never sent twice: a new run over the
same database answers it from its stored result at once, or follows its batch still in flight.
The database must outlive an interruption (and be migrated: tables `model_batch`, `batch_call`).

For full rounds, every case is started before any waits: the runner calls `case_started()` in
each case's task before its first `await` (tasks created together all get there first), with
no cap on the cases running at once (a case waiting for a free slot is not counted, so the
calls of the running ones go without it, in smaller batches).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from bot.agent.models.base import ChatModel, ChatRequest, ModelResponse
from bot.batch import store
from bot.batch.calls import Backoff, BatchProgress, custom_id, request_hash
from bot.batch.models import BatchState
from bot.batch.transport import BatchRequest, BatchStatus, BatchTransport, ResultLine, transport_for
from bot.errors import ProviderError, ProviderFailure
from bot.store.db import Database

log = logging.getLogger(__name__)

# The case a model call is made for ("<suite>/<case id>"): set by the runner in each case's task.
CALL_SCOPE: ContextVar[str] = ContextVar("CALL_SCOPE")

Progress = Callable[[BatchProgress], None]
T = TypeVar("T")

# Failures of a poll that say nothing about the batch: it is polled again after the next delay.
_PASSING = {
    ProviderFailure.TIMEOUT,
    ProviderFailure.CONNECTION,
    ProviderFailure.RATE_LIMITED,
    ProviderFailure.OVERLOADED,
    ProviderFailure.SERVER_ERROR,
}


@dataclass(eq=False)
class _Queued:
    """A call waiting for the next round."""

    scope: str
    request: BatchRequest
    request_hash: str
    answer: asyncio.Future[ResultLine]


@dataclass(eq=False)
class _Flight:
    """A batch sent and not ended yet (or ended in this run): its callers by custom id."""

    round: int
    model: str
    batch_id: str
    transport: BatchTransport
    total: int
    provider_status: str = ""  # as last polled
    waiters: dict[str, list[asyncio.Future[ResultLine]]] = field(default_factory=dict)
    lines: dict[str, ResultLine] | None = None  # once ended
    error: BaseException | None = None  # once failed

    def wait(self, cid: str) -> asyncio.Future[ResultLine]:
        answer: asyncio.Future[ResultLine] = asyncio.get_running_loop().create_future()
        if self.lines is not None:
            _settle(answer, self.lines.get(cid), self.batch_id)
        elif self.error is not None:
            answer.set_exception(self.error)
        else:
            self.waiters.setdefault(cid, []).append(answer)
        return answer


class BatchedModel:
    """An adapter whose calls go through its provider's Batch API (made by `BatchRounds.wrap`)."""

    def __init__(self, rounds: BatchRounds, model: ChatModel, transport: BatchTransport) -> None:
        self.name = model.name
        self._model = model
        self._rounds = rounds
        self._transport = transport

    @property
    def provider(self) -> str:
        return self._model.provider

    async def complete(self, request: ChatRequest) -> ModelResponse:
        return await self._rounds.call(self.name, self._transport, request)


class BatchRounds:
    """Sends the calls of the running cases in rounds of batches; see the module's docstring.

    `progress` is told of each batch sent, of each poll and of its end. One instance per run;
    `close()` at the end (it stops the polling, and waits for a batch being recorded).
    """

    def __init__(
        self, db: Database, progress: Progress | None = None, *, backoff: Backoff | None = None
    ) -> None:
        self._db = db
        self._progress = progress
        self._backoff = backoff or Backoff()
        self._running = 0
        self._round = 0
        self._indexes: dict[str, itertools.count[int]] = {}
        self._queue: dict[tuple[str, str], list[_Queued]] = {}
        self._transports: dict[tuple[str, str], BatchTransport] = {}
        self._flights: dict[str, _Flight] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._recording: set[asyncio.Task[Any]] = set()
        self.replayed = 0  # calls answered from stored results
        self.sent = 0  # calls sent in a batch by this run

    def wrap(self, ref: str, model: ChatModel) -> ChatModel:
        """For `ModelFactory(settings, wrap=rounds.wrap)`."""
        return BatchedModel(self, model, transport_for(model))

    def case_started(self) -> None:
        self._running += 1

    def case_finished(self) -> None:
        self._running -= 1
        self._send_if_all_wait()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._recording, return_exceptions=True)

    async def call(
        self, model: str, transport: BatchTransport, request: ChatRequest
    ) -> ModelResponse:
        """One model call of the case in `CALL_SCOPE`, answered through a batch."""
        try:
            scope = CALL_SCOPE.get()
        except LookupError:
            raise RuntimeError("a batched model call needs CALL_SCOPE set to its case") from None
        index = next(self._indexes.setdefault(scope, itertools.count()))
        body = transport.body(model, request)
        sent = BatchRequest(custom_id(scope, index), body)
        digest = request_hash(transport.provider, body)
        stored = await store.find_call(self._db, sent.custom_id, digest)
        if stored is None:
            line = await self._queued(
                model, transport, _Queued(scope, sent, digest, self._future())
            )
        else:
            self._round = max(self._round, stored.round)
            if stored.result is not None:
                self.replayed += 1
                line = stored.result
            else:
                line = await self._follow(stored, transport).wait(sent.custom_id)
        return replace(transport.response(line), batch=True)

    def _future(self) -> asyncio.Future[ResultLine]:
        return asyncio.get_running_loop().create_future()

    async def _queued(self, model: str, transport: BatchTransport, call: _Queued) -> ResultLine:
        key = (transport.provider, model)
        self._transports[key] = transport
        self._queue.setdefault(key, []).append(call)
        self._send_if_all_wait()
        try:
            return await call.answer
        except asyncio.CancelledError:
            if call in self._queue.get(key, []):
                self._queue[key].remove(call)
            raise

    def _send_if_all_wait(self) -> None:
        waiting = {call.scope for calls in self._queue.values() for call in calls}
        if not waiting or len(waiting) < self._running:
            return
        self._round += 1
        queue, self._queue = self._queue, {}
        for (provider, model), calls in queue.items():
            transport = self._transports[(provider, model)]
            self._spawn(self._send(self._round, model, transport, calls))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(
        self, round_: int, model: str, transport: BatchTransport, calls: list[_Queued]
    ) -> None:
        try:
            # Shielded: a batch the provider took is recorded, even when the run is stopped.
            recording = asyncio.ensure_future(
                self._send_and_record(round_, model, transport, calls)
            )
            self._recording.add(recording)
            recording.add_done_callback(self._recording.discard)
            status = await asyncio.shield(recording)
        except BaseException as exc:
            for call in calls:
                _fail(call.answer, exc)
            if not isinstance(exc, Exception):
                raise
            return  # its callers have the failure
        flight = _Flight(
            round_, model, status.batch_id, transport, len(calls), status.provider_status
        )
        for call in calls:
            flight.waiters.setdefault(call.request.custom_id, []).append(call.answer)
        self._flights[status.batch_id] = flight
        self.sent += len(calls)
        self._report(flight, BatchState.IN_PROGRESS, status)
        await self._poll(flight)

    async def _send_and_record(
        self, round_: int, model: str, transport: BatchTransport, calls: list[_Queued]
    ) -> BatchStatus:
        status = await transport.send(model, [call.request for call in calls])
        sent = [store.SentCall(c.request.custom_id, c.request_hash) for c in calls]
        await store.record_batch(self._db, transport.provider, model, status, round_, sent)
        return status

    def _follow(self, stored: store.StoredCall, transport: BatchTransport) -> _Flight:
        """The flight of a batch sent by an earlier run; polled from now on."""
        flight = self._flights.get(stored.batch_id)
        if flight is None:
            flight = _Flight(
                stored.round, stored.model, stored.batch_id, transport, stored.request_count
            )
            self._flights[stored.batch_id] = flight
            self._spawn(self._poll(flight))
        return flight

    async def _poll(self, flight: _Flight) -> None:
        try:
            status = await self._until_ended(flight)
            lines = await self._passing(lambda: flight.transport.results(flight.batch_id))
            await store.record_results(self._db, flight.batch_id, status.provider_status, lines)
        except BaseException as exc:
            flight.error = exc
            try:
                if isinstance(exc, ProviderError):
                    # No results to be had: forgotten (before its callers go on), so that a
                    # later run sends its calls again.
                    await store.record_failure(self._db, flight.batch_id, flight.provider_status)
            finally:
                for answers in flight.waiters.values():
                    for answer in answers:
                        _fail(answer, exc)
            if not isinstance(exc, Exception):
                raise
            return  # its callers have the failure
        flight.lines = lines
        for cid, answers in flight.waiters.items():
            for answer in answers:
                _settle(answer, lines.get(cid), flight.batch_id)
        self._report(flight, BatchState.ENDED, status)

    async def _until_ended(self, flight: _Flight) -> BatchStatus:
        delays = self._backoff.delays()
        while True:
            await asyncio.sleep(next(delays))
            status = await self._passing(lambda: flight.transport.status(flight.batch_id))
            flight.provider_status = status.provider_status
            await store.record_status(self._db, flight.batch_id, status.provider_status)
            if status.ended:
                return status
            self._report(flight, BatchState.IN_PROGRESS, status)

    async def _passing(self, ask: Callable[[], Awaitable[T]]) -> T:
        """`ask()` again after a backoff while it fails in a passing way (the batch is fine)."""
        delays = self._backoff.delays()
        while True:
            try:
                return await ask()
            except ProviderError as exc:
                if exc.kind not in _PASSING:
                    raise
                log.warning("asking about a batch failed (%s); asking again", exc.kind)
            await asyncio.sleep(next(delays))

    def _report(self, flight: _Flight, state: BatchState, status: BatchStatus) -> None:
        if self._progress is None:
            return
        done = flight.total if state == BatchState.ENDED else status.done
        progress = BatchProgress(
            flight.round,
            flight.transport.provider,
            flight.model,
            flight.batch_id,
            state,
            status.provider_status,
            done,
            flight.total,
        )
        try:
            self._progress(progress)
        except Exception:
            # A broken progress display must not leave the run's calls waiting forever.
            log.exception("the batch progress callback failed")


def _settle(answer: asyncio.Future[ResultLine], line: ResultLine | None, batch_id: str) -> None:
    if answer.done():
        return
    if line is None:
        answer.set_exception(
            ProviderError(ProviderFailure.UNKNOWN, f"batch {batch_id} has no result for the call")
        )
    else:
        answer.set_result(line)


def _fail(answer: asyncio.Future[ResultLine], exc: BaseException) -> None:
    if answer.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        answer.cancel()
    else:
        answer.set_exception(exc)
