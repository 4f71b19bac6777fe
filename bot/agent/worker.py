"""Background answering: claim a stored message, answer, deliver, record.

A claim is a lease: the worker renews it while it answers, and a sweeper (on start and then
periodically) re-takes pending messages and messages whose lease ran out because the process
holding them died. Claims are single conditional UPDATEs, so replicas never share a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot import log_context, metrics
from bot.agent import replies
from bot.agent.pipeline import Answerer, Reply
from bot.errors import ReplyNotPosted
from bot.store import escalations, queries
from bot.store.db import Database
from bot.store.models import Conversation, Message, MessageStatus, ReplyKind, Tier, utcnow

log = logging.getLogger(__name__)


class Delivery(Protocol):
    """Where replies go: Slack in production, the terminal for `supportbot chat`."""

    async def thinking(self, conversation: Conversation) -> None:
        """Show that an answer is being prepared (Slack's thinking status)."""
        ...

    async def send(self, conversation: Conversation, reply: Reply, start: int = 0) -> str | None:
        """Post the reply in the conversation's thread, from piece `start` on when it is
        split; returns the posted message's ts, or raises `ReplyNotPosted`.

        A reply without text posts nothing and only clears the thinking status."""
        ...

    async def notify_leads(self, escalation_id: int) -> None:
        """Tell the support leads about a new escalation."""
        ...

    async def alert_leads(self, text: str) -> None:
        """Tell the support leads something that needs no action button (budgets)."""
        ...


@dataclass
class _Lease:
    """This process's claim on one message: its fencing token (renewals compare and set it),
    whether the answer is done, and whether the claim was lost to another process."""

    message_id: int
    token: datetime
    lost: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # The renewer and the delivery both renew: one compare-and-set at a time.
    renewing: asyncio.Lock = field(default_factory=asyncio.Lock)


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


# How long a reply Slack refused is tried again (past that, a late answer would confuse).
REDELIVERY_WINDOW = timedelta(hours=1)
# Slack allows 3 s for an acknowledgement; past 2 s of waiting, answers start regardless (a
# steady stream of requests must not starve them).
_ACK_PRIORITY_SECONDS = 2.0
_ACK_GRACE_SECONDS = 0.1


class Worker:
    def __init__(
        self, db: Database, answerer: Answerer, delivery: Delivery, claim_timeout: float = 60.0
    ) -> None:
        self._db = db
        self._answerer = answerer
        self._delivery = delivery
        self._lease = timedelta(seconds=claim_timeout)
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()
        self._again: set[int] = set()  # submitted again while in flight: run once more
        self._acknowledging = _Acknowledging()

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
            # The message stays claimed; once the claim runs out the sweeper takes it up again.
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

    async def resume(self) -> int:
        """Take up what was acknowledged but not answered (pending, or its lease ran out)."""
        ids = await queries.unfinished(self._db, self._lease)
        for message_id in ids:
            self.submit(message_id)
        if ids:
            log.info("taking up %d unanswered message(s)", len(ids))
        return len(ids)

    async def sweep_forever(self) -> None:
        """Resume now and every half lease, so a dead replica's work is never stranded; post
        again the replies Slack refused."""
        while True:
            try:
                await self.resume()
                await self.redeliver()
                metrics.backlog(*await queries.waiting(self._db))
            except Exception:
                log.exception("the sweep for unanswered messages failed; retrying")
            await asyncio.sleep(self._lease.total_seconds() / 2)

    async def redeliver(self) -> int:
        """Post the replies that Slack refused even after its retries (recorded `failed`), at
        most once a lease each and for `REDELIVERY_WINDOW` after the reply was written;
        the number posted. Of a reply split in pieces, only the pieces not yet posted go out."""
        now = utcnow()
        taken = await queries.take_undelivered(self._db, now - REDELIVERY_WINDOW, now - self._lease)
        posted = 0
        for item in taken:
            if await self.post_stored(item):
                log.info("message %s: its reply was posted on a later try", item.message_id)
                posted += 1
        await self._give_up(now - REDELIVERY_WINDOW, now - self._lease)
        return posted

    async def _give_up(self, written_before: datetime, stale_before: datetime) -> None:
        """Replies still refused at the end of the window are given up; a lead whose answer it
        was hears of it in the leads channel, since the customer never got it."""
        given_up = await queries.give_up_undelivered(self._db, written_before, stale_before)
        for item in given_up:
            log.warning("message %s: its reply was given up, Slack refused it", item.message_id)
            if item.tier != Tier.HUMAN:
                continue
            try:
                esc = await escalations.for_message(self._db, item.message_id)
                who = f" (sent by <@{esc.lead_user_id}>)" if esc and esc.lead_user_id else ""
                case = f"escalation #{esc.id}" if esc else "an escalation"
                await self._delivery.alert_leads(
                    f"The answer to {case}{who} never reached the customer: Slack refused it"
                    " for an hour, and the bot has stopped trying. Please reach the customer"
                    " another way."
                )
            except Exception:
                log.exception("telling the leads about message %s failed", item.message_id)

    async def post_stored(self, item: queries.Undelivered) -> bool:
        """Post a stored reply that is not posted yet, from the first piece Slack has not
        taken, and record it posted (the message answered, unless another reply to it is still
        waiting). False if Slack refused it: the sweeper tries again a lease after this refusal.

        While Slack takes its time (retries, Retry-After), the reply stays taken, so that no
        other sweep takes it up and posts it a second time."""
        reply = Reply(item.text, ReplyKind(item.kind or ReplyKind.ANSWER), item.tier)
        token = item.token
        if token is not None:
            # Still ours? A sweep takes a batch, and the posts before this one took time.
            token = await queries.renew_claim(
                self._db, item.message_id, token, MessageStatus.FAILED
            )
            if token is None:
                return False
        posting = asyncio.ensure_future(
            self._delivery.send(item.conversation, reply, item.posted_pieces)
        )
        try:
            while not posting.done():
                await asyncio.wait({posting}, timeout=self._lease.total_seconds() / 3)
                if not posting.done() and token is not None:
                    try:
                        token = await queries.renew_claim(
                            self._db, item.message_id, token, MessageStatus.FAILED
                        )
                    except Exception:
                        log.exception("keeping message %s's reply taken failed", item.message_id)
        finally:
            posting.cancel()  # when this task is cancelled; a no-op once the post is done
        try:
            ts = posting.result()
        except Exception as exc:
            log.warning("message %s: its reply cannot be posted yet", item.message_id)
            if token is not None or item.token is None:  # not when another took it meanwhile
                posted = exc.posted if isinstance(exc, ReplyNotPosted) else 0
                await queries.note_refused(self._db, item, posted)
            return False
        await queries.mark_delivered(self._db, item, ts)
        return True

    async def process(self, message_id: int) -> None:
        claimed = await queries.claim(self._db, message_id, utcnow() - self._lease)
        if claimed is None:
            return  # another replica (or an earlier delivery) has it
        lease = _Lease(message_id, claimed.token)
        log_context.conversation_id.set(claimed.message.conversation_id)
        renewer = asyncio.create_task(self._keep(lease))
        try:
            await self._answer(lease, claimed.message, claimed.conversation)
        finally:
            lease.done.set()
            await renewer
        # the thread's next message, if it came while this one was being answered
        following = await queries.next_waiting(self._db, claimed.message.conversation_id)
        if following is not None:
            log_context.event_id.set(None)  # it came with an event of its own
            self.submit(following)

    async def _keep(self, lease: _Lease) -> None:
        """Renew the claim every third of the lease until the answer is done (never cancelled
        in the middle of a database call)."""
        while not lease.done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lease.done.wait(), self._lease.total_seconds() / 3)
            if lease.done.is_set() or not await self._renew(lease):
                return

    async def _renew(self, lease: _Lease) -> bool:
        """Extend the claim; False once another process holds it."""
        async with lease.renewing:
            if lease.lost:
                return False
            try:
                renewed = await queries.renew_claim(self._db, lease.message_id, lease.token)
            except Exception:
                log.exception("renewing the claim on message %s failed", lease.message_id)
                return True  # the claim may still hold; try again
            if renewed is None:
                lease.lost = True
                log.warning("the claim on message %s ran out; another has it", lease.message_id)
                return False
            lease.token = renewed
            return True

    async def _answer(self, lease: _Lease, message: Message, conversation: Conversation) -> None:
        message_id = lease.message_id
        # The thinking status goes out while the answer is prepared (one Slack round trip
        # less before the model is called); the reply waits for it, or the status would
        # come after the reply and stay.
        thinking = asyncio.create_task(self._show_thinking(conversation, message_id))
        try:
            reply = await self._answerer.answer(message, conversation)
        except asyncio.CancelledError:
            thinking.cancel()
            raise
        except Exception:
            await thinking
            error_id = uuid.uuid4().hex[:8]
            log.exception("answering message %s failed [error %s]", message_id, error_id)
            reply = Reply(replies.apology(error_id), ReplyKind.APOLOGY)
            await self._deliver(lease, message, conversation, reply, failed=True)
            return
        await thinking
        if reply.text is None:
            async with lease.renewing:  # not while a renewal moves the token
                await queries.hold(self._db, message_id, lease.token, reply.verdict)
            metrics.answered(reply.tier, ReplyKind.HELD, None)
            try:
                await self._delivery.send(conversation, reply)  # clears the thinking status
            except Exception:
                log.warning("could not clear the thinking status for message %s", message_id)
            return
        if not await self._deliver(lease, message, conversation, reply, failed=False):
            return
        if reply.escalation_id is not None:
            try:
                await self._delivery.notify_leads(reply.escalation_id)
            except Exception:
                error_id = uuid.uuid4().hex[:8]
                log.exception(
                    "posting escalation %s for leads failed [error %s]",
                    reply.escalation_id,
                    error_id,
                )

    async def _show_thinking(self, conversation: Conversation, message_id: int) -> None:
        try:
            await self._delivery.thinking(conversation)
        except Exception:
            log.warning("could not show the thinking status for message %s", message_id)

    async def _deliver(
        self,
        lease: _Lease,
        message: Message,
        conversation: Conversation,
        reply: Reply,
        *,
        failed: bool,
    ) -> bool:
        """Post the reply and record it, unless the claim was lost meanwhile (then the process
        that holds it answers, and this one stays silent). True when this process answered."""
        message_id = lease.message_id
        if lease.lost or not await self._renew(lease):
            log.warning("message %s: not answering, its claim was lost", message_id)
            return False
        # Posted, then stored with the message answered; or failed if Slack refused it (the
        # sweeper posts it later, from the first piece Slack did not take).
        assert reply.text is not None
        ts, posted = None, 0
        try:
            ts = await self._delivery.send(conversation, reply)
        except Exception as exc:
            error_id = uuid.uuid4().hex[:8]
            log.exception("posting the reply to message %s failed [error %s]", message_id, error_id)
            failed = True
            posted = exc.posted if isinstance(exc, ReplyNotPosted) else 0
        async with lease.renewing:  # not while a renewal moves the token
            closed = await queries.finish(
                self._db,
                message,
                lease.token,
                reply_text=reply.text,
                reply_ts=ts,
                status=MessageStatus.FAILED if failed else MessageStatus.ANSWERED,
                tier=reply.tier,
                kind=reply.kind,
                posted_pieces=posted,
                verdict=reply.verdict,
            )
        if not closed:
            log.warning("message %s: its claim was taken over while answering", message_id)
            return True
        metrics.answered(reply.tier, reply.kind, message.created_at)
        return True
