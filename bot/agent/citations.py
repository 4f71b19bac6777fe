"""Citations: an answer may only cite help articles the search tool returned in this turn."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.slack_format import MARKDOWN_LINK

# Link text is bounded: unbounded, each "[" of a long run without "]" rescanned the rest.
# What an unfounded citation or link costs the answer's confidence.
PENALTY = 0.25
# Between an answer and the articles it cites, listed under it.
SOURCES_MARK = "\n\n*Sources:* "


@dataclass(frozen=True)
class CitedAnswer:
    text: str
    confidence: float
    removed: int  # citations and links that matched nothing the tools returned


def apply_citations(
    text: str,
    confidence: float,
    citations: Iterable[str],
    articles: dict[str, tuple[str, str | None]],
    tool_texts: Iterable[str],
) -> CitedAnswer:
    """Keep citations of returned articles (listed as sources under the answer), unlink links
    that no tool result contains, and lower the confidence for each one removed."""
    known_urls = {url for _, url in articles.values() if url}
    seen = "\n".join(tool_texts)
    removed = 0
    valid: list[str] = []
    for cited in dict.fromkeys(citations):
        match = (
            cited
            if cited in articles
            else next((i for i, (_, url) in articles.items() if url and url == cited), None)
        )
        if match is None:
            removed += 1
        elif match not in valid:
            valid.append(match)

    def unlink(m: re.Match[str]) -> str:
        nonlocal removed
        if m.group(2) in known_urls or m.group(2) in seen:
            return m.group(0)
        removed += 1
        return m.group(1)

    text = MARKDOWN_LINK.sub(unlink, text)
    if valid:
        sources = ", ".join(
            f"[{articles[i][0]}]({articles[i][1]})" if articles[i][1] else articles[i][0]
            for i in valid
        )
        text = f"{text}{SOURCES_MARK}{sources}"
    return CitedAnswer(text, max(0.0, confidence - PENALTY * removed), removed)
