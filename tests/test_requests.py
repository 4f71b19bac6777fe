"""The HTTP door of /slack/events: the signature is checked on the raw bytes before anything
parses them, bodies are bounded, and a malformed body gets a clean 400 without a traceback."""

from __future__ import annotations

import logging
import time

import pytest

from bot.app import MAX_REQUEST_BYTES
from tests.conftest import Bot, sign

DEEP = "[" * 200_000  # nests deeper than any JSON parser recurses


def no_traceback(text: str) -> None:
    for internal in ("Traceback", "RecursionError", "Exception", 'File "'):
        assert internal not in text


async def test_a_deep_body_without_a_valid_signature_is_refused_before_it_is_parsed(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, text = await bot.post(DEEP, signature="v0=" + "0" * 64)
    assert status == 401
    no_traceback(text)
    assert not any(r.exc_info for r in caplog.records)  # nothing tried to parse it


async def test_a_deep_body_with_a_valid_signature_gets_a_clean_400(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status, text = await bot.post(DEEP)
    assert status == 400 and "malformed request body" in text
    no_traceback(text)
    [line] = [r for r in caplog.records if "not a Slack payload" in r.getMessage()]
    assert "[[" not in line.getMessage() and line.exc_info is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"type": "event_callback", "event": ', "application/json"),
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback", "event": "a string"}', "application/json"),
    ],
)
async def test_a_signed_malformed_body_gets_a_clean_400(
    bot: Bot, body: str, content_type: str
) -> None:
    status, text = await bot.post(body, content_type=content_type)
    assert status == 400 and "malformed request body" in text
    no_traceback(text)


async def test_a_body_that_is_not_utf8_is_refused_unless_signed(bot: Bot) -> None:
    raw = b'{"text": "\xff\xfe"}'
    ts = int(time.time())
    headers = {"X-Slack-Request-Timestamp": str(ts), "Content-Type": "application/json"}
    async with bot.http.post(
        bot.url, data=raw, headers=headers | {"X-Slack-Signature": "v0=0"}
    ) as r:
        assert r.status == 401
    # Signed over the raw bytes, as Slack signs.
    import hashlib
    import hmac

    from tests.conftest import SIGNING_SECRET

    signature = (
        "v0="
        + hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    )
    async with bot.http.post(
        bot.url, data=raw, headers=headers | {"X-Slack-Signature": signature}
    ) as r:
        assert r.status == 400
        no_traceback(await r.text())


async def test_a_stale_timestamp_is_refused_even_with_a_matching_signature(bot: Bot) -> None:
    old = int(time.time()) - 600
    body = '{"type": "url_verification", "challenge": "c"}'
    status, _ = await bot.post(body, timestamp=old, signature=sign(body, old))
    assert status == 401


async def test_a_body_over_the_limit_is_refused_with_413(bot: Bot) -> None:
    status, text = await bot.post("x" * (MAX_REQUEST_BYTES + 1))
    assert status == 413
    no_traceback(text)


async def test_a_signed_url_verification_still_works(bot: Bot) -> None:
    status, text = await bot.post('{"type": "url_verification", "challenge": "abc"}')
    assert status == 200 and "abc" in text
