"""A thread's history for the model, bounded: the last messages plus a running summary.

Input tokens per turn stay flat in long threads: once more than two windows of messages (or
more than `max_chars` characters) are unsummarised, all but the last window (at most half of
`max_chars`) are folded into the summary (one cheap model call every `window` messages),
stored as a `summary` message row.

Only what the checks let through is shown, here and in the summaries: a customer message whose
verdict is not in `SHOWN_TO_MODEL` (too long, over the rate, flagged, undecided) is replaced by
a placeholder that names why and carries none of its text, so that the model can make sense of
"ok, and?" and of the bot's reply to it. Every text is cut to half of `max_chars`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from bot.agent.models.base import ChatMessage
from bot.agent.prompts import render
from bot.store import history as stored_history
from bot.store.db import Database
from bot.store.history import StoredHistory
from bot.store.models import SHOWN_TO_MODEL, Message, MessageRole, MessageVerdict

# Writes a summary: (the message whose turn pays for the call, system, prompt) -> the text,
# or None when no model could.
Summarise = Callable[[Message, str, str], Awaitable[str | None]]

# Why a message is withheld, in words for the model (developer-written, never the message).
_WITHHELD_BECAUSE: dict[str, str] = {
    MessageVerdict.TOO_LONG: "it was too long to read",
    MessageVerdict.RATE_LIMITED: "it came while the customer was sending messages too fast",
    MessageVerdict.FLAGGED: "a safety check held it back",
}
_UNCHECKED = "it was not checked"
_CUT = "\n(The rest of this message is not shown.)"


@dataclass(frozen=True)
class _Seen:
    """One entry of the transcript as the model sees it, and the last stored message it
    stands for (a placeholder stands for a run of withheld messages)."""

    chat: ChatMessage
    last: Message


class History:
    def __init__(
        self, db: Database, summarise: Summarise, window: int, max_chars: int = 12_000
    ) -> None:
        self._db = db
        self._summarise = summarise
        self._window = window
        self._max_chars = max_chars
        self._piece = max_chars // 2  # one message, and what stays after a fold

    def as_seen(self, message: Message) -> ChatMessage:
        """A stored message as a model may see it: its text (cut to fit), or a placeholder."""
        return _seen([message], self._piece)[0].chat

    @property
    def window(self) -> int:
        """How many messages of history a turn loads (0: none)."""
        return self._window

    async def before(self, message: Message) -> list[ChatMessage]:
        """The transcript the model sees before `message`: summary (if any), then the window."""
        if self._window == 0:
            return []
        return await self.transcript(message, await stored_history.load_for(self._db, message))

    async def transcript(self, message: Message, stored: StoredHistory) -> list[ChatMessage]:
        """Fold old messages into the running summary when the window overflows, then build
        the transcript."""
        seen = _seen(stored.pending, self._piece)
        summary_text = stored.summary.text if stored.summary else ""
        if self._window and (len(seen) >= 2 * self._window or _chars(seen) > self._max_chars):
            kept = _newest(seen, self._window, self._piece)
            folded = seen[: len(seen) - len(kept)]
            # At most twice the bound in one summary call: the oldest go unsummarised only
            # when folds failed for a while (a model down).
            shown = _newest(folded, len(folded), 2 * self._max_chars)
            new_summary = await self._summarise(
                message,
                "You keep short running summaries of customer-support conversations.",
                render(
                    "history_summary.md.j2",
                    summary=summary_text,
                    messages=[s.chat for s in shown],
                ),
            )
            if new_summary:
                summary_text = new_summary
                await stored_history.add_summary(self._db, message, new_summary, folded[-1].last)
            seen = kept
        history = [s.chat for s in seen]
        if summary_text:
            note = (
                f"(Summary of the earlier part of this conversation, for context: {summary_text})"
            )
            history.insert(0, ChatMessage("user", text=note))
        return history


def _seen(messages: list[Message], piece: int) -> list[_Seen]:
    """The messages as the model may see them: the bot's and the leads' as written, a
    customer's only if the checks let it through; each run of withheld ones becomes one
    placeholder. Every text is cut to `piece` characters."""
    seen: list[_Seen] = []
    withheld: list[Message] = []
    for m in messages:
        if m.role == MessageRole.USER and m.verdict not in SHOWN_TO_MODEL:
            withheld.append(m)
            continue
        if withheld:
            seen.append(_Seen(_placeholder(withheld), withheld[-1]))
            withheld = []
        role: Literal["user", "assistant"] = (
            "assistant" if m.role == MessageRole.ASSISTANT else "user"
        )
        text = m.text if len(m.text) <= piece else m.text[: piece - len(_CUT)] + _CUT
        seen.append(_Seen(ChatMessage(role, text=text), m))
    if withheld:
        seen.append(_Seen(_placeholder(withheld), withheld[-1]))
    return seen


def _placeholder(withheld: list[Message]) -> ChatMessage:
    why = "; ".join(dict.fromkeys(_WITHHELD_BECAUSE.get(m.verdict, _UNCHECKED) for m in withheld))
    what, it = ("a message", "it") if len(withheld) == 1 else (f"{len(withheld)} messages", "they")
    return ChatMessage(
        "user",
        text=f"(Here the customer sent {what} that you are not shown: {why}. "
        f"Do not guess what {it} said; ask the customer if you need it.)",
    )


def _chars(seen: list[_Seen]) -> int:
    return sum(len(s.chat.text) for s in seen)


def _newest(seen: list[_Seen], count: int, chars: int) -> list[_Seen]:
    """The newest entries, at most `count` of them and `chars` characters in all."""
    kept: list[_Seen] = []
    total = 0
    for s in reversed(seen[max(0, len(seen) - count) :] if count else []):
        total += len(s.chat.text)
        if total > chars:
            break
        kept.append(s)
    return kept[::-1]
