"""The fake Slack's behaviours that the Slack Connect and several-workspace tests rely on
(docs/issue-15-plan.md §9), each checked through slack_sdk's own client as the bot uses it; and
that by default it answers as it did for one workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import ClientSession
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import BOT_USER_ID, OAUTH_CLIENT, TEAM_ID, FakeSlack
from tests.fakes.slack_teams import manifest_scopes

Client = Callable[[str], AsyncWebClient]


@pytest.fixture
async def client(fake_slack: FakeSlack) -> AsyncIterator[Client]:
    made: list[AsyncWebClient] = []

    def make(token: str) -> AsyncWebClient:
        made.append(AsyncWebClient(token=token, base_url=fake_slack.api_url))
        return made[-1]

    yield make
    for each in made:
        if each.session is not None:
            await each.session.close()


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


async def test_auth_test_answers_for_the_team_of_each_token(
    connect: FakeSlack, client: Client
) -> None:
    token = connect.install("T0ACME")
    assert token.startswith("xoxb-T0ACME-")
    acme = await client(token).auth_test()
    assert (acme["team_id"], acme["user_id"], acme["bot_id"], acme["team"]) == (
        "T0ACME",
        "UBOT_T0ACME",
        "BBOT_T0ACME",
        "Acme",
    )
    default = await client("xoxb-test").auth_test()
    assert (default["team_id"], default["user_id"], default["bot_id"]) == (
        TEAM_ID,
        BOT_USER_ID,
        "BBOT",
    )
    assert "enterprise_id" not in default.data


async def test_the_default_token_still_reports_an_org_wide_install(
    fake_slack: FakeSlack, client: Client
) -> None:
    fake_slack.enterprise_id = "E1"
    answer = await client("xoxb-test").auth_test()
    assert (answer["enterprise_id"], answer["is_enterprise_install"]) == ("E1", True)


async def test_an_unknown_bot_token_is_the_default_team_unless_the_fake_is_strict(
    fake_slack: FakeSlack, client: Client
) -> None:
    assert (await client("xoxb-wrong").auth_test())["team_id"] == TEAM_ID
    fake_slack.strict_tokens = True
    assert await error_of(client("xoxb-wrong").auth_test()) == "invalid_auth"
    assert await error_of(client("xoxb-wrong").chat_postMessage(channel="C1", text="x")) == (
        "invalid_auth"
    )


async def test_uninstalling_revokes_that_teams_tokens_only(
    connect: FakeSlack, client: Client
) -> None:
    acme = connect.install("T0ACME")
    connect.uninstall("T0ACME")
    assert await error_of(client(acme).auth_test()) == "token_revoked"
    assert (await client("xoxb-test").auth_test())["team_id"] == TEAM_ID


async def test_an_oauth_code_is_good_once_for_a_token_of_the_team_that_granted_it(
    connect: FakeSlack, client: Client
) -> None:
    code = connect.grant("T0ACME", installer="UACMEADMIN")
    oauth = client("")
    answer = await oauth.oauth_v2_access(
        client_id=OAUTH_CLIENT[0], client_secret=OAUTH_CLIENT[1], code=code
    )
    assert answer["team"] == {"id": "T0ACME", "name": "Acme"}
    assert answer["authed_user"] == {"id": "UACMEADMIN"}
    assert (answer["token_type"], answer["bot_user_id"]) == ("bot", "UBOT_T0ACME")
    assert answer["scope"] == manifest_scopes() and "chat:write" in answer["scope"].split(",")
    assert (answer["enterprise"], answer["is_enterprise_install"]) == (None, False)
    assert (await client(answer["access_token"]).auth_test())["team_id"] == "T0ACME"
    again = oauth.oauth_v2_access(
        client_id=OAUTH_CLIENT[0], client_secret=OAUTH_CLIENT[1], code=code
    )
    assert await error_of(again) == "invalid_code"
    assert connect.calls_to("oauth.v2.access")[0].basic == OAUTH_CLIENT  # sent as Basic auth


@pytest.mark.parametrize(
    ("client_id", "secret", "error"),
    [
        ("9999.9999", OAUTH_CLIENT[1], "invalid_client_id"),
        (OAUTH_CLIENT[0], "wrong-secret", "bad_client_secret"),
        (OAUTH_CLIENT[0], OAUTH_CLIENT[1], "invalid_code"),
    ],
)
async def test_oauth_refuses_a_wrong_client_or_an_unknown_code(
    fake_slack: FakeSlack, client: Client, client_id: str, secret: str, error: str
) -> None:
    code = "never-granted" if error == "invalid_code" else fake_slack.grant(TEAM_ID)
    call = client("").oauth_v2_access(client_id=client_id, client_secret=secret, code=code)
    assert await error_of(call) == error


async def test_conversations_info_of_a_shared_channel_depends_on_who_asks(
    connect: FakeSlack, client: Client
) -> None:
    host = (await client("xoxb-test").conversations_info(channel="C0SHARED"))["channel"]
    assert (host["is_ext_shared"], host["is_shared"], host["is_org_shared"]) == (True, True, False)
    assert (host["context_team_id"], host["conversation_host_id"]) == (TEAM_ID, TEAM_ID)
    assert host["connected_team_ids"] == [TEAM_ID, "T0ACME"]
    assert host["shared_team_ids"] == ["T0ACME"] and host["internal_team_ids"] == []
    acme = await client(connect.install("T0ACME")).conversations_info(channel="C0SHARED")
    assert (acme["channel"]["context_team_id"], acme["channel"]["shared_team_ids"]) == (
        "T0ACME",
        [TEAM_ID],
    )
    globex = client(connect.install("T0GLOBEX")).conversations_info(channel="C0SHARED")
    assert await error_of(globex) == "channel_not_found"


async def test_conversations_info_can_lack_fields_and_knows_private_channels_and_dms(
    connect: FakeSlack, client: Client
) -> None:
    connect.add_channel(
        "G0PRIV", "acme-private", [TEAM_ID, "T0ACME"], private=True, omit={"connected_team_ids"}
    )
    slack = client("xoxb-test")
    private = (await slack.conversations_info(channel="G0PRIV"))["channel"]
    assert (private["is_private"], private["is_group"], private["is_channel"]) == (
        True,
        True,
        False,
    )
    assert "connected_team_ids" not in private and private["shared_team_ids"] == ["T0ACME"]
    assert (await slack.conversations_info(channel="D0001"))["channel"]["is_im"] is True
    internal = (await slack.conversations_info(channel="C0001"))["channel"]  # never added
    assert (internal["is_ext_shared"], internal["context_team_id"]) == (False, TEAM_ID)


async def test_team_info_names_a_team_or_the_callers_own(
    connect: FakeSlack, client: Client
) -> None:
    slack = client("xoxb-test")
    globex = (await slack.team_info(team="T0GLOBEX"))["team"]
    assert (globex["name"], globex["domain"], globex["email_domain"], globex["enterprise_id"]) == (
        "Globex",
        "globex",
        "globex.com",
        "E0GLOBEX",
    )
    assert (await slack.team_info())["team"]["id"] == TEAM_ID
    assert await error_of(slack.team_info(team="T0NOBODY")) == "team_not_found"


async def test_users_of_other_teams_are_visible_only_through_a_shared_channel(
    connect: FakeSlack, client: Client
) -> None:
    slack = client("xoxb-test")
    joe = (await slack.users_info(user="UACME1"))["user"]
    assert joe["team_id"] == "T0ACME" and "email" not in joe["profile"]  # Acme hides it
    assert "is_stranger" not in joe
    ann = (await slack.users_info(user="UACME2"))["user"]
    assert ann["profile"]["email"] == "ann@acme.com"
    assert await error_of(slack.users_info(user="UGLOBEX")) == "user_not_found"  # no channel
    connect.add_channel("C0GLOBEX", "globex-support", [TEAM_ID, "E0GLOBEX"])  # shared with the org
    gus = (await slack.users_info(user="UGLOBEX"))["user"]
    assert gus["enterprise_user"] == {"enterprise_id": "E0GLOBEX", "teams": ["T0GLOBEX"]}
    acme = client(connect.install("T0ACME"))
    assert (await acme.users_info(user="USTAFF"))["user"]["team_id"] == TEAM_ID
    assert await error_of(acme.users_info(user="UGLOBEX")) == "user_not_found"


async def test_a_user_of_a_team_the_fake_was_not_told_about_is_visible_as_before(
    fake_slack: FakeSlack, client: Client
) -> None:
    fake_slack.add_user("UOTHER", "o@example.com", "O", team_id="T0OTHER")
    assert (await client("xoxb-test").users_info(user="UOTHER"))["user"]["team_id"] == "T0OTHER"


async def test_posts_know_their_workspace_and_stay_in_its_channels(
    connect: FakeSlack, client: Client
) -> None:
    host, acme = client("xoxb-test"), client(connect.install("T0ACME"))
    await host.chat_postMessage(channel="C0SHARED", text="from the host")
    await acme.chat_postMessage(channel="C0SHARED", text="from acme")
    await acme.chat_postMessage(channel="D0ACME", text="a DM")
    await host.chat_postMessage(channel="C0001", text="an internal channel")  # never added
    connect.add_channel("C0INTERNAL", "internal", [TEAM_ID])
    assert (
        await error_of(acme.chat_postMessage(channel="C0INTERNAL", text="x")) == "channel_not_found"
    )
    assert await error_of(acme.chat_postEphemeral(channel="C0INTERNAL", user="U1", text="x")) == (
        "channel_not_found"
    )
    assert [(p["text"], p["team"]) for p in connect.posts_in("C0SHARED")] == [
        ("from the host", TEAM_ID),
        ("from acme", "T0ACME"),
    ]
    posted = [p["team"] for p in connect.posts() if p["ts"]]  # a refused post has no ts
    assert posted == [TEAM_ID, "T0ACME", "T0ACME", TEAM_ID]
    await acme.views_publish(user_id="UACME2", view={"type": "home", "blocks": []})
    assert connect.calls_to("views.publish")[0].team == "T0ACME"


async def test_a_file_is_served_to_the_bot_tokens_of_the_team_that_hosts_it(
    connect: FakeSlack,
) -> None:
    acme_token = connect.install("T0ACME")
    ours = connect.host_file("ours.txt", "text/plain", b"ours")
    theirs = connect.host_file("theirs.txt", "text/plain", b"theirs", team="T0ACME")

    async def fetch(url: str, token: str) -> bytes:
        headers = {"Authorization": f"Bearer {token}"}
        async with ClientSession() as http, http.get(url, headers=headers) as resp:
            return await resp.read()

    assert await fetch(ours["url_private"], "xoxb-test") == b"ours"
    assert await fetch(theirs["url_private"], acme_token) == b"theirs"
    assert b"sign in" in await fetch(theirs["url_private"], "xoxb-test")
    assert b"sign in" in await fetch(ours["url_private"], acme_token)
    assert b"sign in" in await fetch(ours["url_private"], "xoxb-wrong")  # never installed
    connect.uninstall("T0ACME")
    assert b"sign in" in await fetch(theirs["url_private"], acme_token)
