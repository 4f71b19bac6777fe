"""Tables. Every conversation, message, model call and processed Slack event is a row."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

# Cost columns: USD with 10 decimal places; one token of a cheap model is ~1e-7 USD.
USD = Numeric(18, 10)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ConversationStatus(StrEnum):
    ACTIVE = "active"
    ESCALATED = "escalated"
    HANDED_OFF = "handed_off"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    # The company's own people replying in a bot's thread of a Slack Connect channel: a
    # response to the customer (tickets), never a customer turn, never answered.
    STAFF = "staff"


class MessageStatus(StrEnum):
    """Whether an inbound message is answered; its replies' delivery is in `outbox`."""

    PENDING = "pending"
    WORKING = "working"  # claimed by the process `holder` names, since `claimed_at`
    ANSWERED = "answered"  # its reply is written (an apology too); the outbox posts it
    HELD = "held"  # arrived while a person owns the thread; the bot stays quiet
    NONE = "none"  # the bot's own replies


class ReplyKind(StrEnum):
    """What a reply of the bot is (`message.kind`); a lead's answer is an answer too."""

    ANSWER = "answer"
    GREETING = "greeting"
    FILES_NOTE = "files_note"
    TOO_LONG = "too_long"
    NOT_LINKED = "not_linked"
    HANDOFF = "handoff"
    HELD = "held"  # nothing is posted: a person owns the thread
    APOLOGY = "apology"
    RATE_LIMITED = "rate_limited"
    BUDGET = "budget"


class MessageVerdict(StrEnum):
    """What the bot decided about a customer message before a model read it. A model reads a
    customer message, then or later (history, running summary, handoff summary), only when its
    verdict is in `SHOWN_TO_MODEL`; the others are a placeholder without their text."""

    UNDECIDED = "undecided"  # not answered yet, its answer failed, or stored before 0008 unproven
    PASSED = "passed"  # every check let it through to the model
    HANDED_OVER = "handed_over"  # passed the input check, went to a person unanswered (asked)
    BUDGET = "budget"  # passed the checks; a spending limit stopped the model
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"
    FLAGGED = "flagged"  # an injection (input check, the model's report, a leaked prompt)
    HELD = "held"  # written while a person owned the thread; the length and input checks passed it
    NONE = "none"  # the bot's own rows


# A lead dismissing a flag does not change a verdict: a dismissed flag is still not shown.
SHOWN_TO_MODEL = frozenset(
    {MessageVerdict.PASSED, MessageVerdict.HANDED_OVER, MessageVerdict.BUDGET, MessageVerdict.HELD}
)


class Tier(StrEnum):
    PRIMARY = "primary"
    STRONG = "strong"
    FALLBACK = "fallback"
    HUMAN = "human"  # a support lead's answer


