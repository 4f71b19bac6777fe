"""Images a customer attaches, fetched from Slack with the bot token for the model to see."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import aiohttp
from yarl import URL

from bot.agent.models.base import ImageInput

log = logging.getLogger(__name__)
# What each accepted type starts with; a mismatch (e.g. Slack's login page) is not an image.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


@dataclass
class Attachments:
    images: list[ImageInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the customer is told about the rest


def _shown_name(raw: object) -> str:
    """A file's name as the customer's note shows it: as code, so that no part of it reads as
    a Markdown link or formatting (the reply's mrkdwn conversion escapes `&`, `<`, `>` in code
    too, so no mention or Slack link either); backticks and line breaks taken out, cut short."""
    name = " ".join(str(raw or "").replace("`", "'").split())
    name = name if len(name) <= 80 else name[:79] + "…"
    return f"`{name}`" if name else "a file"


def _looks_like(media_type: str, data: bytes) -> bool:
    if media_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(_MAGIC[media_type])


# Slack's own file hosts (files.slack.com; GovSlack's files.slack-gov.com).
_SLACK_FILE_DOMAINS = (".slack.com", ".slack-gov.com")


class FetchFailure(StrEnum):
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"


def token_url(raw: str, api_url: str) -> URL | None:
    """`raw` parsed, if the bot token may go there: https on one of Slack's file hosts at the
    default port, or the very origin (scheme, host and port) of the Web API the token already
    goes to (SLACK_API_URL: GovSlack, a local fake in tests); never with userinfo."""
    try:
        url = URL(raw)
    except ValueError:  # e.g. a backslash in the authority, which parsers read differently
        return None
    if not url.is_absolute() or url.user is not None or url.password is not None:
        return None
    if url.origin() == URL(api_url).origin():
        return url
    if (
        url.scheme == "https"
        and url.explicit_port in (None, 443)
        and (url.host or "").endswith(_SLACK_FILE_DOMAINS)
    ):
        return url
    return None


def _size_text(max_bytes: int) -> str:
    if max_bytes >= 1024 * 1024:
        return f"{max_bytes / 1024 / 1024:.0f} MB"
    return f"{max(1, max_bytes // 1024)} KB"


async def load(
    files: list[dict[str, Any]], token: str, max_bytes: int, api_url: str
) -> Attachments:
    """Fetch the images among `files` (at most `max_bytes` each); notes for everything else."""
    result = Attachments()
    if not files:
        return result
    timeout = aiohttp.ClientTimeout(total=20)
    too_large = "{name} is larger than the " + _size_text(max_bytes) + " I can read."
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for f in files:
            name = _shown_name(f.get("name"))
            media_type = str(f.get("mimetype") or "")
            url = f.get("url_private_download") or f.get("url_private")
            if media_type not in _MAGIC:
                result.notes.append(
                    f"I can only read images (PNG, JPEG, GIF or WebP), so I couldn't read {name}."
                )
                continue
            if int(f.get("size") or 0) > max_bytes or not url:
                result.notes.append(too_large.format(name=name))
                continue
            data = await _fetch(http, str(url), token, max_bytes, api_url)
            if data is FetchFailure.TOO_LARGE:
                result.notes.append(too_large.format(name=name))
            elif isinstance(data, FetchFailure) or not _looks_like(media_type, data):
                result.notes.append(f"I couldn't open {name}; could you send it again?")
            else:
                result.images.append(ImageInput(media_type, data))
    return result


async def _fetch(
    http: aiohttp.ClientSession, raw_url: str, token: str, max_bytes: int, api_url: str
) -> bytes | FetchFailure:
    """The whole file, read chunk by chunk up to `max_bytes` (a single read returns only what
    has arrived, often the first 64 KiB)."""
    url = token_url(raw_url, api_url)
    if url is None:
        log.warning("an attached file's URL is not on Slack's file hosts; not fetched")
        return FetchFailure.UNREADABLE
    data = bytearray()
    try:
        # The URL object checked above is the one fetched: no second parser to disagree with.
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
            if resp.status != 200:
                log.warning("fetching an attached file failed with HTTP %s", resp.status)
                return FetchFailure.UNREADABLE
            if (resp.content_length or 0) > max_bytes:
                return FetchFailure.TOO_LARGE
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    return FetchFailure.TOO_LARGE
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("fetching an attached file failed: %s", type(exc).__name__)
        return FetchFailure.UNREADABLE
    return bytes(data)
