"""Fake Anthropic Messages and OpenAI Chat Completions servers, with their Batch APIs.

They answer with the real wire formats, so the real SDKs parse tool calls and usage. Replies
come from a script a test pushes, or else from `support_brain`, a tiny rule-based support agent
that calls `lookup_order` when it sees an order number and summarises what the tool returned.
The requests of a batch (`tests/fakes/batches.py`) are answered the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from tests.fakes.batches import AnthropicBatchApi, FakeBatch, OpenAIBatchApi
from tests.fakes.server import FakeServer


@dataclass
class Turn:
    """What the fake model says: text, tool calls (name, arguments), and usage figures."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None


def final(text: str, confidence: float = 0.9) -> Turn:
    return Turn(tool_calls=[("final_answer", {"text": text, "confidence": confidence})])


def lookup(order_id: str) -> Turn:
    return Turn(tool_calls=[("lookup_order", {"order_id": order_id})])


@dataclass
class Conversation:
    """The request in provider-neutral terms, for the brain and for assertions."""

    system: str
    tools: list[str]
    user_texts: list[str]
    tool_results: list[str]  # results since the last user text
    last_is_tool_result: bool


def support_brain(conv: Conversation) -> Turn:
    if not conv.tools:  # a plain completion, such as the handoff summary
        return Turn(text="Summary: " + (conv.user_texts[-1][:200] if conv.user_texts else ""))
    if conv.last_is_tool_result:
        result = json.loads(conv.tool_results[-1]) if conv.tool_results else {}
        if "order" in result:
            order = result["order"]
            text = f"Order **{order['order_id']}** is *{order['status']}*."
            if order.get("tracking"):
                text += f" Tracking number: `{order['tracking']}`."
            return final(text, 0.92)
        if "articles" in result:
            if not result["articles"]:
                return final("I couldn't find a help article about that.", 0.6)
            article = result["articles"][0]
            return Turn(
                tool_calls=[
                    (
                        "final_answer",
                        {
                            "text": f"From our help center: {article['snippet']}",
                            "confidence": 0.88,
                            "citations": [article["id"]],
                        },
                    )
                ]
            )
        if "orders" in result:
            if not result["orders"]:
                return final("I couldn't find any orders on your account.", 0.85)
            lines = [f"- **{o['order_id']}**: {o['status']}" for o in result["orders"]]
            return final("Here are your recent orders:\n" + "\n".join(lines), 0.9)
        return final(
            "I couldn't find an order with that number on your account. "
            "Could you double-check the number?",
            0.8,
        )
    text = conv.user_texts[-1] if conv.user_texts else ""
    number = re.search(r"\b(\d{3,})\b", text)
    if number and "lookup_order" in conv.tools:
        return lookup(number.group(1))
    if re.search(r"\b(return|refund|ship|deliver|pay|account|email)", text, re.I) and (
        "search_help_center" in conv.tools
    ):
        return Turn(tool_calls=[("search_help_center", {"query": text})])
    if re.search(r"\bmy orders\b", text, re.I) and "list_my_orders" in conv.tools:
        return Turn(tool_calls=[("list_my_orders", {})])
    return final("I can help with questions about your orders. What's your order number?", 0.75)


