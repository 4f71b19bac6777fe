"""The model's Markdown as Slack mrkdwn: bold, links, headings, lists; code kept as code."""

from __future__ import annotations

import re

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
# Linear in the text: link text is bounded (each "[" of a long run without "]" rescanned the
# rest), and a heading's closing "#"s are stripped in code (a lazy title before "\s*#*\s*$"
# retried every split of a long space run).
# A Markdown link [label](https://...): the label holds no bracket, so a run of "[" fails
# at once instead of each one scanning up to 300 characters.
MARKDOWN_LINK = re.compile(r"\[([^\[\]]{1,300})\]\((https?://[^)\s]++)\)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
SLACK_TEXT_LIMIT = 39_000


def escape_mrkdwn(text: str) -> str:
    """Text shown as itself in Slack mrkdwn: `&`, `<` and `>` escaped, so no part of it can
    become a mention (`<!channel>`, `<@U…>`), a link (`<url|label>`) or an entity. Every
    piece of customer, tool or article text the bot posts as mrkdwn goes through here."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link_target(url: str) -> str:
    # A URL ends at `|` or `>` in Slack's link syntax: percent-encode them so a URL cannot
    # carry a label or text of its own.
    url = url.replace("&", "&amp;")
    return url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _inline_plain(text: str) -> str:
    text = text.replace("\x00", "")  # the placeholder of a kept link below
    links: list[str] = []

    def keep_link(m: re.Match[str]) -> str:
        label = escape_mrkdwn(m.group(1)).replace("|", "/")
        links.append(f"<{_link_target(m.group(2))}|{label}>")
        return f"\x00{len(links) - 1}\x00"

    text = escape_mrkdwn(MARKDOWN_LINK.sub(keep_link, text))
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def _inline(text: str) -> str:
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(
        escape_mrkdwn(part)  # Slack parses mentions and links inside code too
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
            lines.append(escape_mrkdwn(line))
            continue
        heading = _HEADING.match(line)
        if heading:
            title = heading.group(1).rstrip().rstrip("#").rstrip()
            lines.append(f"*{_inline(title)}*")
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


def split_for_slack(text: str, limit: int = 3000) -> list[str]:
    """Cut mrkdwn into pieces of at most `limit` characters at paragraph or line breaks,
    closing and reopening a code block that spans a cut, so each piece renders on its own."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    in_code = False
    for line in text.split("\n"):
        while len(line) > limit - 8:  # a single huge line: hard cut
            head, line = line[: limit - 8], line[limit - 8 :]
            pieces, current, in_code = _flush(pieces, current, in_code), "", in_code
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) + 4 > limit:
            pieces = _flush(pieces, current, in_code)
            current = ("```\n" if in_code else "") + line
        else:
            current = candidate
        if line.strip().startswith("```"):
            in_code = not in_code
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def _flush(pieces: list[str], current: str, in_code: bool) -> list[str]:
    if current:
        pieces.append(current + ("\n```" if in_code else ""))
    return pieces
