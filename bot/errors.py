"""Errors by audience: what the customer may read, what the operator must fix."""

from __future__ import annotations


class SupportbotError(Exception):
    """Base of every error supportbot raises on purpose."""


class ConfigError(SupportbotError):
    """The operator must fix the configuration; the message says how."""


class UserFacingError(SupportbotError):
    """A problem the asker can act on; the message is safe and polite to show them."""


class ProviderError(SupportbotError):
    """A model provider failed (after the SDK's own retries)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class OrderServiceError(SupportbotError):
    """The order backend could not answer."""