def _tokens(value: Any) -> int:
    return max(1, len(json.dumps(value)) // 4)


@dataclass
class FakeModelServer(FakeServer):
    """Common part of both fakes: scripted turns, faults, recorded requests, usage."""

    path: ClassVar[str]  # the one endpoint the provider's SDK posts to

    script: list[Turn] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each request
    faults: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    delay: float = 0.0
    failing_models: dict[str, int] = field(default_factory=dict)  # model -> HTTP status
    hold_next: asyncio.Event | None = None  # the next request waits for it (a slow answer)
    batch_polls: int = 2  # polls of a batch before it ends
    batches: dict[str, FakeBatch] = field(default_factory=dict)
    batch_lines: list[dict[str, Any]] = field(default_factory=list)  # every request batched
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _seen_prefixes: set[str] = field(default_factory=set)

    def fail(
        self,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        self.faults.extend([(status, headers or {}, body or {})] * times)

    def new_id(self) -> int:
        return next(self._ids)

    def next_turn(self, conv: Conversation) -> Turn:
        return self.script.pop(0) if self.script else support_brain(conv)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.arrivals.append(time.monotonic())
        if self.delay:
            await asyncio.sleep(self.delay)
        if (hold := self.hold_next) is not None:
            self.hold_next = None
            await hold.wait()
        if body.get("model") in self.failing_models:
            status = self.failing_models[body["model"]]
            return web.json_response(self.error_body(status), status=status)
        return self.fault() or web.json_response(self.respond(body))

    def fault(self) -> web.Response | None:
        """The next fault a test pushed (`fail`), as the response to this request, if any."""
        if not self.faults:
            return None
        status, headers, payload = self.faults.pop(0)
        return web.json_response(payload or self.error_body(status), status=status, headers=headers)

    def error_body(self, status: int) -> dict[str, Any]:
        raise NotImplementedError

    def respond(self, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def cached(self, prefix: Any) -> tuple[int, int]:
        """(cache_read, cache_write) tokens for a stable prefix, as a provider cache would."""
        key = json.dumps(prefix, sort_keys=True)
        tokens = _tokens(prefix)
        if key in self._seen_prefixes:
            return tokens, 0
        self._seen_prefixes.add(key)
        return 0, tokens

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(self.path, self._handle)
        return app


class FakeAnthropic(FakeModelServer):
    path = "/v1/messages"

    def app(self) -> web.Application:
        app = super().app()
        AnthropicBatchApi(self).add_routes(app)
        return app

    def error_body(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 529: "overloaded_error", 400: "invalid_request_error"}
        return {
            "type": "error",
            "error": {"type": kind.get(status, "api_error"), "message": "fake"},
        }

    def respond(self, body: dict[str, Any]) -> dict[str, Any]:
        system = body.get("system", "")
        system_text = "".join(b["text"] for b in system) if isinstance(system, list) else system
        user_texts: list[str] = []
        tool_results: list[str] = []
        last_is_tool = False
        for msg in body["messages"]:
            content = msg["content"]
            blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
            if msg["role"] != "user":
                continue
            results = [b for b in blocks if b.get("type") == "tool_result"]
            if results:
                last_is_tool = True
                tool_results.extend(
                    r["content"] if isinstance(r["content"], str) else r["content"][0]["text"]
                    for r in results
                )
            else:
                last_is_tool = False
                tool_results = []
                user_texts.extend(b["text"] for b in blocks if b.get("type") == "text")
        tools = [t["name"] for t in body.get("tools", [])]
        turn = self.next_turn(
            Conversation(system_text, tools, user_texts, tool_results, last_is_tool)
        )
        content: list[dict[str, Any]] = []
        if turn.text:
            content.append({"type": "text", "text": turn.text})
        for name, args in turn.tool_calls:
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{next(self._ids):08d}",
                    "name": name,
                    "input": args,
                }
            )
        read, write = self.cached([body.get("tools", []), system])
        total_in = _tokens(body["messages"]) + read + write
        read = turn.cache_read if turn.cache_read is not None else read
        write = turn.cache_write if turn.cache_write is not None else write
        uncached = turn.input_tokens if turn.input_tokens is not None else total_in - read - write
        return {
            "id": f"msg_{next(self._ids):08d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": "tool_use" if turn.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": uncached,
                "cache_creation_input_tokens": write,
                "cache_read_input_tokens": read,
                "output_tokens": turn.output_tokens
                if turn.output_tokens is not None
                else _tokens(content),
            },
        }


class FakeOpenAI(FakeModelServer):
    path = "/v1/chat/completions"

    @property
    def base_url(self) -> str:
        return self.url_for("/v1")  # the OpenAI SDK's base URL ends in its version

    def app(self) -> web.Application:
        app = super().app()
        OpenAIBatchApi(self).add_routes(app)
        return app

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"message": "fake failure", "type": "server_error", "code": str(status)}}

    def respond(self, body: dict[str, Any]) -> dict[str, Any]:
        system = ""
        user_texts: list[str] = []
        tool_results: list[str] = []
        last_is_tool = False
        for msg in body["messages"]:
            if msg["role"] == "system":
                system = msg["content"]
            elif msg["role"] == "user":
                user_texts.append(msg["content"])
                tool_results, last_is_tool = [], False
            elif msg["role"] == "tool":
                tool_results.append(msg["content"])
                last_is_tool = True
        tools = [t["function"]["name"] for t in body.get("tools", [])]
        turn = self.next_turn(Conversation(system, tools, user_texts, tool_results, last_is_tool))
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if turn.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{next(self._ids):08d}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for name, args in turn.tool_calls
            ]
        read, _ = self.cached([body.get("tools", []), body["messages"][0]])
        prompt = _tokens(body["messages"]) + _tokens(body.get("tools", []))
        if turn.input_tokens is not None:
            prompt = turn.input_tokens
        read = turn.cache_read if turn.cache_read is not None else min(read, prompt)
        completion = turn.output_tokens if turn.output_tokens is not None else _tokens(message)
        return {
            "id": f"chatcmpl-{next(self._ids):08d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if turn.tool_calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": read},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }
