"""The model's Markdown as Slack mrkdwn: bold, links, headings, lists; code left alone."""

from __future__ import annotations

import re

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
SLACK_TEXT_LIMIT = 39_000


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline_plain(text: str) -> str:
    links: list[str] = []

    def keep_link(m: re.Match[str]) -> str:
        links.append(f"<{m.group(2)}|{_escape(m.group(1)).replace('|', '/')}>")
        return f"\x00{len(links) - 1}\x00"

    text = _escape(_LINK.sub(keep_link, text))
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def _inline(text: str) -> str:
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(
        part
        if len(part) > 1 and part.startswith("`") and part.endswith("`")
        else _inline_plain(part)
        for part in parts
    )


def to_mrkdwn(markdown: str) -> str:
    """Convert common Markdown to Slack's mrkdwn and keep it within Slack's text limit."""
    lines = []
    in_code = False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            lines.append("```")
            continue
        if in_code:
            lines.append(line)
            continue
        heading = _HEADING.match(line)
        if heading:
            lines.append(f"*{_inline(heading.group(1))}*")
            continue
        bullet = _BULLET.match(line)
        if bullet:
            line = f"{bullet.group(1)}• {line[bullet.end() :]}"
        lines.append(_inline(line))
    text = "\n".join(lines)
    if len(text) > SLACK_TEXT_LIMIT:
        marker = "\n…"  # room is kept for it, so the result stays within the limit
        text = text[: SLACK_TEXT_LIMIT - len(marker)].rsplit("\n", 1)[0] + marker
    return text
