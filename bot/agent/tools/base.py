"""What a tool is: one definition (name, arguments model, description, handler) from which
the spec the model sees and the toolbox's dispatch are both derived."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from bot.agent.identity import Asker
from bot.agent.models.base import ToolSpec
from bot.knowledge import KnowledgeBase
from bot.orders import OrderBackend
from escalation.guards import GuardFinding


class ToolName(StrEnum):
    LOOKUP_ORDER = "lookup_order"
    LIST_MY_ORDERS = "list_my_orders"
    SEARCH_HELP_CENTER = "search_help_center"
    FINAL_ANSWER = "final_answer"


@dataclass(frozen=True)
class ToolContext:
    """What a handler may use: whose data (the asker, never chosen by the model) and where
    it is kept."""

    asker: Asker
    orders: OrderBackend
    knowledge: KnowledgeBase | None


@dataclass
class ToolResult:
    """What a handler found: the payload the model sees (`{"error": ...}` when not `ok`), and
    the facts the escalation checks read."""

    payload: dict[str, Any]
    ok: bool = True
    denied: bool = False
    not_linked: bool = False
    order_ids: list[str] = field(default_factory=list)
    order_totals: list[Decimal] = field(default_factory=list)
    articles: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id: (title, url)

    @classmethod
    def error(cls, message: str, **facts: Any) -> ToolResult:
        return cls({"error": message}, ok=False, **facts)


@dataclass
class ToolOutcome:
    """What one tool call did, for the transcript and for the escalation checks."""

    name: str  # a ToolName, or whatever the model asked for when there is no such tool
    arguments: dict[str, Any]
    ok: bool
    content: str
    denied: bool = False
    not_linked: bool = False
    order_ids: list[str] = field(default_factory=list)
    order_totals: list[Decimal] = field(default_factory=list)
    findings: list[GuardFinding] = field(default_factory=list)
    articles: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id: (title, url)


Args = TypeVar("Args", bound=BaseModel)
Handler = Callable[[ToolContext, Args], Awaitable[ToolResult]]


@dataclass(frozen=True)
class Tool(Generic[Args]):
    """One tool. `handler` None: the answer loop itself takes the call (the final answer)."""

    name: ToolName
    description: str
    arguments: type[Args]
    handler: Handler[Args] | None = None

    @property
    def spec(self) -> ToolSpec:
        """The tool as the model sees it: the arguments' JSON schema without titles."""
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        schema.setdefault("properties", {})
        return ToolSpec(name=self.name.value, description=self.description, parameters=schema)

    async def handle(self, context: ToolContext, raw: dict[str, Any]) -> ToolResult:
        """Validate the model's arguments (a pydantic ValidationError when invalid) and run."""
        assert self.handler is not None, f"{self.name} is taken by the answer loop"
        return await self.handler(context, self.arguments.model_validate(raw))
