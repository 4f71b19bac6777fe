"""No log record at INFO or above carries customer text, emails or secrets, whoever logs it.

The one place that guarantees it is the process's LogRecord factory: every record, of every
logger (ours, Bolt's, slack_sdk's, the model SDKs', aiohttp's, httpx's, SQLAlchemy's,
asyncpg's), is made safe where it is created, before any handler, formatter or test capture
sees it. At INFO and above:

- our own loggers (`bot.*`, `escalation.*`, `supportbot`) keep their message, which names ids,
  counts and kinds, never text; emails and secrets are still masked in it;
- other libraries' messages keep only their developer-written part: a %-template keeps its
  numbers and hides every other argument, and a message built beforehand (an f-string, often
  with a request body or an exception inside) is cut at its first detail;
- an exception keeps its traceback's frames and its types, not its messages (a database
  error's message can hold a statement's values, an SDK's the request body), in `exc_text`,
  which formatters print instead of formatting `exc_info` again.

DEBUG records are left whole: an operator who sets SUPPORTBOT_LOG_LEVEL=DEBUG asks for them.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import Any

OWN_LOGGERS = ("bot", "escalation", "supportbot")
HIDDEN = "[hidden]"
# Where a library's own words end and what it was given begins.
_DETAIL_STARTS = re.compile(r"[(:{\[\"'=<@]")
# Fixed prefixes of the credentials supportbot handles: Slack tokens, model API keys.
_CREDENTIAL = re.compile(r"\b(?:xox[a-z]-|xapp-|sk-)")
_WORDS = re.compile(r"(\s+)")

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def install(secrets: Iterable[str] = ()) -> None:
    """Make every log record created from now on safe (idempotent); `secrets` (tokens, keys)
    are masked wherever they would appear, even at DEBUG."""
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if len(s) >= 6)
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def safe_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            make_safe(record)
        except Exception:  # a log line must never raise; drop what could not be checked
            had_exception = record.exc_info is not None
            record.msg, record.args = "log message hidden", ()
            # Formatters rebuild a traceback from exc_info: leave them nothing to rebuild.
            record.exc_info, record.stack_info = None, None
            record.exc_text = f"{HIDDEN} exception" if had_exception else None
        return record

    logging.setLogRecordFactory(safe_record)


def remember(*secrets: str) -> None:
    """Mask these too from now on, even at DEBUG: the bot tokens of the workspaces that
    installed the app (OAuth mode), known only once the installation store saves or finds
    them. Bolt's authorize debug-logs what the store answers."""
    with _lock:
        _secrets.update(s for s in secrets if len(s) >= 6)


def make_safe(record: logging.LogRecord) -> None:
    """Rewrite `record` in place so that its message and traceback hold no private data."""
    if record.levelno < logging.INFO:
        if _secrets:
            record.msg, record.args = _mask(record.getMessage()), ()
        return
    own = record.name == "__main__" or record.name.split(".")[0] in OWN_LOGGERS
    message = record.getMessage() if own else _library_words(record)
    record.msg, record.args = _mask(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = _mask(_frames_and_types(record.exc_info[1]))


def _library_words(record: logging.LogRecord) -> str:
    template = str(record.msg)
    if record.args:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        shown = tuple(a if isinstance(a, int | float) else HIDDEN for a in args)
        try:
            return template % shown
        except (TypeError, ValueError, KeyError):
            pass  # a template for a mapping or with numeric formats: fall through, cut it
    cut = _DETAIL_STARTS.search(template)
    if cut is None:
        return template
    return f"{template[: cut.start()].rstrip()} {HIDDEN}".lstrip()


def _frames_and_types(exc: BaseException) -> str:
    """The traceback as Python prints it, each exception's message left out."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(_one_exception(current))
        if current.__cause__ is not None:
            parts.append("The above exception was the direct cause of the following exception:")
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            parts.append("During handling of the above exception, another exception occurred:")
            current = current.__context__
        else:
            current = None
    # Python prints the first cause first.
    return "\n\n".join(reversed(parts)).strip()


def _one_exception(exc: BaseException) -> str:
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    tb: TracebackType | None = exc.__traceback__
    frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
    head = "Traceback (most recent call last):\n" if frames else ""
    # An OS error's message names a host, port or path: no data, and the operator needs it.
    detail = f": {exc}" if isinstance(exc, OSError) else f" ({HIDDEN} message)"
    return f"{head}{frames}{name}{detail}"


def _mask(text: str) -> str:
    """Hide known secrets, credential-shaped words and email addresses (word by word, so the
    time taken grows with the text's length only)."""
    for secret in tuple(_secrets):
        text = text.replace(secret, HIDDEN)
    if "@" not in text and _CREDENTIAL.search(text) is None:
        return text
    words = _WORDS.split(text)
    return "".join(
        HIDDEN if ("@" in w or _CREDENTIAL.search(w)) and not w.isspace() else w for w in words
    )
