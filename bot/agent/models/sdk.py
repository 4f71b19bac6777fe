"""What the SDK adapters share: the model's name and its provider's SDK client, and an SDK's
failures named as `ProviderError` kinds (the Batch API transports, `bot/batch/`, too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.errors import ProviderError, ProviderFailure


@dataclass(frozen=True)
class SdkErrors:
    """A provider SDK's exception classes, as `provider_error` reads them; `status` is the one
    with an HTTP `status_code`."""

    label: str  # the provider as an operator reads it: "Anthropic", "OpenAI"
    timeout: type[Exception]
    connection: type[Exception]
    status: type[Exception]


_BY_STATUS = {
    429: ProviderFailure.RATE_LIMITED,
    529: ProviderFailure.OVERLOADED,
    401: ProviderFailure.AUTH,
    403: ProviderFailure.AUTH,
}


def error_kind(status: int) -> ProviderFailure:
    """The kind of an HTTP failure of a provider, as recorded on the model call."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ProviderFailure.SERVER_ERROR if status >= 500 else ProviderFailure.BAD_REQUEST


def status_error(label: str, status: int) -> ProviderError:
    """A provider's answer with a failing HTTP status (of a call, or of one request in a
    batch), as a `ProviderError`."""
    return ProviderError(error_kind(status), f"{label} answered HTTP {status}")


def provider_error(exc: Exception, sdk: SdkErrors) -> ProviderError:
    """Name the kind of an SDK's failure, so callers can decide on fallback and record it."""
    # Timeout first: the SDKs' timeout error is a kind of their connection error.
    if isinstance(exc, sdk.timeout):
        return ProviderError(ProviderFailure.TIMEOUT, f"{sdk.label} request timed out")
    if isinstance(exc, sdk.connection):
        return ProviderError(ProviderFailure.CONNECTION, f"Could not reach {sdk.label}")
    if isinstance(exc, sdk.status):
        return status_error(sdk.label, getattr(exc, "status_code", 0))
    return ProviderError(ProviderFailure.UNKNOWN, f"{sdk.label} call failed: {type(exc).__name__}")


ClientT = TypeVar("ClientT")


class SdkModel(Generic[ClientT]):
    """What every adapter holds: the model's name at its provider, and the provider's SDK
    client (one per process, shared by that provider's models; the Batch API transports send
    through it too)."""

    def __init__(self, name: str, client: ClientT) -> None:
        self.name = name
        self.client = client
