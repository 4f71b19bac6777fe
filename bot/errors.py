"""Errors by audience: what the operator must fix, and what failed outside our control.

What a customer reads is never an exception's text: it comes from `bot/agent/replies.py`."""

from __future__ import annotations

from enum import StrEnum


class SupportbotError(Exception):
    """Base of every error supportbot raises on purpose."""


class ConfigError(SupportbotError):
    """The operator must fix the configuration; the message says how."""


class ProviderFailure(StrEnum):
    """How a model provider failed: a `ProviderError`'s kind, stored as a model call's outcome."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMITED = "rate_limited"  # HTTP 429
    OVERLOADED = "overloaded"  # HTTP 529
    AUTH = "auth"  # HTTP 401 or 403
    SERVER_ERROR = "server_error"  # any other 5xx
    BAD_REQUEST = "bad_request"  # any other HTTP failure
    BAD_RESPONSE = "bad_response"  # an answer the adapter cannot read
    UNKNOWN = "unknown"


class ProviderError(SupportbotError):
    """A model provider failed (after the SDK's own retries)."""

    def __init__(self, kind: ProviderFailure, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class OrderServiceError(SupportbotError):
    """The order backend could not answer."""


class ReplyNotPosted(SupportbotError):
    """Slack refused a reply (after its retries); `posted` of its pieces went out before."""

    def __init__(self, posted: int) -> None:
        super().__init__(f"Slack refused the reply after {posted} piece(s) were posted")
        self.posted = posted


class UsageError(SupportbotError):
    """Words a person typed (a command's arguments) are not understood; the message says why."""
