"""Which account a new Slack Connect channel probably belongs to: a suggestion for a lead to
confirm, never a mapping by itself (docs/issue-15-plan.md §9 B4). Pure: no database, no Slack.

The outside team as team.info describes it is matched against the workspace's accounts: its
`email_domain` (Slack gives a comma list) against the accounts' email domains, its Slack
`domain` (the `acme` of acme.slack.com) against their first labels, and its name, case-folded,
against the account names. A channel with two or more outside organisations gets no suggestion:
one channel, one customer, or a lead decides."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.accounts.views import AccountView


def organisations(external_teams: Iterable[Mapping[str, Any]]) -> set[str]:
    """The distinct organisations among a channel's outside teams: a Grid org's teams are one."""
    return {str(t.get("enterprise_id") or t.get("id") or "") for t in external_teams} - {""}


def _email_domains(team: Mapping[str, Any]) -> set[str]:
    raw = str(team.get("email_domain") or "")
    return {d.strip().lower() for d in raw.split(",") if d.strip()}


def _matches(team: Mapping[str, Any], account: AccountView) -> int:
    """How strongly `team` names `account`: 3 by email domain, 2 by Slack domain, 1 by name."""
    if _email_domains(team) & account.domains:
        return 3
    slack_domain = str(team.get("domain") or "").strip().lower()
    if slack_domain and slack_domain in {d.split(".", 1)[0] for d in account.domains}:
        return 2
    name = str(team.get("name") or "").strip().casefold()
    return 1 if name and name == account.name.strip().casefold() else 0


def suggest(
    external_teams: Sequence[Mapping[str, Any]], accounts: Sequence[AccountView]
) -> AccountView | None:
    """The one account the channel's outside organisation matches best; None when the channel
    has no or several outside organisations, nothing matches, or two accounts match equally."""
    if len(organisations(external_teams)) != 1:
        return None
    scored: dict[int, tuple[int, AccountView]] = {}
    for team in external_teams:
        for account in accounts:
            score = _matches(team, account)
            if score and score > scored.get(account.id, (0, account))[0]:
                scored[account.id] = (score, account)
    if not scored:
        return None
    best = max(score for score, _ in scored.values())
    top = [account for score, account in scored.values() if score == best]
    return top[0] if len(top) == 1 else None
