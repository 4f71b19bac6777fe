"""The agent (AI app) view: suggested prompts when a customer starts an assistant thread."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    prompts = [
        {"title": text[:75], "message": text} for text in services.settings.suggested_prompts[:4]
    ]

    @app.event("assistant_thread_started")
    async def on_thread_started(event: dict[str, Any], client: AsyncWebClient) -> None:
        thread = event.get("assistant_thread")
        if not isinstance(thread, dict):
            return
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not isinstance(channel, str) or not isinstance(thread_ts, str) or not prompts:
            return
        await client.assistant_threads_setSuggestedPrompts(
            channel_id=channel,
            thread_ts=thread_ts,
            title="How can I help?",
            prompts=prompts,
        )