class Conversation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("channel_id", "thread_ts", name="uq_conversation_thread"),
        # A workspace's threads of a period (migration 0014).
        Index("ix_conversation_team", "team_id", "created_at"),
        # A workspace's tickets by status: App Home, stats (migration 0018).
        Index("ix_conversation_ticket", "team_id", "ticket_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default="", max_length=32)
    channel_id: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    user_id: str = Field(max_length=32, index=True)
    status: str = Field(default=ConversationStatus.ACTIVE, max_length=16)
    tier: str = Field(default=Tier.PRIMARY, max_length=16)
    total_cost_usd: Decimal = Field(default=Decimal(0), sa_type=USD)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    # The ticket (migration 0018; `bot/sla/lifecycle.py`): its TicketStatus, who took it (👀),
    # and when it was last resolved (✅, a lead's Mark resolved).
    ticket_status: str = Field(
        default="new", max_length=24, sa_column_kwargs={"server_default": "new"}
    )
    owner_user_id: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = None


class Message(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel_id", "slack_ts", name="uq_message_slack_ts"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    role: str = Field(max_length=16)
    user_id: str = Field(default="", max_length=32)
    # Of a customer message: the sender's Slack team (`T…`, or `E…` when Slack names only the
    # organisation); in a Slack Connect channel not the conversation's team (migration 0013).
    sender_team_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    text: str
    channel_id: str = Field(max_length=32)
    # Slack's own id of the message; unique per channel, which is what makes answers once-only.
    slack_ts: str | None = Field(default=None, max_length=32)
    status: str = Field(default=MessageStatus.NONE, max_length=16, index=True)
    # Of a customer message: what the checks decided (`MessageVerdict`; migration 0008).
    verdict: str = Field(
        default=MessageVerdict.NONE, max_length=16, sa_column_kwargs={"server_default": "none"}
    )
    reply_to_id: int | None = Field(default=None, foreign_key="message.id")
    # Files the customer attached: Slack's id, name, mimetype, size and private URL.
    files: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    # For the bot's replies: which tier wrote it (primary, strong, human) and what kind it is.
    tier: str | None = Field(default=None, max_length=16)
    kind: str | None = Field(default=None, max_length=16)
    # Of a message being answered: the process answering it (`bot/store/holders.py`), and
    # since when; `claimed_at` is also the claim's fencing token.
    holder: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ModelCall(SQLModel, table=True):
    __tablename__ = "model_call"
    __table_args__ = (
        # /costs: which messages of a period called the strong tier (migration 0006).
        Index(
            "ix_model_call_strong",
            "created_at",
            "message_id",
            postgresql_where=text("tier = 'strong'"),
            sqlite_where=text("tier = 'strong'"),
        ),
        # Budgets and /costs @user: one sender's calls of a period (migration 0008).
        Index("ix_model_call_user", "user_id", "created_at"),
        # /costs and the workspace budget: one workspace's calls of a period (migration 0014).
        Index("ix_model_call_team", "team_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    # The workspace (installing Slack team) of its conversation (migration 0014).
    team_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    message_id: int | None = Field(default=None, foreign_key="message.id")
    # Who the call is charged to: the sender of the message it answered (not the thread's
    # starter; kept when a purge deletes the message).
    user_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    provider: str = Field(max_length=32)
    model: str = Field(max_length=128)
    tier: str = Field(max_length=16)
    input_tokens: int = 0  # all input tokens, cached ones included
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = Field(default=None, sa_type=USD)
    latency_ms: int = 0
    outcome: str = Field(default="ok", max_length=32)  # ok, or the error kind
    stop_reason: str = Field(default="", max_length=32)
    confidence: float | None = None
    reasons: str = Field(default="", max_length=256)  # why this tier was called (strong)
    usage_raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # Answered through a Batch API (`supportbot eval --batch`), priced at the batch price.
    batch: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = Field(default_factory=utcnow, index=True)


class SlackEvent(SQLModel, table=True):
    """Slack event ids already taken, so a redelivered event is dropped."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=utcnow)


class CustomerLink(SQLModel, table=True):
    """A lead's manual link of a Slack user to a customer email (for profiles without one)."""

    __tablename__ = "customer_link"

    # The workspace whose lead made the link (migration 0014): a user id means one person
    # in one workspace only.
    team_id: str = Field(
        default="", primary_key=True, max_length=32, sa_column_kwargs={"server_default": ""}
    )
    slack_user_id: str = Field(primary_key=True, max_length=32)
    email: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow)


class Order(SQLModel, table=True):
    """The embedded order store (ORDERS_BACKEND=sql): demo data or `supportbot orders import`."""

    __tablename__ = "demo_order"

    order_id: str = Field(primary_key=True, max_length=64)
    customer_email: str = Field(max_length=320, index=True)
    status: str = Field(max_length=32)
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    total: Decimal = Field(sa_type=Numeric(12, 2))
    currency: str = Field(default="USD", max_length=3)
    created_at: datetime = Field(default_factory=utcnow)
    tracking: str | None = Field(default=None, max_length=128)
    shipping_address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    note: str | None = None
    # The order service's account the order belongs to (migration 0017); None: no account.
    account_id: str | None = Field(default=None, max_length=64, index=True)


class EscalationStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    DISMISSED = "dismissed"


class Escalation(SQLModel, table=True):
    """A thread handed to a support lead, and what the lead did with it."""

    # App Home: a workspace's open escalations (migration 0014).
    __table_args__ = (Index("ix_escalation_team", "team_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    # The workspace (installing Slack team) of its conversation (migration 0014).
    team_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    message_id: int = Field(foreign_key="message.id")
    status: str = Field(default=EscalationStatus.OPEN, max_length=16, index=True)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    confidence: float | None = None
    findings: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON))
    summary: str = ""
    draft: str = ""
    final_answer: str | None = None
    # What the lead's first action did with the draft (`escalation.review.Resolution`;
    # migration 0010): sent as drafted, edited, taken over, dismissed. None while open.
    resolution: str | None = Field(default=None, max_length=16)
    lead_user_id: str | None = Field(default=None, max_length=32)
    leads_channel: str = Field(default="", max_length=32)
    leads_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    resolved_at: datetime | None = None


class Thumb(StrEnum):
    """A customer's rating of an answer (`feedback.value`)."""

    UP = "up"
    DOWN = "down"


class Feedback(SQLModel, table=True):
    """A customer's thumbs up or down on one bot answer."""

    __table_args__ = (UniqueConstraint("message_id", "user_id", name="uq_feedback_once"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    # The workspace (installing Slack team) of its conversation (migration 0014).
    team_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    user_id: str = Field(max_length=32)
    value: str = Field(max_length=8)  # a Thumb
    tier: str = Field(default="", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class TurnTranscript(SQLModel, table=True):
    """What a model did in a turn whose answer, or draft for a lead, it wrote (migration 0010):
    the system prompt and tools the primary tier is given, the conversation as it saw it, and
    the writing tier's tool calls, results and final answer (`bot/agent/transcripts.py`). The
    material of `supportbot export finetune`; purged with the conversation's words."""

    __tablename__ = "turn_transcript"

    # The customer message the turn answered: one turn, one transcript.
    message_id: int = Field(
        primary_key=True, foreign_key="message.id", sa_column_kwargs={"autoincrement": False}
    )
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    tier: str = Field(max_length=16)  # who wrote the steps: primary or strong
    system: str
    tools: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    messages: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class BudgetNotice(SQLModel, table=True):
    """Leads are told once per workspace, budget, scope and day; the unique key makes that
    hold."""

    __tablename__ = "budget_notice"
    __table_args__ = (
        UniqueConstraint("team_id", "budget", "scope", "day", name="uq_budget_notice"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The workspace whose leads were told (migration 0014).
    team_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    budget: str = Field(max_length=16)  # thread | customer | workspace
    scope: str = Field(max_length=64)
    day: str = Field(max_length=10)  # YYYY-MM-DD, UTC
    created_at: datetime = Field(default_factory=utcnow)


class PostKind(StrEnum):
    THREAD_REPLY = "thread_reply"  # in the customer's thread: the text is its `message` row's
    LEADS_ESCALATION = "leads_escalation"  # the escalation's post, rendered when it is posted
    LEADS_ALERT = "leads_alert"  # a note to the leads (a budget reached, an answer given up)


class PostState(StrEnum):
    TO_POST = "to_post"
    POSTING = "posting"  # claimed by the process `holder` names
    POSTED = "posted"
    REFUSED = "refused"  # Slack refused it; tried again from `next_try_at`
    GIVEN_UP = "given_up"  # still refused at the end of the redelivery window


# Not posted yet, and not given up: a later post of the same thread waits for these.
UNPOSTED = (PostState.TO_POST, PostState.POSTING, PostState.REFUSED)


class Outbox(SQLModel, table=True):
    """One post the bot makes, with its own delivery state (migration 0009). Only the poster
    (`bot/poster.py`) posts them; the posts of one thread go out in id order."""

    __table_args__ = (Index("ix_outbox_due", "state", "next_try_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The workspace it is posted in: its conversation's, or the alerted leads' (migration 0014).
    team_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    kind: str = Field(max_length=24)
    channel_id: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id", index=True)
    # A reply's transcript row (role assistant): its text, tier and kind; its ts once posted.
    message_id: int | None = Field(default=None, foreign_key="message.id")
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id")
    text: str | None = None  # of an alert
    state: str = Field(default=PostState.TO_POST, max_length=16)
    holder: str | None = Field(default=None, max_length=64)
    next_try_at: datetime = Field(default_factory=utcnow)
    # Of a reply split in pieces: how many Slack took, so that a later try sends the rest.
    posted_pieces: int = 0
    posted_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
