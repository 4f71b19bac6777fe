"""Several workspaces through Slack's install flow (OAuth mode), over real HTTP against the fake
Slack: `/slack/install`, `/slack/oauth_redirect`, each workspace answered with its own token,
and single-workspace mode (SLACK_BOT_TOKEN) unchanged (docs/issue-15-plan.md §3, §9 B3)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.cli.workspaces import _list as list_workspaces
from bot.errors import ConfigError
from bot.install import BOT_SCOPES, Installations, SlackMode, check_mode
from bot.slack_clients import InstalledWorkspaces, WorkspaceNotInstalled
from bot.store import workspace_rows
from bot.store.models import Feedback, Message
from tests.conftest import Bot, dm
from tests.fakes.events import (
    app_uninstalled,
    envelope,
    feedback_click,
    shared_mention,
    tokens_revoked,
)
from tests.fakes.slack import OAUTH_CLIENT, FakeSlack
from tests.test_identity import TRACKING
from tests.test_images import PNG, with_files
from tests.test_manifest import BOT_SCOPES as MANIFEST_SCOPES

OAUTH = {
    "slack_bot_token": "",
    "slack_client_id": OAUTH_CLIENT[0],
    "slack_client_secret": OAUTH_CLIENT[1],
}
COOKIE = "slack-app-oauth-state"


async def _begin(bot: Bot) -> tuple[str, str]:
    """`GET /slack/install`: the state Slack is sent to approve with, and the browser cookie."""
    url = bot.server.make_url("/slack/install")
    async with bot.http.get(url, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        location = resp.headers["Location"]
        cookie = resp.cookies[COOKIE].value
    assert location.startswith("https://slack.com/oauth/v2/authorize?")
    query = parse_qs(urlparse(location).query)
    assert query["client_id"] == [OAUTH_CLIENT[0]]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    return query["state"][0], cookie


async def _callback(bot: Bot, code: str, state: str, cookie: str | None) -> int:
    """Slack's redirect back, the cookie sent by hand (aiohttp keeps Secure cookies off http)."""
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie is not None else {}
    url = bot.server.make_url("/slack/oauth_redirect")
    params = {"code": code, "state": state}
    async with bot.http.get(url, params=params, headers=headers, allow_redirects=False) as resp:
        return resp.status


async def install(bot: Bot, slack: FakeSlack, team_id: str) -> str:
    """The whole flow for `team_id`; the bot token Slack minted for it."""
    state, cookie = await _begin(bot)
    assert await _callback(bot, slack.grant(team_id), state, cookie) == 200
    return next(t for t, i in slack.installations.items() if i.team_id == team_id)


async def test_installing_stores_the_workspace_and_its_events_are_answered_with_its_own_token(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)
    token = await install(bot, fake_slack, "T0NEW")
    assert token.startswith("xoxb-T0NEW-")
    clients = bot.services.clients
    assert isinstance(clients, InstalledWorkspaces)
    assert await clients.token_for("T0NEW") == token
    with pytest.raises(WorkspaceNotInstalled):
        await clients.token_for("T0OTHER")

    body = envelope(dm("where is my order?"), installing_team="T0NEW", bot_user="UBOT_T0NEW")
    assert await bot.event(body=body) == 200
    await bot.settle()
    posts = fake_slack.calls_to("chat.postMessage")
    assert posts, "the event from the new workspace was not answered"
    assert {call.token for call in posts} == {token}


async def test_a_callback_without_the_browser_cookie_or_with_a_used_state_is_refused(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)
    state, cookie = await _begin(bot)
    assert await _callback(bot, fake_slack.grant("T0NEW"), state, None) == 400
    assert await _callback(bot, fake_slack.grant("T0NEW"), state, cookie) == 200
    # The state was consumed: the same redirect again (a replay) installs nothing more.
    before = dict(fake_slack.installations)
    assert await _callback(bot, fake_slack.grant("T0NEW"), state, cookie) == 401
    assert fake_slack.installations == before


async def _messages(bot: Bot) -> int:
    async with bot.services.db.session() as s:
        return len((await s.exec(select(Message))).all())


