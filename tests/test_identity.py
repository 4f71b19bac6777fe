"""Identity: a Slack profile email is trusted only for confirmed, full members of the installing
team; everyone else reaches their orders through a lead's link."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.views import AccountView, ChannelMapping, ReplyMode, SharedChannelView
from bot.agent import identity
from bot.agent.identity import AskerRole, IdentityResolver, InstallingTeam, vouched_email
from bot.slack_clients import SingleWorkspace
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
        s.add(CustomerLink(team_id=TEAM_ID, slack_user_id="UIMPOSTOR", email="alice@example.com"))
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


class Clock:
    """time.monotonic for the identity module, moved by hand: cache expiry without sleeping."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr(identity.time, "monotonic", lambda: self.now)


def resolver(slack: FakeSlack, leads: list[str] | None = None) -> IdentityResolver:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    return IdentityResolver(SingleWorkspace(client), leads or [])


SLACK_DOWN = {"ok": False, "error": "fatal_error"}


async def test_a_lead_groups_members_are_cached_five_minutes_and_kept_when_slack_fails(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    fake_slack.usergroups["SLEADS"] = ["ULEAD"]
    r = resolver(fake_slack, ["SLEADS"])
    assert await r.is_lead("ULEAD") and not await r.is_lead("UBOB")
    fake_slack.usergroups["SLEADS"] = ["UBOB"]  # the group changes in Slack
    clock.now += 299.5  # still within the cache: the old members, Slack not asked again
    assert await r.is_lead("ULEAD") and not await r.is_lead("UBOB")
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1
    clock.now += 0.5  # exactly five minutes: asked again
    assert await r.is_lead("UBOB") and not await r.is_lead("ULEAD")
    assert len(fake_slack.calls_to("usergroups.users.list")) == 2
    clock.now += 301  # long past: asked again, and Slack fails
    fake_slack.fail("usergroups.users.list", 200, SLACK_DOWN)
    # Slack failing keeps the last known members rather than demoting (or promoting) anyone.
    assert await r.is_lead("UBOB")
    assert len(fake_slack.calls_to("usergroups.users.list")) == 3
    # A group never read, while Slack fails: nobody is a lead through it.
    fake_slack.fail("usergroups.users.list", 200, SLACK_DOWN)
    assert not await resolver(fake_slack, ["SLEADS"]).is_lead("UBOB")


async def test_a_profile_is_cached_five_minutes(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    r = resolver(fake_slack)
    asker = await r.resolve("UALICE", None)
    assert (asker.email, asker.name) == ("alice@example.com", "Alice")
    fake_slack.add_user("UALICE", "alice2@example.com", "Alicia")  # the profile changes
    clock.now += 299.5
    asker = await r.resolve("UALICE", None)
    assert (asker.email, asker.name) == ("alice@example.com", "Alice")
    assert len(fake_slack.calls_to("users.info")) == 1
    clock.now += 0.5
    asker = await r.resolve("UALICE", None)
    assert (asker.email, asker.name) == ("alice2@example.com", "Alicia")
    assert len(fake_slack.calls_to("users.info")) == 2
    fake_slack.add_user("UALICE", "alice3@example.com", "Al")
    clock.now += 301  # long past
    asker = await r.resolve("UALICE", None)
    assert (asker.email, asker.name) == ("alice3@example.com", "Al")


async def test_slack_failing_to_say_who_someone_is_trusts_no_profile_and_is_asked_again(
    fake_slack: FakeSlack,
) -> None:
    r = resolver(fake_slack)
    fake_slack.fail("auth.test", 200, SLACK_DOWN)
    asker = await r.resolve("UALICE", None)
    assert (asker.email, asker.name) == (None, "")
    assert not fake_slack.calls_to("users.info")  # no team to vouch: the profile is not read
    fake_slack.fail("users.info", 200, SLACK_DOWN)
    asker = await r.resolve("UALICE", None)
    assert (asker.email, asker.name) == (None, "")
    # Neither failure is remembered: the next message reads the profile.
    asker = await r.resolve("UALICE", None)
    assert (asker.email, asker.name) == ("alice@example.com", "Alice")
    # Once auth.test has answered, it is not asked again for later users.
    await r.resolve("UBOB", None)
    await r.resolve("ULEAD", None)
    assert len(fake_slack.calls_to("auth.test")) == 2


@pytest.mark.parametrize(
    ("profile", "handle", "shown"),
    [
        ({"display_name": "Ally", "real_name": "Alice Smith"}, "alice", "Ally"),
        ({"display_name": "", "real_name": "Alice Smith"}, "alice", "Alice Smith"),
        ({"display_name": "", "real_name": ""}, "alice", "alice"),
        ({}, None, ""),
    ],
)
async def test_the_name_shown_to_leads_falls_back_from_display_to_real_name_to_handle(
    fake_slack: FakeSlack, profile: dict[str, str], handle: str | None, shown: str
) -> None:
    user = fake_slack.add_user("UNAMED", "n@example.com")
    user["profile"] = profile | {"email": "n@example.com"}
    if handle is None:
        del user["name"]
    else:
        user["name"] = handle
    assert (await resolver(fake_slack).resolve("UNAMED", None)).name == shown


# --- Slack Connect: the account decides (docs/issue-15-plan.md §1.2) ------------------------


def _acme(
    mapping: str = "confirmed", teams: frozenset[str] = frozenset({"T0ACME"})
) -> SharedChannelView:
    account = AccountView(1, TEAM_ID, "Acme", "gold", "acc-1", frozenset({"acme.com"}), teams)
    confirmed = ChannelMapping(mapping) == ChannelMapping.CONFIRMED
    return SharedChannelView(
        TEAM_ID,
        "C0SHARED",
        ChannelMapping(mapping),
        account if confirmed else None,
        ReplyMode.MENTIONS,
        frozenset(teams),
    )


async def test_in_a_shared_channel_only_a_confirmed_accounts_team_is_attributed(
    connect: FakeSlack,
) -> None:
    r = resolver(connect, ["ULEAD", "USTAFF"])
    ann = await r.resolve("UACME2", None, team_id=TEAM_ID, sender_team="T0ACME", channel=_acme())
    assert (ann.role, ann.email, ann.team_id) == (AskerRole.CUSTOMER, "ann@acme.com", "T0ACME")
    assert ann.account is not None and ann.account.external_id == "acc-1" and not ann.is_lead
    for channel, who, team in (
        (_acme("pending"), "UACME2", "T0ACME"),  # not confirmed by a lead
        (_acme("ignored"), "UACME2", "T0ACME"),
        (_acme(), "UGLOBEX", "T0GLOBEX"),  # a third organisation in a mapped channel
        (None, "UGLOBEX", "T0GLOBEX"),  # a channel the directory does not know
    ):
        asker = await r.resolve(who, None, team_id=TEAM_ID, sender_team=team, channel=channel)
        assert (asker.role, asker.email, asker.account) == (AskerRole.UNATTRIBUTED, None, None)
    # A lead's link outside the account's domains is ignored; inside it narrows.
    outside = CustomerLink(team_id=TEAM_ID, slack_user_id="UACME2", email="ann@gmail.com")
    inside = CustomerLink(team_id=TEAM_ID, slack_user_id="UACME2", email="Bob@Acme.com")
    for link, email in ((outside, None), (inside, "bob@acme.com")):
        asker = await r.resolve(
            "UACME2", link, team_id=TEAM_ID, sender_team="T0ACME", channel=_acme()
        )
        assert asker.email == email and asker.account is not None
    # The company's own people (a lead too) are staff there: no email, no lead power.
    staff = await r.resolve("USTAFF", None, team_id=TEAM_ID, sender_team=TEAM_ID, channel=_acme())
    assert (staff.role, staff.email, staff.is_lead) == (AskerRole.STAFF, None, False)


async def test_a_grid_sender_named_by_its_org_is_attributed_to_an_account_listing_the_org(
    connect: FakeSlack,
) -> None:
    r = resolver(connect)
    channel = _acme(teams=frozenset({"E0GLOBEX"}))
    gus = await r.resolve("UGLOBEX", None, team_id=TEAM_ID, sender_team="E0GLOBEX", channel=channel)
    assert gus.role == AskerRole.CUSTOMER and gus.account is not None
    assert gus.email is None  # gus@globex.com is not in the account's domains (acme.com)
