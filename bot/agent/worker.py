"""Background answering: take a stored message, answer it, finish the turn, post the reply.

A claim names its holder, this process (`bot/store/holders.py`); it is never renewed and never
runs out. A sweep (at start, then every `SUPPORTBOT_SWEEP_SECONDS`) asks which holders of
claims are dead and releases their claims (back to pending, back to be posted), then submits
the pending messages and posts the due outbox rows: a restarted process, or a surviving
replica, takes up a dead one's work within a sweep, and a slow living holder is never
overtaken. Finishing a turn is fenced by holder and claim time (`bot/store/turns.py`), and
writes the reply as an outbox row this process holds and posts at once (`bot/poster.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

from bot import log_context, metrics
from bot.agent import handoff, replies
from bot.agent.pipeline import Answerer
from bot.clock import SYSTEM_CLOCK, Clock
from bot.delivery import Reply
from bot.poster import LeadsChannel, Poster
from bot.sla.sweep import SlaSweep
from bot.store import claims, reply_rows, turns
from bot.store.db import Database
from bot.store.holders import Holders
from bot.store.models import Conversation, ReplyKind, utcnow

log = logging.getLogger(__name__)


class _Acknowledging:
    """Counts the Slack requests being acknowledged, so that answers can let them go first.

    Slack retries a request it has not seen acknowledged within 3 s, while an answer can
    wait a moment: in a burst, answers not yet started wait until no request has been in
    hand for `_ACK_GRACE_SECONDS` (at most `_ACK_PRIORITY_SECONDS`), instead of sharing the
    event loop with the acknowledgements. The grace bridges the gaps between one request
    and the next of a burst; after a lone request there is none to wait for."""

    def __init__(self) -> None:
        self._count = 0
        self._peak = 0  # the most requests in hand at once since the answers were let go
        self._ended = 0  # requests ended so far: a grace check knows if a later one ended
        self._quiet = asyncio.Event()
        self._quiet.set()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        self._count += 1
        self._peak = max(self._peak, self._count)
        self._quiet.clear()
        try:
            yield
        finally:
            self._count -= 1
            self._ended += 1
            if not self._count:
                if self._peak <= 1:
                    self._open()
                else:
                    asyncio.get_running_loop().call_later(
                        _ACK_GRACE_SECONDS, self._open_if_last, self._ended
                    )

    def _open_if_last(self, ended: int) -> None:
        # a request that started and ended since scheduled a check of its own
        if not self._count and ended == self._ended:
            self._open()

    def _open(self) -> None:
        self._peak = 0
        self._quiet.set()

    @property
    def count(self) -> int:
        return self._count

    async def quiet(self, limit: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), limit)


# Slack allows 3 s for an acknowledgement; past 2 s of waiting, answers start regardless (a
# steady stream of requests must not starve them).
_ACK_PRIORITY_SECONDS = 2.0
_ACK_GRACE_SECONDS = 0.1
# A claim this process holds with no task on it is released by its sweep once it is this old:
# a post written held is given to its poster a moment after the write commits.
OWN_CLAIM_GRACE = timedelta(seconds=30)


class Worker:
    def __init__(
        self,
        db: Database,
        answerer: Answerer,
        poster: Poster,
        holders: Holders,
        *,
        leads_channel: LeadsChannel,
        sweep_seconds: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        sla: SlaSweep | None = None,
    ) -> None:
        self._db = db
        self._answerer = answerer
        self._poster = poster
        self._holders = holders
        self._leads_channel = leads_channel  # of a workspace (`Workspaces.leads_channel`)
        self._sweep_seconds = sweep_seconds
        self._clock = clock  # an answer stops its ticket's SLA clock at this time
        self._sla = sla  # reminders and breaches, in each sweep
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()
        self._again: set[int] = set()  # submitted again while in flight: run once more
        self._acknowledging = _Acknowledging()

    @property
    def poster(self) -> Poster:
        return self._poster

    def acknowledging(self) -> contextlib.AbstractContextManager[None]:
        """Wrap the handling of each Slack request in this: answers not yet started wait
        while requests are being acknowledged."""
        return self._acknowledging.request()

    def submit(self, message_id: int) -> None:
        """Answer in the background; the caller (a Slack listener) returns at once."""
        if message_id in self._in_flight:
            # it may be failing its claim right now, behind the message that just finished
            self._again.add(message_id)
            return
        self._in_flight.add(message_id)
        task = asyncio.create_task(self._run(message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, message_id: int) -> None:
        try:
            await self._acknowledging.quiet(_ACK_PRIORITY_SECONDS)
            await self.process(message_id)
        except Exception:
            log.exception("message %s could not be processed", message_id)
        finally:
            self._in_flight.discard(message_id)
            if message_id in self._again:
                self._again.discard(message_id)
                self.submit(message_id)

    async def drain(self) -> None:
        """Wait for every answer in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def sweep(self) -> int:
        """Release the claims of dead holders, submit the pending messages, post the due
        outbox rows (and give up the expired ones), then the SLA reminders and breaches due;
        the number of messages submitted."""
        await self._release_own()
        held = await claims.holders(self._db) - {self._holders.me}
        dead = await self._holders.dead(held) if held else set()
        if dead:
            messages, posts = await claims.release(self._db, dead)
            log.warning(
                "released %d message(s) and %d post(s) of %d dead process(es)",
                messages,
                posts,
                len(dead),
            )
        ids = await claims.unfinished(self._db)
        for message_id in ids:
            self.submit(message_id)
        if ids:
            log.info("taking up %d unanswered message(s)", len(ids))
        await self._poster.sweep()
        if self._sla is not None:
            await self._sla.sweep()
        return len(ids)

    async def _release_own(self) -> None:
        """This process's claims that no task of it works on any more (a write that failed
        after the work) go back to be taken: a living holder never keeps a claim idle."""
        before = utcnow() - OWN_CLAIM_GRACE
        messages, posts = await claims.release_own(
            self._db, self._holders.me, self._in_flight, self._poster.in_hand, before
        )
        if messages or posts:
            log.warning("released %d message(s) and %d post(s) left idle here", messages, posts)

    async def sweep_forever(self) -> None:
        """Sweep now (a restarted process takes up its dead predecessor's work at once) and
        every `sweep_seconds`."""
        while True:
            try:
                await self.sweep()
                metrics.backlog(*await claims.waiting(self._db))
            except Exception:
                log.exception("the sweep failed; retrying")
            await asyncio.sleep(self._sweep_seconds)

    async def process(self, message_id: int) -> None:
        """Take the message, answer it, finish the turn, post the reply; then the thread's
        next message, if it came while this one was being answered."""
        window = self._answerer.history_window
        turn = await turns.take_turn(self._db, message_id, self._holders.me, window)
        if turn is None:
            return  # another replica (or an earlier delivery) has it, or it waits its turn
        log_context.conversation_id.set(turn.message.conversation_id)
        reply = await self._answer(turn)
        try:
            team = turn.conversation.team_id  # its leads are told only of a handoff
            leads = await self._leads_channel(team) if reply.handoff is not None else ""
            finished = await turns.finish_turn(
                self._db, turn, reply, leads, responded_at=self._clock()
            )
        except Exception:
            # Not left held by this living process: a sweep takes it up again.
            with contextlib.suppress(Exception):
                await turns.give_back(self._db, turn)
            raise
        if finished is None:
            log.warning("message %s: its claim was released while answering", message_id)
            return
        if finished.held:
            metrics.answered(reply.tier, ReplyKind.HELD, None)
            await self._clear_thinking(turn.conversation, message_id)
        else:
            metrics.answered(reply.tier, reply.kind, turn.message.created_at)
            if reply.handoff is not None:
                handoff.recorded(turn.message.conversation_id, reply.handoff)
        await self._poster.post(finished.posts)
        if finished.next_message is not None:
            log_context.event_id.set(None)  # it came with an event of its own
            self.submit(finished.next_message)

    async def _answer(self, turn: turns.Turn) -> Reply:
        """The reply to the turn's message; an apology when answering failed."""
        # The thinking status goes out while the answer is prepared (one Slack round trip
        # less before the model is called); the reply waits for it, or the status would
        # come after the reply and stay.
        thinking = asyncio.create_task(self._show_thinking(turn.conversation, turn.message.id))
        try:
            reply = await self._answerer.answer(turn)
        except asyncio.CancelledError:
            thinking.cancel()
            raise
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("answering message %s failed [error %s]", turn.message.id, error_id)
            reply = Reply(replies.apology(error_id), ReplyKind.APOLOGY)
        await thinking
        return reply

    async def hand_off_on_request(self, message_id: int, draft: str) -> bool:
        """The customer asked for a person after an answer (a thumbs-down's button): the
        handoff is stored with its notice and leads post, which are posted; False if a person
        already owns the thread."""
        found = await self._answerer.hand_off_on_request(message_id, draft)
        if found is None:
            return False
        message, conversation, notice = found
        leads_channel = await self._leads_channel(conversation.team_id)
        posts = await reply_rows.hand_off_on_request(
            self._db, message, conversation, notice, self._holders.me, leads_channel
        )
        if posts is None:
            return False
        assert notice.handoff is not None
        handoff.recorded(message.conversation_id, notice.handoff)
        await self._poster.post(posts)
        return True

    async def _show_thinking(self, conversation: Conversation, message_id: int | None) -> None:
        try:
            await self._poster.sender.thinking(conversation)
        except Exception:
            log.warning("could not show the thinking status for message %s", message_id)

    async def _clear_thinking(self, conversation: Conversation, message_id: int) -> None:
        try:
            await self._poster.sender.clear_thinking(conversation)
        except Exception:
            log.warning("could not clear the thinking status for message %s", message_id)
