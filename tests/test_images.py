"""Images a customer attaches reach the model as image input (both providers); other files get
a polite note that only images are read."""

from __future__ import annotations

import base64
from typing import Any

from tests.conftest import dm

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def with_files(text: str, files: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return dm(text, subtype="file_share", files=files, **extra)


async def test_an_image_is_passed_to_anthropic_as_an_image_block(start_bot: Any) -> None:
    bot = await start_bot()
    photo = bot.slack.host_file("broken.png", "image/png", PNG)
    await bot.event(with_files("my order 1042 arrived like this", [photo]))
    await bot.settle()
    first = bot.anthropic.requests[0]["messages"][-1]["content"]
    image = next(b for b in first if b["type"] == "image")
    assert image["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": base64.b64encode(PNG).decode(),
    }
    assert first[-1] == {"type": "text", "text": "my order 1042 arrived like this"}
    assert "shipped" in bot.replies()[0]["text"]


async def test_an_image_is_passed_to_openai_as_a_data_url(start_bot: Any) -> None:
    bot = await start_bot(primary_model="openai:gpt-4o-mini")
    photo = bot.slack.host_file("label.jpg", "image/jpeg", JPEG)
    await bot.event(with_files("", [photo]))
    await bot.settle()
    parts = bot.openai.requests[0]["messages"][-1]["content"]
    assert parts[0]["type"] == "text"
    assert (
        parts[1]["image_url"]["url"] == "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    )


async def test_other_files_get_a_polite_note_without_a_model_call(start_bot: Any) -> None:
    bot = await start_bot()
    pdf = bot.slack.host_file("invoice.pdf", "application/pdf", b"%PDF-1.7")
    await bot.event(with_files("", [pdf]))
    await bot.settle()
    assert bot.anthropic.requests == []
    assert (
        "only read images" in bot.replies()[0]["text"] and "invoice.pdf" in bot.replies()[0]["text"]
    )


async def test_a_question_with_a_pdf_is_answered_and_the_pdf_explained(start_bot: Any) -> None:
    bot = await start_bot()
    pdf = bot.slack.host_file("invoice.pdf", "application/pdf", b"%PDF-1.7")
    await bot.event(with_files("where is my order 1042?", [pdf]))
    await bot.settle()
    text = bot.replies()[0]["text"]
    assert "shipped" in text and "invoice.pdf" in text
    assert all(b["type"] != "image" for b in bot.anthropic.requests[0]["messages"][-1]["content"])


async def test_too_large_and_unreadable_images_are_not_sent(start_bot: Any) -> None:
    bot = await start_bot(max_image_bytes=32)
    big = bot.slack.host_file("big.png", "image/png", PNG)  # 72 bytes > 32
    await bot.event(with_files("", [big]))
    await bot.settle()
    assert "larger than" in bot.replies()[0]["text"]

    bot2 = await start_bot(slack_bot_token="xoxb-wrong")  # Slack then serves a sign-in page
    photo = bot2.slack.host_file("p.png", "image/png", PNG)
    await bot2.event(with_files("", [photo]))
    await bot2.settle()
    assert "couldn't open `p.png`" in bot2.replies()[-1]["text"]
