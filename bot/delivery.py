"""What the bot tells a customer (`Reply`), and how posts leave (`Sender`).

The pipeline decides a `Reply`; the store writes it with the turn as an outbox row
(`bot/store/outbox.py`); the poster (`bot/poster.py`) posts outbox rows through a `Sender`
(Slack's in `bot/slack_out.py`, the terminal's for `supportbot chat`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.store.models import Conversation, Escalation, MessageVerdict, ReplyKind, Tier


@dataclass(frozen=True)
class Handoff:
    """A thread handed to the support leads: the escalation the turn's end records."""

    reasons: list[str]
    confidence: float | None
    findings: list[dict[str, str]]
    summary: str
    draft: str


@dataclass(frozen=True)
class Transcript:
    """What a model did in a turn whose answer (or draft for a lead) it wrote, as the turn's
    end stores it (`turn_transcript`) for `supportbot export finetune`: the system prompt and
    tools the primary tier is given, the conversation as it saw it, and the writing tier's own
    tool calls, results and final answer (`bot/agent/transcripts.py` writes and reads them)."""

    tier: Tier  # who wrote the steps
    system: str
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """What to tell the customer. `text` None: say nothing (a person owns the thread, or the
    sender is over the rate); `kind` says which of the `ReplyKind`s it is."""

    text: str | None
    kind: ReplyKind
    tier: Tier | None = None  # the tier that wrote the text (None: no model's)
    confidence: float | None = None
    handoff: Handoff | None = None
    # What the checks decided about the message; only some verdicts are shown to a model later.
    verdict: MessageVerdict = MessageVerdict.UNDECIDED
    # The strong tier was called: the conversation is escalated (unless handed off).
    escalated: bool = False
    # What the model that wrote the text (or the handoff's draft) did, to store with the turn.
    transcript: Transcript | None = None


@dataclass(frozen=True)
class ThreadPost:
    """A reply to post in a thread, from piece `start` on (the earlier ones went out before)."""

    channel_id: str
    thread_ts: str
    text: str
    kind: ReplyKind
    start: int = 0
    tier: Tier | None = None  # who wrote it (the terminal shows it)
    team_id: str = ""  # the workspace whose client posts it ('' : the one of single mode)


@dataclass(frozen=True)
class LeadsPost:
    """The escalation's post in the leads channel, with what it shows."""

    channel_id: str
    escalation: Escalation
    conversation: Conversation
    question: str
    asker: str


class Sender(Protocol):
    """Where posts go. Only the poster posts; the thinking status is no post (it answers the
    message being worked on) and stays with the worker."""

    async def thinking(self, conversation: Conversation) -> None:
        """Show that an answer is being prepared (Slack's thinking status)."""
        ...

    async def clear_thinking(self, conversation: Conversation) -> None:
        """The bot says nothing after all: clear the thinking status."""
        ...

    async def post_reply(self, post: ThreadPost) -> str | None:
        """Post a reply in its thread, split at Slack's limits; the ts of the last piece, or
        `ReplyNotPosted` with the number of pieces posted (counted from the first)."""
        ...

    async def post_escalation(self, post: LeadsPost) -> tuple[str, str | None]:
        """Post an escalation for the leads; where it went (channel, ts)."""
        ...

    async def post_alert(self, team_id: str, channel_id: str, text: str) -> str | None:
        """Tell workspace `team_id`'s leads something that needs no action button; the ts."""
        ...
