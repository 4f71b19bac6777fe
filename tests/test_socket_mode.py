"""`supportbot serve` with SLACK_APP_TOKEN connects out over Socket Mode (through SLACK_API_URL's
apps.connections.open), acknowledges an event envelope and answers it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.conftest import dm
from tests.fakes.models import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_cli import env, event_body, serve, serve_env, workdir  # noqa: F401  (fixtures)


async def test_socket_mode_receives_acknowledges_and_answers_an_event(
    serve_env: dict[str, str],  # noqa: F811
    workdir: Path,  # noqa: F811
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    socket_env = serve_env | {"SLACK_APP_TOKEN": "xapp-test"}
    socket_env.pop("SLACK_SIGNING_SECRET", None)  # not needed in Socket Mode
    async with serve(socket_env, workdir, tmp_path / "serve.log") as served:

        async def connected() -> bool:
            return bool(fake_slack.calls_to("apps.connections.open"))

        await served.wait_for(connected, "apps.connections.open was called")
        [opened] = fake_slack.calls_to("apps.connections.open")
        assert opened.token == "xapp-test"
        event = dm("where is my order 1042?", ts=f"{int(time.time()) - 1}.999999")
        envelope = fake_slack.push_event(json.loads(event_body(event)))

        async def answered() -> bool:
            return bool(fake_slack.posts())

        await served.wait_for(answered, "a reply was posted over the Web API")
        assert {"envelope_id": envelope} in [
            {"envelope_id": a.get("envelope_id")} for a in fake_slack.socket_acks
        ]
        [post] = fake_slack.posts()
        assert post["thread_ts"] == event["ts"] and "shipped" in post["text"]
        assert await served.stop() == 0, served.output
