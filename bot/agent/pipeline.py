"""From one stored customer message to the bot's reply text, every model call recorded."""

from __future__ import annotations

import dataclasses
import logging

from bot import metrics
from bot.agent import attachments, handoff, intake, replies
from bot.agent.budgets import BudgetExceeded, Budgets
from bot.agent.checks import off_loop
from bot.agent.history import History
from bot.agent.identity import IdentityResolver
from bot.agent.models import ModelFactory
from bot.agent.models.base import ChatMessage, ChatRequest, ImageInput
from bot.agent.models.calls import CallRecord
from bot.agent.prompts import canary_for, render
from bot.agent.tiers import TierResult, escalation_data, run_tier
from bot.agent.tools import Toolbox, ToolOutcome
from bot.agent.tools.base import ToolContext
from bot.config import Settings
from bot.delivery import Reply, Transcript
from bot.errors import ProviderError
from bot.knowledge import KnowledgeBase
from bot.orders import OrderBackend
from bot.slack_clients import SlackClients, file_token
from bot.store import calls, queries
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    ConversationStatus,
    CustomerLink,
    Message,
    MessageVerdict,
    ReplyKind,
    Tier,
)
from bot.store.turns import Turn
from escalation.guards import GuardFinding, check_input
from escalation.intents import asks_for_human
from escalation.policy import (
    Decision,
    Finding,
    InjectionReport,
    ModelTier,
    Reason,
    Situation,
    Verdict,
    before_model,
    decide,
)

log = logging.getLogger(__name__)


