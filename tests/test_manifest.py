"""manifest.yml is a valid Slack app manifest with exactly the events, scopes and features we need.

tests/data/slack_manifest.schema.json is a copy of Slack's published manifest schema
(slackapi/manifest-schema, schemas/manifest.schema.1.0.0.json), MIT licence.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = ROOT / "manifest.yml"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "slack_manifest.schema.json"

BOT_EVENTS = {
    "app_mention",
    "message.im",
    "message.channels",
    "message.groups",
    "app_home_opened",
    "assistant_thread_started",
    "app_uninstalled",  # OAuth mode: Bolt's revocation listeners delete the installation
    "tokens_revoked",
    "reaction_added",  # ✅ resolves a ticket, 👀 takes it (bot/listeners/reactions.py)
    # Slack Connect channels: recognised and suggested to leads (bot/listeners/accounts.py)
    "channel_shared",
    "channel_unshared",
    "member_joined_channel",
}
BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "chat:write",
    "users:read",
    "users:read.email",
    "commands",
    "assistant:write",
    "files:read",
    "files:write",
    "usergroups:read",
    "reactions:read",
    "channels:read",
    "groups:read",
    "team:read",
]
EVENTS_URL = "https://example.com/slack/events"
REDIRECT_URL = "https://example.com/slack/oauth_redirect"


def _manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _schema() -> dict[str, Any]:
    data = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _errors(manifest: dict[str, Any]) -> list[str]:
    schema = _schema()
    # Use the draft the schema declares ($schema: draft-07).
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return sorted(
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in validator.iter_errors(manifest)
    )


def test_schema_declares_draft7() -> None:
    assert jsonschema.validators.validator_for(_schema()) is jsonschema.Draft7Validator


def test_manifest_matches_slack_schema() -> None:
    errors = _errors(_manifest())
    assert not errors, "manifest.yml fails Slack's schema:\n" + "\n".join(errors)


def test_background_color_is_a_hex_colour() -> None:
    # The schema spells this constraint "regex", which JSON Schema ignores, so check it here.
    pattern = _schema()["definitions"]["app-manifests.v1.display_information.schema"]["properties"][
        "background_color"
    ]["regex"]
    assert re.fullmatch(pattern, _manifest()["display_information"]["background_color"])


def test_metadata_and_display_information() -> None:
    m = _manifest()
    assert m["_metadata"] == {"major_version": 1, "minor_version": 1}
    assert m["display_information"]["name"] == "supportbot"
    assert m["display_information"]["description"].strip()


def test_bot_events_are_exactly_what_the_bot_handles() -> None:
    events = _manifest()["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) == BOT_EVENTS
    assert len(events["bot_events"]) == len(BOT_EVENTS)
    assert events["request_url"] == EVENTS_URL
    assert "user_events" not in events


def test_bot_scopes_are_exactly_the_needed_ones() -> None:
    scopes = _manifest()["oauth_config"]["scopes"]
    assert scopes["bot"] == BOT_SCOPES
    assert set(scopes) == {"bot"}


def test_the_install_flow_redirects_to_the_bots_oauth_redirect_route() -> None:
    """OAuth mode (several workspaces): Slack sends the installer back to the route Bolt's flow
    serves (bot/app.py), on the same host as the events URL."""
    assert _manifest()["oauth_config"]["redirect_urls"] == [REDIRECT_URL]
    assert REDIRECT_URL.rsplit("/slack/", 1)[0] == EVENTS_URL.rsplit("/slack/", 1)[0]


def test_costs_command_and_interactivity() -> None:
    m = _manifest()
    commands = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert set(commands) == {"/costs"}
    costs = commands["/costs"]
    assert costs["url"] == EVENTS_URL
    assert costs["should_escape"] is True  # so @user arrives as <@U…|name>
    assert costs["description"].strip()
    assert costs["usage_hint"].strip()

    interactivity = m["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"] == EVENTS_URL


def test_app_home_bot_user_and_settings() -> None:
    m = _manifest()
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["features"]["app_home"]["messages_tab_enabled"] is True
    assert m["features"]["app_home"].get("messages_tab_read_only_enabled", False) is False
    assert m["features"]["bot_user"] == {"display_name": "supportbot", "always_online": True}
    settings = m["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_validator_rejects_missing_required_name() -> None:
    broken = copy.deepcopy(_manifest())
    del broken["display_information"]["name"]
    errors = _errors(broken)
    assert any("'name' is a required property" in e for e in errors), errors


def test_validator_rejects_unknown_scope_type() -> None:
    broken = copy.deepcopy(_manifest())
    broken["oauth_config"]["scopes"]["robot"] = ["chat:write"]
    errors = _errors(broken)
    assert any(e.startswith("oauth_config/scopes:") and "'robot'" in e for e in errors), errors


def test_validator_rejects_bad_command_and_url() -> None:
    broken = copy.deepcopy(_manifest())
    broken["features"]["slash_commands"][0]["command"] = "costs"
    broken["settings"]["event_subscriptions"]["request_url"] = "example.com/slack/events"
    errors = _errors(broken)
    assert len(errors) == 2, errors


def test_the_agent_view_is_enabled_with_suggested_prompts() -> None:
    view = _manifest()["features"]["assistant_view"]
    assert view["assistant_description"]
    assert all(p["title"] and p["message"] for p in view["suggested_prompts"])
