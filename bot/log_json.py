"""SUPPORTBOT_LOG_FORMAT=json: one JSON object a line, for log collectors.

Keys: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`, then
`event_id` and `conversation_id` where known (`bot/log_context.py`), and `exception` (or
`stack`) when the line has one. Nothing else of the record is written: not its `extra`
attributes, which a library may fill with a request. The message and traceback are the ones
`bot/log_privacy.py` already cleaned when the record was created, so this formatter never sees
what the cleaning removed.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bot import log_context


class JsonFormatter(logging.Formatter):
    """Formats where the record is logged (a StreamHandler), so the context is the logger's."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **log_context.current(),
        }
        # At INFO and above the cleaning left the traceback, without messages, in exc_text;
        # a DEBUG record keeps its exception whole, as the operator asked.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line)