@pytest.mark.parametrize("removal", ["app_uninstalled", "tokens_revoked"])
async def test_uninstalling_or_revoking_deletes_the_installation_and_stops_posting(
    start_bot: Any, fake_slack: FakeSlack, removal: str
) -> None:
    bot = await start_bot(**OAUTH)
    await install(bot, fake_slack, "T0NEW")
    clients = bot.services.clients
    assert isinstance(clients, InstalledWorkspaces)
    await clients.token_for("T0NEW")  # cached
    body = (
        app_uninstalled(installing_team="T0NEW")
        if removal == "app_uninstalled"
        else tokens_revoked(bot=["UBOT_T0NEW"], installing_team="T0NEW")
    )
    assert await bot.event(body=body) == 200
    await bot.settle()
    with pytest.raises(WorkspaceNotInstalled):
        await clients.token_for("T0NEW")
    stored = await _messages(bot)
    event = envelope(dm("still there?"), installing_team="T0NEW", bot_user="UBOT_T0NEW")
    assert await bot.event(body=event) == 200
    await bot.settle()
    assert await _messages(bot) == stored
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_an_event_of_a_workspace_never_installed_is_acked_and_nothing_is_stored(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)
    body = envelope(dm("where is my order?"), installing_team="T0NONE", bot_user="UBOT_T0NONE")
    assert await bot.event(body=body) == 200
    await bot.settle()
    assert await _messages(bot) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_single_workspace_mode_serves_no_install_routes(bot: Bot) -> None:
    for path in ("/slack/install", "/slack/oauth_redirect?code=c&state=s"):
        async with bot.http.get(bot.server.make_url(path), allow_redirects=False) as resp:
            assert resp.status == 404
    assert check_mode(bot.services.settings) is SlackMode.SINGLE
    # An uninstall is taken (200, not Bolt's 404 for an unhandled event) and only logged.
    assert await bot.event(body=app_uninstalled()) == 200


def test_settings_refuse_both_a_bot_token_and_oauth_credentials(make_settings: Any) -> None:
    settings = make_settings(slack_client_id=OAUTH_CLIENT[0], slack_client_secret="x" * 12)
    for refuse in (settings.check_serve, lambda: check_mode(settings)):
        with pytest.raises(ConfigError) as refused:
            refuse()
        assert "SLACK_BOT_TOKEN" in str(refused.value)
        assert "SLACK_CLIENT_ID" in str(refused.value)
    half = make_settings(slack_bot_token="", slack_client_id=OAUTH_CLIENT[0])
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET"):
        half.check_serve()
    assert check_mode(make_settings(**OAUTH)) is SlackMode.OAUTH
    make_settings(**OAUTH).check_serve()  # a model key and a signing secret are set


def test_the_install_flow_asks_for_the_manifests_scopes() -> None:
    assert list(BOT_SCOPES) == MANIFEST_SCOPES