class Answerer:
    """Answers one inbound message: checks, primary tier, strong tier, or a person."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        models: ModelFactory,
        orders: OrderBackend,
        identity: IdentityResolver,
        budgets: Budgets,
        knowledge: KnowledgeBase | None = None,
        clients: SlackClients | None = None,  # whose tokens download files (None: no Slack)
    ) -> None:
        self._settings = settings
        self._budgets = budgets
        self._knowledge = knowledge
        self._history = History(
            db, self._summarise_history, settings.history_messages, settings.history_max_chars
        )
        self._db = db
        self._models = models
        self._orders = orders
        self._identity = identity
        self._clients = clients
        self._canary = canary_for(settings)
        self._system = render(
            "system.md.j2",
            company_name=settings.company_name,
            support_policy=settings.support_policy,
            canary=self._canary,
        )
        # Constant too: the primary tier's attempt reaches the strong tier as data.
        self._strong_system = self._system + render("escalation.md.j2")

    @property
    def protected_prompt(self) -> str:
        """The system prompt no reply may quote (the output check's reference): the strong
        tier's, which begins with the primary tier's, so it covers both."""
        return self._strong_system

    @property
    def canary(self) -> str:
        return self._canary

    @property
    def history_window(self) -> int:
        """How many messages of history a turn loads (0: none)."""
        return self._history.window

    async def answer(self, turn: Turn) -> Reply:
        """Answer one message the worker took (with what its turn needs, loaded at once)."""
        message, conversation = turn.message, turn.conversation
        if conversation.status == ConversationStatus.HANDED_OFF:
            return await intake.held(message.text, self._settings.max_message_chars)
        if rate := intake.over_the_rate(self._settings.rate_limit_per_minute, turn.recent):
            return rate
        text = message.text.strip()
        files = await attachments.load(
            message.files,
            await file_token(self._clients, conversation.team_id),
            self._settings.max_image_bytes,
            self._settings.slack_api_url,
        )
        if fixed := intake.without_model(text, files, self._settings.max_message_chars):
            return fixed
        history = await self._history.transcript(message, turn.history)
        reply = await self._answer_text(
            message, conversation, history, text, files.images, turn.link
        )
        if files.notes and reply.text and reply.kind == ReplyKind.ANSWER:
            notes = " ".join(files.notes)
            return dataclasses.replace(reply, text=f"{reply.text}\n\n_{notes}_")
        return reply

    async def _answer_text(
        self,
        message: Message,
        conversation: Conversation,
        history: list[ChatMessage],
        text: str,
        images: list[ImageInput],
        link: CustomerLink | None,
    ) -> Reply:
        policy = self._settings.policy()
        transcript = [*history, ChatMessage("user", text=text, images=images)]
        input_findings = await off_loop(check_input, text)
        complaints = await off_loop(intake.complaints, transcript)
        early = before_model(
            Situation(
                tier=ModelTier.PRIMARY,
                findings=[Finding(f.check, f.rule) for f in input_findings],
                asked_for_human=await off_loop(asks_for_human, text),
                complaints=complaints,
            ),
            policy,
        )
        if early is not None:
            return await self._hand_off(
                message, transcript, early, input_findings, draft="", confidence=None
            )

        asker = await self._identity.resolve_turn(message, conversation, link)
        context = ToolContext(asker, self._orders, self._knowledge)
        toolbox = Toolbox(context, self._settings.tool_output_max_chars)
        try:
            return await self._run_tiers(message, conversation, transcript, toolbox)
        except BudgetExceeded as over:
            if over.budget == "customer":
                return Reply(
                    replies.CUSTOMER_BUDGET, ReplyKind.BUDGET, verdict=MessageVerdict.BUDGET
                )
            verdict = Verdict(Decision.HUMAN, (*over.reasons, Reason.BUDGET))
            return await self._hand_off(
                message,
                transcript,
                verdict,
                over.findings,
                draft=over.draft,
                confidence=None,
                escalated=bool(over.reasons),  # reasons to call the strong tier: it was called
                drafted=over.drafted,
            )

    async def _run_tiers(
        self,
        message: Message,
        conversation: Conversation,
        transcript: list[ChatMessage],
        toolbox: Toolbox,
    ) -> Reply:
        """Primary tier, then the strong tier if the policy says so, then a person."""
        policy = self._settings.policy()
        primary = await self._tier(message, conversation, Tier.PRIMARY, transcript, toolbox, [])
        if (
            primary.loop is not None
            and primary.loop.ending == "not_linked"
            and primary.loop.injection_report == InjectionReport.NONE
        ):
            return Reply(
                replies.not_linked(toolbox.asker.role, toolbox.asker.account is not None),
                ReplyKind.NOT_LINKED,
                Tier.PRIMARY,
                verdict=MessageVerdict.PASSED,
            )
        verdict = decide(primary.situation(), policy)
        taught = primary.transcript(self._system, transcript)
        if verdict.decision == Decision.ANSWER and primary.text:
            return primary.answer(MessageVerdict.PASSED, transcript=taught)
        if verdict.decision == Decision.HUMAN:
            return await self._hand_off(
                message,
                transcript,
                verdict,
                primary.findings,
                draft=primary.text or "",
                confidence=primary.confidence,
                drafted=taught,
            )

        return await self._strong_tier(message, conversation, transcript, toolbox, primary, verdict)

    async def _strong_tier(
        self,
        message: Message,
        conversation: Conversation,
        transcript: list[ChatMessage],
        toolbox: Toolbox,
        primary: TierResult,
        verdict: Verdict,
    ) -> Reply:
        """The strong tier, told why it was called; then an answer or a person. The turn's
        end records the conversation escalated (`Reply.escalated`)."""
        reasons = [str(r) for r in verdict.reasons]
        try:
            strong = await self._tier(
                message,
                conversation,
                Tier.STRONG,
                transcript,
                toolbox,
                reasons,
                primary.text,
                primary.loop.outcomes if primary.loop else [],
            )
        except BudgetExceeded as over:
            over.draft, over.reasons, over.findings = (
                primary.text or "",
                verdict.reasons,
                primary.findings,
            )
            over.drafted = primary.transcript(self._system, transcript)
            raise
        final = decide(strong.situation(), self._settings.policy())
        taught = (strong if strong.text else primary).transcript(self._system, transcript)
        if final.decision == Decision.ANSWER and strong.text:
            verdict_of_message = handoff.verdict_for(verdict.reasons)
            return strong.answer(verdict_of_message, escalated=True, transcript=taught)
        all_reasons = Verdict(Decision.HUMAN, tuple(dict.fromkeys(verdict.reasons + final.reasons)))
        return await self._hand_off(
            message,
            transcript,
            all_reasons,
            primary.findings + strong.findings,
            draft=strong.text or primary.text or "",
            confidence=strong.confidence,
            escalated=True,
            drafted=taught,
        )

    async def hand_off_on_request(
        self, message_id: int, draft: str
    ) -> tuple[Message, Conversation, Reply] | None:
        """The customer asked for a person after an answer (a thumbs-down's button): the
        message, its thread and the notice carrying the handoff; None if a person owns it."""
        message, conversation = await queries.message_and_conversation(self._db, message_id)
        if conversation.status == ConversationStatus.HANDED_OFF:
            return None
        history = await self._history.before(message)
        transcript = [*history, self._history.as_seen(message)]
        verdict = Verdict(Decision.HUMAN, (Reason.CUSTOMER_REQUEST,))
        notice = await self._hand_off(
            message, transcript, verdict, [], draft=draft, confidence=None
        )
        return message, conversation, notice

    async def _tier(
        self,
        message: Message,
        conversation: Conversation,
        tier: Tier,
        transcript: list[ChatMessage],
        toolbox: Toolbox,
        reasons: list[str],
        draft: str | None = None,
        earlier: list[ToolOutcome] | None = None,
    ) -> TierResult:
        """Run one tier; the strong tier is told why it was called and what the primary tier
        drafted and looked up, in a data message before the customer's (never in `system`)."""
        system, history = self._system, transcript
        if tier == Tier.STRONG:
            system = self._strong_system
            data = escalation_data(reasons, draft or "", earlier or [])
            history = [*transcript[:-1], data, transcript[-1]]

        async def record(call: CallRecord) -> None:
            await self.record_call(message, call, ",".join(reasons))

        async def gate() -> None:
            await self._budgets.check(conversation, message.user_id, strong=tier == Tier.STRONG)

        result = await run_tier(
            self._models.chain(tier),
            tier=tier,
            system=system,
            canary=self._canary,
            history=history,
            toolbox=toolbox,
            asker_email=toolbox.asker.email,
            max_steps=self._settings.max_tool_steps,
            max_tokens=self._settings.max_output_tokens,
            record=record,
            gate=gate,
        )
        if denied := result.situation().denied_tool_calls:
            # For operators (probes for order numbers); the asker sees a missing order.
            log.warning(
                "message %s: refused %d lookup(s) of another customer's order", message.id, denied
            )
        return result

    async def _hand_off(
        self,
        message: Message,
        transcript: list[ChatMessage],
        verdict: Verdict,
        findings: list[GuardFinding],
        *,
        draft: str,
        confidence: float | None,
        escalated: bool = False,
        drafted: Transcript | None = None,
    ) -> Reply:
        """A person takes over; `drafted` is what the model that wrote `draft` did."""

        async def summarise(transcript: list[ChatMessage], reasons: list[str], draft: str) -> str:
            return await self._summarise(message, transcript, reasons, draft)

        notice = await handoff.hand_off(
            message.conversation_id,
            transcript,
            verdict,
            findings,
            summarise,
            draft=draft,
            confidence=confidence,
            escalated=escalated,
        )
        return dataclasses.replace(notice, transcript=drafted)

    async def _summarise(
        self, message: Message, transcript: list[ChatMessage], reasons: list[str], draft: str
    ) -> str:
        """A short handoff summary by the primary tier; a plain fallback if it cannot."""
        prompt = render(
            "handoff_summary.md.j2", transcript=transcript, reasons=reasons, draft=draft
        )
        text = await self.write_text(
            message,
            "You write short, factual handoff notes for support leads.",
            prompt,
            purpose="handoff_summary",
        )
        return text or "(No summary: the model was unavailable or said nothing.)"

    async def _summarise_history(self, message: Message, system: str, prompt: str) -> str | None:
        return await self.write_text(message, system, prompt, purpose="history_summary")

    async def write_text(
        self, message: Message, system: str, prompt: str, *, purpose: str, max_tokens: int = 300
    ) -> str | None:
        """A plain completion by the primary tier (no tools), recorded like every call;
        None when every model of the chain failed."""

        async def record(call: CallRecord) -> None:
            await self.record_call(message, call, purpose)

        chain = self._models.chain(Tier.PRIMARY).reporting(record, tier=Tier.PRIMARY)
        try:
            prompted = [ChatMessage("user", text=prompt)]
            resp = await chain.complete(
                ChatRequest(system, prompted, [], require_tool=False, max_tokens=max_tokens)
            )
        except ProviderError:
            return None
        return resp.text.strip() or None

    async def record_call(self, message: Message, call: CallRecord, reasons: str = "") -> None:
        """Store one model call and add its cost to the thread's total, in one transaction."""
        overrides = self._settings.price_overrides
        metrics.model_call(
            call, await calls.record_call(self._db, message, call, reasons, overrides)
        )
