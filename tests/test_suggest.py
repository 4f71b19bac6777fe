"""`bot/accounts/suggest.py`: which account a new shared channel's outside organisation matches
(pure: no database, no Slack)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.accounts.suggest import organisations, suggest
from bot.accounts.views import AccountView


def account(id: int, name: str, *domains: str) -> AccountView:
    return AccountView(id, "T0001", name, "standard", None, frozenset(domains), frozenset())


ACME = account(1, "Acme Corp", "acme.com", "acme.io")
GLOBEX = account(2, "Globex", "globex.com")
ACCOUNTS = [ACME, GLOBEX]


def team(id: str, name: str = "", domain: str = "", email: str = "", org: str = "") -> Any:
    return {"id": id, "name": name, "domain": domain, "email_domain": email, "enterprise_id": org}


@pytest.mark.parametrize(
    ("teams", "expected"),
    [
        ([team("T1", "Someone", "x", "acme.io")], ACME),  # an email domain of the account
        ([team("T1", "Someone", "x", "other.com, ACME.com")], ACME),  # Slack's comma list
        ([team("T1", "Someone", "globex")], GLOBEX),  # the Slack domain, a domain's first label
        ([team("T1", "acme corp")], ACME),  # the name, case-folded
        ([team("T1", "Initech", "initech", "initech.com")], None),  # nothing matches
        ([team("T1", "Globex", "x", "acme.com")], ACME),  # the email domain beats the name
        ([team("T1", "Acme", "a", "acme.com"), team("T2", "Globex", "g", "globex.com")], None),
        ([team("T1", "Acme", "a", "acme.com"), team("T2", "Initech", "i", "initech.com")], None),
        # Two teams of one Grid organisation are one organisation.
        (
            [team("T1", "Acme EU", "a", "acme.com", "E1"), team("T2", "Acme US", "b", "", "E1")],
            ACME,
        ),
        ([], None),
    ],
)
def test_the_suggestion(teams: list[Any], expected: AccountView | None) -> None:
    assert suggest(teams, ACCOUNTS) == expected


def test_two_accounts_matching_alike_get_no_suggestion() -> None:
    twin = account(3, "Acme Corp Two", "acme.com")
    assert suggest([team("T1", "x", "x", "acme.com")], [ACME, twin]) is None


def test_organisations_count_a_grid_org_once() -> None:
    assert organisations([team("T1", org="E1"), team("T2", org="E1"), team("T3")]) == {"E1", "T3"}
