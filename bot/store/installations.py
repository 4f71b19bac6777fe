"""slack_sdk's installation and OAuth-state tables, on the bot's own database.

Slack's install flow (OAuth mode, docs/issue-15-plan.md §3) stores each workspace's bot token in
`slack_bots` (and the installer's record in `slack_installations`), and the one-use `state` of
each install attempt in `slack_oauth_states`. The tables are exactly slack_sdk's, built by its
own table builders and registered here on `SQLModel.metadata`, so the migration (0015) is
compared against them: a slack_sdk upgrade that changes its schema fails
tests/test_migrations.py instead of failing at the first install.

The tokens are kept as plain text (slack_sdk's schema); backups of the database hold them.
"""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Table
from sqlmodel import SQLModel


class InstallTable(StrEnum):
    INSTALLATIONS = "slack_installations"
    BOTS = "slack_bots"
    OAUTH_STATES = "slack_oauth_states"


INSTALLATIONS: Table = SQLAlchemyInstallationStore.build_installations_table(
    SQLModel.metadata, InstallTable.INSTALLATIONS.value
)
BOTS: Table = SQLAlchemyInstallationStore.build_bots_table(
    SQLModel.metadata, InstallTable.BOTS.value
)
OAUTH_STATES: Table = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    SQLModel.metadata, InstallTable.OAUTH_STATES.value
)
