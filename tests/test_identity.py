"""Identity: a Slack profile email is trusted only for confirmed, full members of the installing
team; everyone else reaches their orders through a lead's link."""

from __future__ import annotations

from typing import Any

import pytest

from bot.agent.identity import InstallingTeam, vouched_email
from bot.store.models import CustomerLink
from tests.conftest import Bot, dm
from tests.fakes.slack import TEAM_ID, FakeSlack

TRACKING = "1Z999AA10123456784"  # alice@example.com's demo order 1042

# Users who claim alice@example.com in their profile but whom the workspace does not vouch for.
IMPOSTORS: dict[str, dict[str, Any]] = {
    "another team's user, unconfirmed": {"team_id": "T0OTHER", "email_confirmed": False},
    "another team's user, confirmed": {"team_id": "T0OTHER"},
    "a stranger through a shared channel": {"team_id": "T0OTHER", "stranger": True},
    "a multi-channel guest": {"guest": "multi"},
    "a single-channel guest": {"guest": "single"},
    "a member with an unconfirmed email": {"email_confirmed": False},
}


async def ask_for_alices_order(bot: Bot, user: str) -> str:
    await bot.event(dm("where is my order 1042?", user=user))
    await bot.settle()
    text: str = bot.replies()[-1]["text"]
    return text


@pytest.mark.parametrize("kind", list(IMPOSTORS))
async def test_a_profile_email_the_workspace_does_not_vouch_for_gets_no_order(
    bot: Bot, kind: str
) -> None:
    bot.slack.add_user("UIMPOSTOR", "alice@example.com", "Not Alice", **IMPOSTORS[kind])
    reply = await ask_for_alices_order(bot, "UIMPOSTOR")
    assert "shipped" not in reply and TRACKING not in reply
    assert "supportbot customers link" in reply  # told how to get linked
    # Nor did any model see her order.
    for request in bot.anthropic.requests:
        assert TRACKING not in str(request)


async def test_a_confirmed_member_of_the_installing_team_gets_their_order(bot: Bot) -> None:
    reply = await ask_for_alices_order(bot, "UALICE")
    assert "shipped" in reply and TRACKING in reply


async def test_a_linked_user_gets_the_order_of_the_email_a_lead_linked(bot: Bot) -> None:
    bot.slack.add_user("UIMPOSTOR", "alice@example.com", "Alice", team_id="T0OTHER")
    async with bot.services.db.session() as s:
        s.add(CustomerLink(slack_user_id="UIMPOSTOR", email="alice@example.com"))
        await s.commit()
    reply = await ask_for_alices_order(bot, "UIMPOSTOR")
    assert "shipped" in reply and TRACKING in reply


async def test_the_installing_team_comes_from_auth_test_not_from_the_event(bot: Bot) -> None:
    # An event that claims the other team as its own changes nothing: the bot's token's team
    # (auth.test) is the one whose members are vouched for.
    bot.slack.add_user("UIMPOSTOR", "alice@example.com", "Not Alice", team_id="T0OTHER")
    await bot.event(dm("where is my order 1042?", user="UIMPOSTOR", team="T0OTHER"))
    await bot.settle()
    assert TRACKING not in bot.replies()[-1]["text"]
    assert bot.slack.calls_to("auth.test")


async def test_an_org_wide_install_vouches_for_its_org_read_from_auth_test(
    start_bot: Any, fake_slack: FakeSlack
) -> None:
    """auth.test of an org-wide Enterprise Grid install names the org: a member of another
    workspace of that org is vouched for, one of another org is not."""
    fake_slack.enterprise_id = "E1"
    bot = await start_bot()
    for user_id, org in (("UORG", "E1"), ("UOTHERORG", "E9")):
        user = bot.slack.add_user(user_id, "alice@example.com", "Alice", team_id="T2")
        user["enterprise_user"] = {"enterprise_id": org, "teams": ["T2"]}
    assert TRACKING in await ask_for_alices_order(bot, "UORG")
    assert TRACKING not in await ask_for_alices_order(bot, "UOTHERORG")


def member(**extra: Any) -> dict[str, Any]:
    user = {
        "id": "U1",
        "team_id": TEAM_ID,
        "is_email_confirmed": True,
        "profile": {"email": "Alice@Example.com"},
    }
    return user | extra


@pytest.mark.parametrize(
    ("user", "team", "expected"),
    [
        (member(), InstallingTeam(TEAM_ID), "alice@example.com"),
        (member(deleted=True), InstallingTeam(TEAM_ID), None),
        (member(is_bot=True), InstallingTeam(TEAM_ID), None),
        (member(is_email_confirmed=None), InstallingTeam(TEAM_ID), None),  # field missing
        # Enterprise Grid, installed to one workspace: the user must belong to it.
        (
            member(enterprise_user={"enterprise_id": "E1", "teams": [TEAM_ID, "T2"]}),
            InstallingTeam(TEAM_ID),
            "alice@example.com",
        ),
        (
            member(enterprise_user={"enterprise_id": "E1", "teams": ["T2"]}),
            InstallingTeam(TEAM_ID),
            None,
        ),
        # Org-wide install: any workspace of the same org, no other org.
        (
            member(team_id="T2", enterprise_user={"enterprise_id": "E1", "teams": ["T2"]}),
            InstallingTeam(TEAM_ID, "E1"),
            "alice@example.com",
        ),
        (
            member(team_id="T2", enterprise_user={"enterprise_id": "E9", "teams": ["T2"]}),
            InstallingTeam(TEAM_ID, "E1"),
            None,
        ),
        (member(), InstallingTeam(TEAM_ID, "E1"), None),  # not in the org at all
        # Another workspace or org is refused whichever way its id sorts against ours.
        (member(team_id="T0000000"), InstallingTeam(TEAM_ID), None),
        (member(team_id="TZZZZZZZ"), InstallingTeam(TEAM_ID), None),
        (
            member(team_id="T2", enterprise_user={"enterprise_id": "E0", "teams": ["T2"]}),
            InstallingTeam(TEAM_ID, "E1"),
            None,
        ),
    ],
)
def test_which_profiles_are_vouched_for(
    user: dict[str, Any], team: InstallingTeam, expected: str | None
) -> None:
    assert vouched_email(user, team) == expected
