"""One approved answer as one line of OpenAI's chat fine-tuning file (supervised, with tools):

    {"messages": [system, user, assistant tool_calls, tool, ..., assistant final_answer call],
     "tools": [...], "parallel_tool_calls": true}

The messages and tools are converted by the OpenAI adapter itself (`openai_messages`,
`openai_tools`), so a tuned model is taught in the very shape it is asked in. The turn's own
tool calls and results are kept; the last message is the approved answer as a `final_answer`
call. Earlier answers of the thread are context only (`weight` 0): they are plain text, which
the bot never asks a model for. Personal data is replaced (`bot/export/personal.py`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.agent.citations import SOURCES_MARK
from bot.agent.models.base import ChatMessage, ToolCall
from bot.agent.models.openai_chat import openai_messages, openai_tools
from bot.agent.tools import FINAL_ANSWER
from bot.agent.transcripts import images_in, messages_of, tools_of
from bot.export.detectors import Kind
from bot.export.kinds import LeftOut, Source
from bot.export.personal import Placeholders, learn_tool_result, scrub_tool_result
from bot.store.approved import Approved, Approver
from bot.store.models import TurnTranscript
from escalation.review import Resolution

# A lead's answer is right: taught with at least this confidence (not 1: a tuned model that
# learned to be certain would never let the escalation checks catch it).
LEAD_CONFIDENCE = 0.9
# About 32k tokens, half of what OpenAI takes in one example of gpt-4o-mini (65,536).
MAX_EXAMPLE_CHARS = 128_000


@dataclass(frozen=True)
class Example:
    """One approved answer as one line of the file: where it came from, its conversation (for
    the split), the line, and how many values of each kind it had replaced."""

    source: Source
    conversation_id: int
    line: dict[str, Any]
    replaced: Counter[Kind]


def source_of(approved: Approved) -> Source | LeftOut:
    """Whether an answer is taught, and as what; or why not."""
    if approved.thumbs_down:
        return LeftOut.THUMBS_DOWN
    if approved.approver == Approver.LEAD:
        if approved.transcript is None:
            return LeftOut.NO_TRANSCRIPT if approved.draft else LeftOut.NO_DRAFT
        return Source.LEAD_UNCHANGED if _sent_as_drafted(approved) else Source.LEAD_EDITED
    if approved.handed_off_after:
        return LeftOut.HANDED_OFF_AFTER
    if approved.transcript is None:
        return LeftOut.NO_TRANSCRIPT
    return Source.STRONG_THUMBS_UP if approved.thumbs_up else Source.STRONG_NO_COMPLAINT


def _sent_as_drafted(approved: Approved) -> bool:
    """What the lead recorded doing with the draft (`escalation.resolution`, decided by
    `escalation/review.py` at their first action); for an escalation resolved before that
    column, the same rule on the texts (equal but for whitespace)."""
    if approved.resolution is not None:
        return approved.resolution == Resolution.DRAFT_SENT
    return bool(approved.draft.split()) and approved.sent.split() == approved.draft.split()


def build(approved: Approved) -> Example | LeftOut:
    """The example of an approved answer, or why there is none."""
    source = source_of(approved)
    if isinstance(source, LeftOut):
        return source
    transcript = approved.transcript
    assert transcript is not None
    if images_in(transcript.messages):
        return LeftOut.IMAGES
    body = messages_of(transcript.messages)
    model_final = _final_call(body)
    if model_final is not None:
        body = body[:-1]
    if source in (Source.STRONG_THUMBS_UP, Source.STRONG_NO_COMPLAINT):
        if model_final is None:
            return LeftOut.NO_FINAL_ANSWER
        final = model_final
    else:
        final = _lead_final(approved, model_final)
    placeholders = Placeholders()
    messages = _scrubbed([*body, ChatMessage("assistant", tool_calls=[final])], placeholders)
    line = _line(transcript, messages)
    if len(json.dumps(line, ensure_ascii=False)) > MAX_EXAMPLE_CHARS:
        return LeftOut.TOO_LONG
    return Example(source, approved.conversation_id, line, placeholders.replaced)


def _final_call(messages: list[ChatMessage]) -> ToolCall | None:
    """The model's valid final answer: the last message, when the loop ended with one."""
    last = messages[-1] if messages else None
    if last is None or last.role != "assistant" or len(last.tool_calls) != 1:
        return None
    call = last.tool_calls[0]
    return call if call.name == FINAL_ANSWER else None


def _lead_final(approved: Approved, model_final: ToolCall | None) -> ToolCall:
    """The lead's text as the final answer. The draft's *Sources* line is the bot's, made from
    the model's citations: when the lead kept it, it is cut from the text and the citations
    stay; when the lead removed it, they go too. The model's injection report stays."""
    model = model_final.arguments if model_final is not None else {}
    text, citations = approved.sent.strip(), list(model.get("citations") or [])
    cut = approved.draft.rfind(SOURCES_MARK)
    sources = approved.draft[cut:].strip() if cut != -1 else ""
    if sources and text.endswith(sources):
        text = text[: -len(sources)].rstrip()
    else:
        citations = []
    arguments = {
        "text": text,
        "confidence": max(float(model.get("confidence") or 0.0), LEAD_CONFIDENCE),
        "citations": citations,
        "injection_attempt": model.get("injection_attempt") or "none",
    }
    return ToolCall(model_final.id if model_final else "call_final", FINAL_ANSWER, arguments)


def _scrubbed(messages: list[ChatMessage], placeholders: Placeholders) -> list[ChatMessage]:
    """The messages with their personal data replaced: everything is read first, so a value
    gets its placeholder wherever it appears."""
    # What the tools were asked and answered first: a value learned by its field gets that
    # field's kind (an order number), not what a pattern makes of it in text (a bare number).
    for m in messages:
        if m.role == "tool":
            learn_tool_result(placeholders, m.text)
        for call in m.tool_calls:
            placeholders.learn_json(call.arguments)
    for m in messages:
        if m.role != "tool":
            placeholders.learn_text(m.text)
    return [
        ChatMessage(
            m.role,
            text=(
                scrub_tool_result(placeholders, m.text)
                if m.role == "tool"
                else placeholders.replace(m.text)
            ),
            tool_calls=[
                ToolCall(c.id, c.name, placeholders.replace_json(c.arguments)) for c in m.tool_calls
            ],
            tool_call_id=m.tool_call_id,
            is_error=m.is_error,
        )
        for m in messages
    ]


def _line(transcript: TurnTranscript, messages: list[ChatMessage]) -> dict[str, Any]:
    """The example in the file's shape: earlier answers of the thread weigh nothing; an
    assistant message that only calls tools has no `content` (as OpenAI's examples)."""
    converted = openai_messages(transcript.system, messages)
    asked = max(i for i, m in enumerate(converted) if m["role"] == "user")
    for i, message in enumerate(converted):
        if message["role"] != "assistant":
            continue
        if message.get("content") is None:
            del message["content"]
        if i < asked:
            message["weight"] = 0
    return {
        "messages": converted,
        "tools": openai_tools(tools_of(transcript.tools)),
        # As the bot asks: its requests leave OpenAI's default (parallel calls allowed), and a
        # tuned model taught with false would be asked with true.
        "parallel_tool_calls": True,
    }
