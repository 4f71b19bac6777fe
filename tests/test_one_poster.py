"""Only the poster posts: `chat.postMessage` is called in one module, Slack's `Sender`
(`bot/slack_out.py`), which the poster (`bot/poster.py`) posts outbox rows through; the
listeners only answer a click privately (ephemeral notes, modals). The one post that is no
outbox row, the leads' message about a new shared channel, goes through the same sender
(`post_suggestion`), once per channel by a conditional UPDATE of its row."""

from __future__ import annotations

import ast
from pathlib import Path

import bot

POSTING = {"chat_postMessage", "chat_scheduleMessage", "chat_meMessage"}


def callers_of(names: set[str]) -> dict[str, list[str]]:
    """Each module of `bot/` that calls one of `names`, with the functions calling them."""
    root = Path(bot.__file__).parent
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Attribute) and node.attr in names:
                    found.setdefault(str(path.relative_to(root.parent)), []).append(fn.name)
    return found


def test_only_the_senders_post_to_slack() -> None:
    assert callers_of(POSTING) == {
        "bot/slack_out.py": [
            "post_reply",
            "post_escalation",
            "post_alert",
            "post_suggestion",
            "tell_lead",
        ]
    }
