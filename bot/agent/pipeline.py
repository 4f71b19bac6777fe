"""From one stored customer message to the bot's reply text, every model call recorded."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import col, select

from bot.agent import replies
from bot.agent.identity import IdentityResolver
from bot.agent.loop import CallRecord, LoopResult, run_tool_loop
from bot.agent.models import ModelFactory
from bot.agent.models.base import ChatMessage
from bot.agent.prompts import render
from bot.agent.tools import Toolbox
from bot.agent.tools.orders import OrderBackend
from bot.config import Settings
from bot.store.db import Database
from bot.store.models import Conversation, Message, MessageRole, ModelCall, Tier, utcnow
from bot.store.pricing import call_cost

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    text: str
    kind: str  # answer | greeting | too_long | not_linked | no_answer
    confidence: float | None = None


def canary_for(settings: Settings) -> str:
    """A marker in the system prompt that must never reach a customer; stable per install."""
    seed = f"{settings.company_name}|{settings.slack_signing_secret}|supportbot-canary"
    return "cnry-" + hashlib.sha256(seed.encode()).hexdigest()[:16]


class Answerer:
    """Runs the primary tier on one inbound message and returns the reply to send."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        models: ModelFactory,
        orders: OrderBackend,
        identity: IdentityResolver,
    ) -> None:
        self._settings = settings
        self._db = db
        self._models = models
        self._orders = orders
        self._identity = identity
        self._system = render(
            "system.md.j2",
            company_name=settings.company_name,
            support_policy=settings.support_policy,
            canary=canary_for(settings),
        )

    async def answer(self, message_id: int) -> Reply:
        message, history = await self._load(message_id)
        text = message.text.strip()
        if not text:
            return Reply(replies.GREETING, "greeting")
        limit = self._settings.max_message_chars
        if len(text) > limit:
            return Reply(replies.too_long(len(text), limit), "too_long")
        asker = await self._identity.resolve(message.user_id)
        model = self._models.build(self._settings.primary_model)
        toolbox = Toolbox(self._orders, asker, self._settings.tool_output_max_chars)

        async def record(call: CallRecord) -> None:
            await self.record_call(message, call)

        result: LoopResult = await run_tool_loop(
            model,
            tier=Tier.PRIMARY,
            system=self._system,
            history=[*history, ChatMessage("user", text=text)],
            toolbox=toolbox,
            max_steps=self._settings.max_tool_steps,
            max_tokens=self._settings.max_output_tokens,
            record=record,
        )
        if result.ending == "not_linked":
            return Reply(replies.NOT_LINKED, "not_linked")
        if not result.text:
            return Reply(replies.NO_ANSWER, "no_answer")
        return Reply(result.text, "answer", result.confidence)

    async def _load(self, message_id: int) -> tuple[Message, list[ChatMessage]]:
        async with self._db.session() as s:
            message = await s.get(Message, message_id)
            if message is None:
                raise LookupError(f"message {message_id} does not exist")
            rows = await s.exec(
                select(Message)
                .where(
                    col(Message.conversation_id) == message.conversation_id,
                    col(Message.id) < message_id,
                )
                .order_by(col(Message.id).desc())
                .limit(self._settings.history_messages)
            )
            earlier = list(rows)[::-1]
        history = [
            ChatMessage("assistant" if m.role == MessageRole.ASSISTANT else "user", text=m.text)
            for m in earlier
            if m.text.strip()
        ]
        return message, history

    async def record_call(self, message: Message, call: CallRecord) -> None:
        """Store one model call and add its cost to the thread's total, in one transaction."""
        cost = call_cost(
            call.provider,
            call.model,
            input_tokens=call.usage.input_tokens,
            cached_input_tokens=call.usage.cached_input_tokens,
            cache_write_tokens=call.usage.cache_write_tokens,
            output_tokens=call.usage.output_tokens,
        )
        async with self._db.session() as s:
            s.add(
                ModelCall(
                    conversation_id=message.conversation_id,
                    message_id=message.id,
                    provider=call.provider,
                    model=call.model,
                    tier=call.tier,
                    input_tokens=call.usage.input_tokens,
                    cached_input_tokens=call.usage.cached_input_tokens,
                    cache_write_tokens=call.usage.cache_write_tokens,
                    output_tokens=call.usage.output_tokens,
                    cost_usd=cost,
                    latency_ms=call.latency_ms,
                    outcome=call.outcome,
                    stop_reason=call.stop_reason,
                    confidence=call.confidence,
                    usage_raw=call.usage_raw,
                )
            )
            values: dict[str, object] = {"updated_at": utcnow()}
            if cost is not None:
                values["total_cost_usd"] = col(Conversation.total_cost_usd) + cost
            await s.exec(
                update(Conversation)
                .where(col(Conversation.id) == message.conversation_id)
                .values(**values)
            )
            await s.commit()
