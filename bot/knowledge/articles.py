"""Help articles on disk: Markdown files with an optional front matter block.

    ---
    title: Returns and refunds
    url: https://help.example.com/returns
    ---
    # Returns and refunds
    ...

Without front matter (or without a `title`), the title is the first `# ` heading, else the file
name; without a `url` the article has none. An article's id is its path relative to the folder,
with `/` separators, so it stays the same across machines and restarts.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

# Part of every content hash: bump it when parsing changes, so every article is rewritten once.
PARSER_VERSION = "1"

# (relative path, mtime_ns, size) of every article file, sorted: changes when any file does.
Signature = tuple[tuple[str, int, int], ...]

_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_KEY_VALUE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:[ \t]*(.*?)[ \t]*$")


@dataclass
class Article:
    id: str
    title: str
    url: str | None
    body: str


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """The `key: value` pairs of a leading `---` block, and the text after it.

    Only flat `key: value` lines are read (no YAML library: titles and urls need no more). An
    unclosed block is not front matter: the whole text is the body.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        match = _KEY_VALUE.match(line)
        if match:
            meta[match.group(1).lower()] = _unquote(match.group(2))
    return meta, "\n".join(lines[end + 1 :])


def title_from_file_name(article_id: str) -> str:
    """`shipping/international-orders.md` -> `International orders`."""
    stem = Path(article_id).stem.replace("_", " ").replace("-", " ").strip()
    stem = " ".join(stem.split())
    return stem[:1].upper() + stem[1:] if stem else article_id


def parse_article(article_id: str, text: str) -> Article:
    """Title, url and body of one Markdown file's text."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    meta, body = split_front_matter(text)
    body = body.strip("\n")
    title = meta.get("title", "").strip()
    if not title:
        heading = _HEADING.search(body)
        title = heading.group(1).strip() if heading else ""
    url = meta.get("url", "").strip() or None
    return Article(
        id=article_id, title=title or title_from_file_name(article_id), url=url, body=body
    )


def content_hash(data: bytes) -> str:
    return hashlib.sha256(PARSER_VERSION.encode() + b"\0" + data).hexdigest()


def article_files(directory: Path) -> list[tuple[str, Path]]:
    """(id, path) of every `*.md` file under `directory`, sorted; hidden files and folders
    (`.git`, editor swap files) are skipped. Raises FileNotFoundError if it is no folder."""
    if not directory.is_dir():
        raise FileNotFoundError(f"The knowledge folder {directory} does not exist.")
    found: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith(".") or not name.lower().endswith(".md"):
                continue
            path = Path(root) / name
            found.append((path.relative_to(directory).as_posix(), path))
    return sorted(found)


def folder_signature(directory: Path) -> Signature:
    """Cheap to compute (one stat per file): equal signatures mean nothing to reindex."""
    entries: list[tuple[str, int, int]] = []
    for article_id, path in article_files(directory):
        try:
            stat = path.stat()
        except FileNotFoundError:  # deleted while we looked
            continue
        entries.append((article_id, stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def read_folder(directory: Path) -> dict[str, tuple[str, Article]]:
    """Every article of the folder by id, with its content hash."""
    articles: dict[str, tuple[str, Article]] = {}
    for article_id, path in article_files(directory):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # deleted while we looked
            continue
        text = data.decode("utf-8", errors="replace")
        articles[article_id] = (content_hash(data), parse_article(article_id, text))
    return articles
