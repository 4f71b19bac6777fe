"""Before any model: the replies a message gets without one (held while a person owns the
thread, over the rate, empty, too long), and the checks on what a model will read."""

from __future__ import annotations

from bot.agent import replies
from bot.agent.attachments import Attachments
from bot.agent.checks import off_loop
from bot.agent.models.base import ChatMessage
from bot.delivery import Reply
from bot.store.models import MessageVerdict, ReplyKind
from escalation.guards import check_input
from escalation.intents import says_answer_was_wrong
from escalation.policy import Check


async def held(text: str, max_chars: int) -> Reply:
    """A message no model reads now (a person owns the thread): nothing is said, and the
    checks run all the same, for what the history shows later."""
    if len(text.strip()) > max_chars:
        return Reply(None, ReplyKind.HELD, verdict=MessageVerdict.TOO_LONG)
    findings = await off_loop(check_input, text.strip())
    flagged = any(f.check == Check.INPUT for f in findings)
    verdict = MessageVerdict.FLAGGED if flagged else MessageVerdict.HELD
    return Reply(None, ReplyKind.HELD, verdict=verdict)


def over_the_rate(limit: int, recent: int) -> Reply | None:
    """Over the per-customer rate: one polite notice, then silence until the minute passes."""
    if not limit or recent <= limit:
        return None
    notice = replies.slow_down(limit) if recent == limit + 1 else None
    return Reply(notice, ReplyKind.RATE_LIMITED, verdict=MessageVerdict.RATE_LIMITED)


def without_model(text: str, files: Attachments, max_chars: int) -> Reply | None:
    """The reply to a message with nothing to read (a greeting, or a note on its files) or
    too much (too long); None when a model answers it."""
    if not text and not files.images:
        if files.notes:
            return Reply(" ".join(files.notes), ReplyKind.FILES_NOTE, verdict=MessageVerdict.PASSED)
        return Reply(replies.GREETING, ReplyKind.GREETING, verdict=MessageVerdict.PASSED)
    if len(text) > max_chars:
        too_long = replies.too_long(len(text), max_chars)
        return Reply(too_long, ReplyKind.TOO_LONG, verdict=MessageVerdict.TOO_LONG)
    return None


def complaints(transcript: list[ChatMessage]) -> int:
    """How many of the customer's messages say an answer was wrong or did not help."""
    return sum(1 for m in transcript if m.role == "user" and says_answer_was_wrong(m.text))
