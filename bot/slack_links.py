"""Links to Slack threads: made for the leads' posts and reports, read from `/costs` and the CLI."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

_LINK = re.compile(
    r"^<?https?://[^/\s]*slack\.com/archives/(?P<channel>[A-Z0-9]+)/p(?P<sec>\d{10})(?P<usec>\d{6})"
    r"(?:\?(?P<query>[^\s|>]*))?(?:\|[^>]*)?>?$"
)


def thread_url(channel_id: str, thread_ts: str) -> str:
    """The web link of a thread (of its root message)."""
    return f"https://slack.com/archives/{channel_id}/p{thread_ts.replace('.', '')}"


def parse_thread_link(link: str) -> tuple[str, str] | None:
    """(channel, thread ts) of a Slack message link, None if it is not one.

    `https://acme.slack.com/archives/C123/p1700000000123456` is the message 1700000000.123456;
    a reply's link carries its thread as `?thread_ts=...`. Slack may wrap links in `<...|label>`.
    """
    match = _LINK.match(link.strip())
    if not match:
        return None
    ts = f"{match['sec']}.{match['usec']}"
    thread_ts = (parse_qs(match["query"] or "").get("thread_ts") or [ts])[0]
    if not re.fullmatch(r"\d{10}\.\d{6}", thread_ts):
        return None
    return match["channel"], thread_ts
