"""Help-center answers through /slack/events: the search tool, cited sources, and citations or
links that match nothing the tool returned removed at a cost to confidence."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.knowledge import BUNDLED_DIR
from bot.store.models import ModelCall
from tests.conftest import dm
from tests.fakes.models import Turn


def final_with(text: str, confidence: float, citations: list[str]) -> Turn:
    args = {"text": text, "confidence": confidence, "citations": citations}
    return Turn(tool_calls=[("final_answer", args)])


async def test_a_policy_question_is_answered_from_the_help_center_with_its_source(
    start_bot: Any,
) -> None:
    bot = await start_bot()
    await bot.event(dm("how do returns work?"))
    await bot.settle()
    call = bot.anthropic.requests[0]
    assert call["messages"][-1]["content"][-1]["text"] == "how do returns work?"
    tool_use = bot.anthropic.requests[1]["messages"][-2]["content"][0]
    assert tool_use["name"] == "search_help_center"
    text = bot.replies()[0]["text"]
    assert "From our help center" in text
    assert "*Sources:* <https://help.example.com/returns|" in text


async def test_an_invented_citation_is_removed_and_lowers_confidence(start_bot: Any) -> None:
    bot = await start_bot()
    bot.anthropic.script = [
        Turn(tool_calls=[("search_help_center", {"query": "returns"})]),
        final_with(
            "Returns are free, see [our policy](https://evil.example/policy).",
            0.9,
            ["returns.md", "made-up-article.md"],
        ),
    ]
    await bot.event(dm("are returns free?"))
    await bot.settle()
    async with bot.services.db.session() as s:
        calls = list((await s.exec(select(ModelCall))).all())
    # 0.9 - 2 x 0.25 (one invented citation, one unfounded link) < 0.7: the strong tier answers.
    strong = [c for c in calls if c.tier == "strong"]
    assert strong and strong[0].reasons == "low_confidence"
    text = bot.replies()[0]["text"]
    assert "evil.example" not in text


async def test_an_invented_link_is_unlinked_in_the_answer_the_customer_gets(
    start_bot: Any,
) -> None:
    """Confident enough to stay on the primary tier after the one deduction: the answer that
    goes out keeps the words but not the invented link."""
    bot = await start_bot()
    bot.anthropic.script = [
        Turn(tool_calls=[("search_help_center", {"query": "returns"})]),
        final_with(
            "Returns are free, see [our policy](https://evil.example/policy).",
            1.0,
            ["returns.md"],
        ),
    ]
    await bot.event(dm("are returns free?"))
    await bot.settle()
    async with bot.services.db.session() as s:
        calls = list((await s.exec(select(ModelCall))).all())
    assert {c.tier for c in calls} == {"primary"}  # 1.0 - 0.25 is still enough
    text = bot.replies()[0]["text"]
    assert "Returns are free, see our policy." in text and "evil.example" not in text
    assert "*Sources:* <https://help.example.com/returns|" in text


async def test_a_changed_article_is_found_without_a_restart(start_bot: Any, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(BUNDLED_DIR, folder)
    bot = await start_bot(knowledge_dir=str(folder))
    bot.services.knowledge._check_interval = 0
    (folder / "gift-cards.md").write_text(
        "---\ntitle: Gift cards\nurl: https://help.example.com/gift-cards\n---\n"
        "Gift cards never expire and can pay for any order.\n",
        encoding="utf-8",
    )
    hits = await bot.services.knowledge.search("do gift cards expire")
    assert hits and hits[0].title == "Gift cards"
