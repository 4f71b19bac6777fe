"""What the fake Slack knows of workspaces: teams, installations (tokens), channels and who is
in them, and the answers Slack gives about them (docs/issue-15-plan.md §2 and §9)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@dataclass(frozen=True)
class FakeTeam:
    """A workspace as team.info describes it; `enterprise_id` when it belongs to a Grid org."""

    id: str
    name: str
    domain: str
    email_domain: str = ""
    enterprise_id: str | None = None

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "email_domain": self.email_domain,
            "enterprise_id": self.enterprise_id,
            "icon": {"image_default": True},
        }

    def is_in(self, members: tuple[str, ...]) -> bool:
        """Whether `members` (team or org ids) name this team or its org."""
        return self.id in members or (
            self.enterprise_id is not None and self.enterprise_id in members
        )


class Installation(NamedTuple):
    """What a bot token stands for: the team it was installed in, and the bot's own ids."""

    team_id: str
    bot_user_id: str
    bot_id: str


@dataclass(frozen=True)
class FakeChannel:
    """A channel and the organisations in it: `teams[0]` hosts it; more than one: shared."""

    id: str
    name: str
    teams: tuple[str, ...]
    private: bool = False
    omit: frozenset[str] = field(default_factory=frozenset)

    def info(self, caller: str) -> dict[str, Any]:
        """conversations.info's `channel` for a caller of team `caller`, shaped as slack-go's
        fixture of a Slack Connect channel; `omit` drops fields real answers sometimes lack."""
        ext_shared = len(self.teams) > 1
        answer: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.private,
            "is_group": self.private,
            "is_im": False,
            "is_private": self.private,
            "is_shared": ext_shared,
            "is_ext_shared": ext_shared,
            "is_org_shared": False,
            "context_team_id": caller,
            "conversation_host_id": self.teams[0],
            "connected_team_ids": list(self.teams) if ext_shared else [],
            "shared_team_ids": [t for t in self.teams if t != caller] if ext_shared else [],
            "internal_team_ids": [],
            "pending_connected_team_ids": [],
            "pending_shared": [],
            "is_pending_ext_shared": False,
            "is_member": True,
            "is_archived": False,
        }
        return {k: v for k, v in answer.items() if k not in self.omit}


def im_info(channel_id: str) -> dict[str, Any]:
    return {"id": channel_id, "is_im": True, "is_channel": False, "is_group": False}


@cache
def manifest_scopes() -> str:
    """The bot scopes the manifest asks for, as oauth.v2.access reports the granted ones."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    return ",".join(manifest["oauth_config"]["scopes"]["bot"])
