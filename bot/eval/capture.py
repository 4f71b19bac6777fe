"""What each case's turns did, caught on the way out of the real pipeline: the posts the
customer would read (a `Sender` that keeps them instead of posting to Slack), and the tool
calls the models asked for (a wrap of every adapter the `ModelFactory` builds, filing each
response's tool calls under the case running in the current task, `CURRENT_CASE`)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from bot.agent.models import WrapModel
from bot.agent.models.base import ChatModel, ChatRequest, ModelResponse
from bot.agent.tools.base import ToolName
from bot.delivery import LeadsPost, ThreadPost
from bot.store.models import Conversation


@dataclass
class CaseLog:
    """One running case: the tool calls of its current turn, and the thread it talks in."""

    thread_ts: str
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def next_turn(self) -> None:
        self.tool_calls = []


# The case the current asyncio task runs (each case runs in a task of its own).
CURRENT_CASE: ContextVar[CaseLog | None] = ContextVar("eval_case", default=None)


class _Recording:
    """A `ChatModel` passing every call on, noting the tool calls of each response."""

    def __init__(self, model: ChatModel) -> None:
        self._model = model
        self.name = model.name

    @property
    def provider(self) -> str:
        return self._model.provider

    async def complete(self, request: ChatRequest) -> ModelResponse:
        response = await self._model.complete(request)
        case = CURRENT_CASE.get()
        if case is not None:
            case.tool_calls.extend(
                (call.name, dict(call.arguments))
                for call in response.tool_calls
                if call.name != ToolName.FINAL_ANSWER
            )
        return response


def recording(inner: WrapModel | None = None) -> WrapModel:
    """The factory's wrap: record the tool calls, around `inner` (the `--batch` wrap) if any."""

    def wrap(ref: str, model: ChatModel) -> ChatModel:
        return _Recording(inner(ref, model) if inner else model)

    return wrap


class CapturingSender:
    """The eval's `Sender`: each thread's replies are kept, in order; nothing is posted."""

    def __init__(self) -> None:
        self.replies: dict[str, list[str]] = {}

    def take(self, thread_ts: str) -> list[str]:
        """The replies posted in the thread since the last take."""
        return self.replies.pop(thread_ts, [])

    async def thinking(self, conversation: Conversation) -> None:
        return None

    async def clear_thinking(self, conversation: Conversation) -> None:
        return None

    async def post_reply(self, post: ThreadPost) -> str | None:
        if post.start == 0:  # a later start is the rest of a reply split for Slack: not here
            self.replies.setdefault(post.thread_ts, []).append(post.text)
        return None

    async def post_escalation(self, post: LeadsPost) -> tuple[str, str | None]:
        return post.channel_id, None

    async def post_alert(self, team_id: str, channel_id: str, text: str) -> str | None:
        return None