async def test_install_tokens_never_reach_the_logs_even_at_debug(
    start_bot: Any, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await start_bot(**OAUTH)
    token = await install(bot, fake_slack, "T0NEW")
    body = envelope(dm("where is my order?"), installing_team="T0NEW", bot_user="UBOT_T0NEW")
    await bot.event(body=body)
    await bot.settle()
    logging.getLogger("slack_bolt").debug("the store answered bot_token=%s", token)
    assert caplog.records
    assert not [r for r in caplog.records if token in r.getMessage()]
    assert any("[hidden]" in r.getMessage() for r in caplog.records)


async def test_an_image_from_an_installed_workspace_is_downloaded_with_its_token(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    """The fake serves a team's files to that team's bot tokens only (a sign-in page otherwise)."""
    bot = await start_bot(**OAUTH)
    await install(bot, fake_slack, "T0NEW")
    photo = fake_slack.host_file("broken.png", "image/png", PNG, team="T0NEW")
    event = with_files("my order 1042 arrived like this", [photo])
    assert (
        await bot.event(body=envelope(event, installing_team="T0NEW", bot_user="UBOT_T0NEW")) == 200
    )
    await bot.settle()
    content = bot.anthropic.requests[0]["messages"][-1]["content"]
    assert any(block["type"] == "image" for block in content)


async def test_a_workspace_of_an_enterprise_grid_org_is_found_by_its_team(bot: Bot) -> None:
    """slack_sdk finds a bot by org and team; a Grid workspace's install carries its org, which
    the bot learns from the installation itself (an event or an outbox row names only the
    team), so its replies are posted with its own token, not refused as not installed."""
    store = Installations(OAUTH_CLIENT[0], bot.services.db.engine)
    await store.async_save(
        Installation(
            app_id="A1", enterprise_id="E0GRID", team_id="T0GRID", user_id="U1",
            bot_token="xoxb-grid-1", bot_id="B1", bot_user_id="UBOT1", bot_scopes="chat:write",
        )
    )  # fmt: skip
    workspaces = InstalledWorkspaces(store, AsyncWebClient(token="xoxb-unused"))
    assert await workspaces.token_for("T0GRID") == "xoxb-grid-1"
    assert await store.enterprise_of("T0NONE") is None
    with pytest.raises(WorkspaceNotInstalled):
        await workspaces.token_for("T0NONE")


async def test_a_leads_alert_goes_out_with_its_workspaces_token(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    """An alert for the leads (a budget reached, a reply given up) is posted by the workspace
    it is about, not by a workspace-less client that OAuth mode does not have."""
    bot = await start_bot(**OAUTH, leads_channel="CLEADS")
    token = await install(bot, fake_slack, "T0NEW")
    fake_slack.add_channel("CLEADS", "leads", ["T0NEW"])
    await bot.services.poster.alert("T0NEW", "The daily budget was reached.")
    [alert] = [c for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == "CLEADS"]
    assert alert.token == token and alert.response["ok"] is True
    [row] = await bot.outbox()
    assert row.state == "posted"


async def test_the_installer_is_a_new_workspaces_first_lead_and_a_reinstall_keeps_its_leads(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    bot = await start_bot(**OAUTH)  # the process's leads (SUPPORTBOT_LEAD_USERS) are ULEAD
    fake_slack.add_team("T0NEW", "New Co")
    state, cookie = await _begin(bot)
    assert await _callback(bot, fake_slack.grant("T0NEW", installer="UBOSS"), state, cookie) == 200
    row = await workspace_rows.load(bot.services.db, "T0NEW")
    assert row is not None
    assert (row.name, row.installed_by, row.lead_users) == ("New Co", "UBOSS", ["UBOSS"])
    workspaces = bot.services.workspaces
    assert await workspaces.is_lead("T0NEW", "UBOSS")
    assert not await workspaces.is_lead("T0NEW", "ULEAD")  # another workspace's lead is not one
    status, body = await bot.command("/costs", "today", user="UBOSS", team="T0NEW")
    assert status == 200 and body.startswith('{"') and "Costs" in json.loads(body)["text"]

    # Another user reinstalls (say, to grant new scopes): the leads stay as they are.
    state, cookie = await _begin(bot)
    assert await _callback(bot, fake_slack.grant("T0NEW", installer="UOTHER"), state, cookie) == 200
    row = await workspace_rows.load(bot.services.db, "T0NEW")
    assert row is not None and (row.installed_by, row.lead_users) == ("UOTHER", ["UBOSS"])


async def test_an_uninstall_marks_the_workspace_and_a_reinstall_clears_the_mark(
    start_bot: Any, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = await start_bot(**OAUTH)
    fake_slack.add_team("T0NEW", "New Co")
    await install(bot, fake_slack, "T0NEW")
    assert await bot.event(body=app_uninstalled(installing_team="T0NEW")) == 200
    await bot.settle()
    row = await workspace_rows.load(bot.services.db, "T0NEW")
    assert row is not None and row.uninstalled_at is not None and row.lead_users == ["UINSTALLER"]
    capsys.readouterr()
    await list_workspaces(bot.services.settings, as_json=False)
    assert capsys.readouterr().out == (
        "T0NEW (New Co) leads channel (SUPPORTBOT_LEADS_CHANNEL), leads UINSTALLER, uninstalled\n"
    )
    await install(bot, fake_slack, "T0NEW")
    row = await workspace_rows.load(bot.services.db, "T0NEW")
    assert row is not None and row.uninstalled_at is None


async def test_a_customers_click_in_a_shared_channel_is_authorized_as_the_channels_workspace(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    """A customer of another organisation rates an answer in a Slack Connect channel: the click
    names their own team, which never installed the app; it counts for the channel's workspace."""
    bot = await start_bot(**OAUTH)
    token = await install(bot, fake_slack, "T0NEW")
    fake_slack.add_team("T0CUST", "Customer Co")
    fake_slack.add_channel("C0SHARED", "shared", ("T0NEW", "T0CUST"))
    mention = shared_mention(
        "<@UBOT_T0NEW> where is my order?",
        "UCUST",
        "C0SHARED",
        sender_team="T0CUST",
        installing_team="T0NEW",
    )
    assert await bot.event(body=mention) == 200
    await bot.settle()
    [answer] = [p for p in fake_slack.posts_in("C0SHARED") if p.get("blocks")]
    click = {
        "team": {"id": "T0CUST", "domain": "customer"},
        "user": {"id": "UCUST", "team_id": "T0CUST"},
        "is_enterprise_install": False,
    }
    status, _ = await bot.interaction(feedback_click(answer, "feedback_up", "UCUST") | click)
    assert status == 200
    await bot.settle()
    async with bot.services.db.session() as s:
        [vote] = (await s.exec(select(Feedback))).all()
    assert (vote.user_id, vote.value, vote.team_id) == ("UCUST", "up", "T0NEW")
    assert {c.token for c in fake_slack.calls_to("chat.postMessage")} == {token}


async def test_an_installed_workspaces_member_is_known_by_their_profile_read_with_its_token(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    """Who is asking is read from Slack with the asker's workspace's own token: a confirmed
    member of an installed workspace gets their order, with no lead's link."""
    bot = await start_bot(**OAUTH)
    token = await install(bot, fake_slack, "T0NEW")
    fake_slack.add_user("UCAROL", "alice@example.com", "Carol", team_id="T0NEW")
    event = envelope(
        dm("where is my order 1042?", user="UCAROL"), installing_team="T0NEW", bot_user="UBOT_T0NEW"
    )
    assert await bot.event(body=event) == 200
    await bot.settle()
    assert TRACKING in fake_slack.posts()[-1]["text"]
    assert {c.token for c in fake_slack.calls_to("users.info")} == {token}
    assert {c.token for c in fake_slack.calls_to("auth.test")} <= {token}
