"""Settings never show a secret when printed: tokens and keys are SecretStr, and DATABASE_URL
is shown without its password."""

from __future__ import annotations

import pytest

from bot.config import Settings

SECRETS = {
    "slack_bot_token": "xoxb-secret-bot-token",
    "slack_signing_secret": "secret-signing-value",
    "slack_app_token": "xapp-secret-app-token",
    "anthropic_api_key": "sk-ant-secret-key",
    "openai_api_key": "sk-secret-openai-key",
    "orders_api_token": "secret-orders-token",
}
DB_PASSWORD = "secret-db-password"


def test_repr_and_str_of_the_settings_show_no_secret() -> None:
    settings = Settings(
        _env_file=None,
        database_url=f"postgresql://bot:{DB_PASSWORD}@db.internal:5432/support",
        **SECRETS,
    )
    for shown in (repr(settings), str(settings), f"{settings}"):
        for secret in [*SECRETS.values(), DB_PASSWORD]:
            assert secret not in shown
        assert "postgresql://bot:***@db.internal:5432/support" in shown
    # The values themselves are intact where they are used.
    assert settings.slack_bot_token.get_secret_value() == SECRETS["slack_bot_token"]
    assert DB_PASSWORD in settings.database_url
    assert sorted(settings.secrets()) == sorted([*SECRETS.values(), DB_PASSWORD])


def test_the_secrets_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("ORDERS_API_TOKEN", "orders-from-env")
    settings = Settings(_env_file=None)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-env"
    assert settings.orders_api_token.get_secret_value() == "orders-from-env"
    assert "xoxb-from-env" not in repr(settings)
