"""Images a customer attaches reach the model as image input (both providers); other files get
a polite note that only images are read."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.agent import attachments
from tests.conftest import dm
from tests.fakes.slack import FakeSlack

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


async def test_an_image_is_read_whole_not_just_its_first_chunk(fake_slack: FakeSlack) -> None:
    photo = PNG + bytes(range(256)) * (3 * 1024 * 4)  # 3 MB and a bit, not all zeros
    hosted = fake_slack.host_file("3mb.png", "image/png", photo)
    loaded = await attachments.load([hosted], "xoxb-test", 5 * 1024 * 1024, fake_slack.api_url)
    assert loaded.notes == []
    [image] = loaded.images
    assert image.data == photo


async def test_an_image_larger_than_its_declared_size_and_the_limit_is_refused_politely(
    fake_slack: FakeSlack,
) -> None:
    photo = PNG + b"\x01" * 200_000
    hosted = fake_slack.host_file("liar.png", "image/png", photo) | {"size": 100}
    loaded = await attachments.load([hosted], "xoxb-test", 100_000, fake_slack.api_url)
    assert loaded.images == []
    assert loaded.notes == ["`liar.png` is larger than the 97 KB I can read."]


async def test_the_token_goes_to_no_other_port_of_the_slack_api_host(start_bot: Any) -> None:
    seen: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(body=PNG, content_type="image/png")

    app = web.Application()
    app.router.add_get("/files/{name}", serve)
    other = TestServer(app)  # same host (127.0.0.1) as the fake Slack API, another port
    await other.start_server()
    try:
        bot = await start_bot()
        url = str(other.make_url("/files/p.png"))
        photo = bot.slack.host_file("p.png", "image/png", PNG) | {
            "url_private": url,
            "url_private_download": url,
        }
        await bot.event(with_files("", [photo]))
        await bot.settle()
    finally:
        await other.close()
    assert seen == []
    assert "couldn't open `p.png`" in bot.replies()[-1]["text"]


API = "https://slack.com/api/"
FAKE = "http://127.0.0.1:8123/api/"


@pytest.mark.parametrize(
    ("url", "api_url", "allowed"),
    [
        ("https://files.slack.com/files-pri/T1-F1/p.png", API, True),
        ("https://files.slack.com:443/files-pri/T1-F1/p.png", API, True),
        ("https://files.slack-gov.com/files-pri/T1-F1/p.png", API, True),
        ("http://files.slack.com/files-pri/T1-F1/p.png", API, False),  # plain http
        ("https://files.slack.com:8443/files-pri/T1-F1/p.png", API, False),  # another port
        ("https://user:pw@files.slack.com/p.png", API, False),  # userinfo
        ("https://evil.example\\@files.slack.com/p.png", API, False),
        ("https://files.slack.com.evil.example/p.png", API, False),
        ("https://evilslack.com/p.png", API, False),
        ("http://slack.com/api/p.png", API, False),  # the API host, but not over https
        ("/files/p.png", API, False),  # relative
        ("http://127.0.0.1:8123/files/p.png", FAKE, True),  # SLACK_API_URL's own origin
        ("http://127.0.0.1:8124/files/p.png", FAKE, False),
        ("https://127.0.0.1:8123/files/p.png", FAKE, False),
    ],
)
def test_which_urls_get_the_bot_token(url: str, api_url: str, allowed: bool) -> None:
    assert (attachments.token_url(url, api_url) is not None) is allowed
