"""Where a Slack event came from: the installation that received it, and the sender's team.

In a Slack Connect channel the two differ. Bolt's `context.team_id` is the installing team
(`authorizations[0].team_id`); the envelope's top-level `team_id` of a `message` event is the
*sender's* team, so it is never taken as the installation (docs/issue-15-plan.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

# Slack ids are short; anything longer is not one, and the columns are 32 wide.
_ID_WIDTH = 32


def _id(value: object) -> str | None:
    """A team or enterprise id as Slack sends it, or None for a missing or malformed one."""
    if not isinstance(value, str) or not value or len(value) > _ID_WIDTH:
        return None
    return value if value.isascii() and value.isalnum() else None


@dataclass(frozen=True)
class EventOrigin:
    """The installation that received an event, and the team its sender belongs to."""

    installing_team: str
    installing_enterprise: str | None
    # The sender's team (`T…`), or their organisation (`E…`) when Slack names only that;
    # None when the event does not say (never guessed from the delivery side).
    sender_team: str | None
    shared: bool

    def sender_is_staff(self) -> bool:
        """The sender belongs to the installing team or to its enterprise."""
        ours = {self.installing_team, self.installing_enterprise} - {None, ""}
        return self.sender_team is not None and self.sender_team in ours


def _sender_of_mention(event: dict[str, Any], shared: bool) -> str | None:
    """An app_mention names its sender's team in `user_team` (also `source_team`,
    `user_profile.team`); its `team` is the side of the channel the delivery came through,
    which in a shared channel may be either organisation."""
    profile = event.get("user_profile")
    profile_team = profile.get("team") if isinstance(profile, dict) else None
    for candidate in (event.get("user_team"), event.get("source_team"), profile_team):
        if _id(candidate):
            return _id(candidate)
    return None if shared else _id(event.get("team"))


def origin_of(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
) -> EventOrigin:
    """The origin of an Events API delivery, from Bolt's context and the envelope."""
    shared = body.get("is_ext_shared_channel") is True
    installing = _id(context.team_id) or _id(body.get("team_id")) or ""
    if event.get("type") == "app_mention":
        sender = _sender_of_mention(event, shared)
    else:
        sender = _id(event.get("user_team")) or _id(event.get("team"))
    return EventOrigin(
        installing_team=installing,
        installing_enterprise=_id(context.enterprise_id),
        sender_team=sender,
        shared=shared,
    )
