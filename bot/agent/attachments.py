"""Images a customer attaches, fetched from Slack with the bot token for the model to see."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import aiohttp

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


def _from_slack(url: str, api_url: str) -> bool:
    """Only Slack's own file hosts (or the configured API host) get the bot token."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if host == (urlparse(api_url).hostname or "") and parsed.scheme in ("http", "https"):
        return True
    return parsed.scheme == "https" and host.endswith((".slack.com", ".slack-gov.com"))


async def load(
    files: list[dict[str, Any]], token: str, max_bytes: int, api_url: str
) -> Attachments:
    """Fetch the images among `files` (at most `max_bytes` each); notes for everything else."""
    result = Attachments()
    if not files:
        return result
    timeout = aiohttp.ClientTimeout(total=20)
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
                limit_mb = max_bytes / 1024 / 1024
                result.notes.append(f"{name} is larger than the {limit_mb:.0f} MB I can read.")
                continue
            data = (
                await _fetch(http, str(url), token, max_bytes)
                if _from_slack(str(url), api_url)
                else None
            )
            if data is None or not _looks_like(media_type, data):
                result.notes.append(f"I couldn't open {name}; could you send it again?")
                continue
            result.images.append(ImageInput(media_type, data))
    return result


async def _fetch(http: aiohttp.ClientSession, url: str, token: str, max_bytes: int) -> bytes | None:
    try:
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
            if resp.status != 200:
                log.warning("fetching an attached file failed with HTTP %s", resp.status)
                return None
            data = await resp.content.read(max_bytes + 1)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("fetching an attached file failed: %s", type(exc).__name__)
        return None
    return data if len(data) <= max_bytes else None
