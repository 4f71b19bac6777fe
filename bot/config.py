"""Settings: one pydantic-settings class, read once at start and passed in."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from escalation.guards import MAX_CHECKED_CHARS
from escalation.policy import PolicyConfig

PROVIDERS = ("anthropic", "openai")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_model_ref(ref: str) -> tuple[str, str]:
    """Split `provider:model` into its parts, refusing unknown providers."""
    provider, sep, model = ref.partition(":")
    if not sep or not model or provider not in PROVIDERS:
        raise ConfigError(
            f"Model reference {ref!r} is not `provider:model` with provider one of "
            f"{', '.join(PROVIDERS)} (for example `anthropic:claude-haiku-4-5`)."
        )
    return provider, model


def _check_model_ref(ref: str) -> None:
    """In a validator: a ValueError, so the message names the variable that holds `ref`."""
    try:
        parse_model_ref(ref)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc


class Settings(BaseSettings):
    """Every setting of supportbot; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    slack_bot_token: str = Field(default="", validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str = Field(default="", validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str = Field(default="", validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")

    anthropic_api_key: str = Field(default="", validation_alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str = Field(default="", validation_alias="ANTHROPIC_BASE_URL")
    openai_api_key: str = Field(default="", validation_alias="OPENAI_API_KEY")
    openai_base_url: str = Field(default="", validation_alias="OPENAI_BASE_URL")

    database_url: str = Field(default="sqlite:///supportbot.db", validation_alias="DATABASE_URL")
    db_pool_size: int = Field(default=15, ge=1, validation_alias="SUPPORTBOT_DB_POOL_SIZE")

    primary_model: str = Field(
        default="anthropic:claude-haiku-4-5", validation_alias="SUPPORTBOT_PRIMARY_MODEL"
    )
    strong_model: str = Field(
        default="anthropic:claude-sonnet-4-5", validation_alias="SUPPORTBOT_STRONG_MODEL"
    )
    fallback_models: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="SUPPORTBOT_FALLBACK_MODELS"
    )
    strong_fallback_models: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="SUPPORTBOT_STRONG_FALLBACK_MODELS"
    )
    model_cooldown_seconds: float = Field(
        default=60.0, ge=0, validation_alias="SUPPORTBOT_MODEL_COOLDOWN_SECONDS"
    )
    model_max_retries: int = Field(
        default=2, ge=0, le=10, validation_alias="SUPPORTBOT_MODEL_MAX_RETRIES"
    )
    confidence_threshold: float = Field(
        default=0.7, ge=0.0, le=1.0, validation_alias="SUPPORTBOT_CONFIDENCE_THRESHOLD"
    )
    leads_channel: str = Field(default="", validation_alias="SUPPORTBOT_LEADS_CHANNEL")
    lead_users: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="SUPPORTBOT_LEAD_USERS"
    )
    high_value_order: Decimal | None = Field(
        default=None, ge=0, validation_alias="SUPPORTBOT_HIGH_VALUE_ORDER"
    )
    company_name: str = Field(default="Acme Shop", validation_alias="SUPPORTBOT_COMPANY_NAME")
    support_policy: str = Field(
        default=(
            "Be brief and friendly. Only state order facts that a tool returned. "
            "Refunds and returns are accepted within 30 days of delivery."
        ),
        validation_alias="SUPPORTBOT_SUPPORT_POLICY",
    )
    max_tool_steps: int = Field(
        default=6, ge=1, le=20, validation_alias="SUPPORTBOT_MAX_TOOL_STEPS"
    )
    max_output_tokens: int = Field(
        default=1024, ge=64, le=8192, validation_alias="SUPPORTBOT_MAX_OUTPUT_TOKENS"
    )
    model_timeout_seconds: float = Field(
        default=60.0, gt=0, validation_alias="SUPPORTBOT_MODEL_TIMEOUT_SECONDS"
    )
    # Capped at what the guards read whole (escalation.guards.MAX_CHECKED_CHARS).
    max_message_chars: int = Field(
        default=4000, ge=100, le=MAX_CHECKED_CHARS, validation_alias="SUPPORTBOT_MAX_MESSAGE_CHARS"
    )
    tool_output_max_chars: int = Field(
        default=4000,
        ge=200,
        le=MAX_CHECKED_CHARS,
        validation_alias="SUPPORTBOT_TOOL_OUTPUT_MAX_CHARS",
    )
    history_messages: int = Field(default=10, ge=0, validation_alias="SUPPORTBOT_HISTORY_MESSAGES")

    orders_backend: Literal["sql", "http"] = Field(default="sql", validation_alias="ORDERS_BACKEND")
    orders_api_url: str = Field(default="", validation_alias="ORDERS_API_URL")
    orders_api_token: str = Field(default="", validation_alias="ORDERS_API_TOKEN")
    load_demo_orders: bool = Field(default=True, validation_alias="SUPPORTBOT_DEMO_ORDERS")

    log_level: str = Field(default="INFO", validation_alias="SUPPORTBOT_LOG_LEVEL")

    # Costs: negotiated prices per `provider:model`, USD per million tokens, keys
    # input_mtok, output_mtok, cache_read_mtok, cache_write_mtok (missing keys: list price).
    price_overrides: dict[str, dict[str, Decimal]] = Field(
        default_factory=dict, validation_alias="SUPPORTBOT_PRICE_OVERRIDES"
    )
    budget_thread_usd: Decimal | None = Field(
        default=None, ge=0, validation_alias="SUPPORTBOT_BUDGET_THREAD_USD"
    )
    budget_customer_daily_usd: Decimal | None = Field(
        default=None, ge=0, validation_alias="SUPPORTBOT_BUDGET_CUSTOMER_DAILY_USD"
    )
    budget_workspace_daily_usd: Decimal | None = Field(
        default=None, ge=0, validation_alias="SUPPORTBOT_BUDGET_WORKSPACE_DAILY_USD"
    )

    # Reliability: a claim on a message not refreshed for this long belongs to a dead process.
    claim_timeout_seconds: float = Field(
        default=60.0, gt=0, validation_alias="SUPPORTBOT_CLAIM_TIMEOUT_SECONDS"
    )
    rate_limit_per_minute: int = Field(
        default=10, ge=0, validation_alias="SUPPORTBOT_RATE_LIMIT_PER_MINUTE"
    )

    # Slack-native experience.
    knowledge_dir: str = Field(default="", validation_alias="KNOWLEDGE_DIR")
    suggested_prompts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "Where is my order?",
            "List my recent orders",
            "How do returns work?",
        ],
        validation_alias="SUPPORTBOT_SUGGESTED_PROMPTS",
    )
    max_image_bytes: int = Field(
        default=5 * 1024 * 1024, ge=0, validation_alias="SUPPORTBOT_MAX_IMAGE_BYTES"
    )

    _split_lists = field_validator(
        "fallback_models",
        "strong_fallback_models",
        "lead_users",
        "suggested_prompts",
        mode="before",
    )(_split_csv)

    @field_validator("primary_model", "strong_model")
    @classmethod
    def _model_ref(cls, value: str) -> str:
        _check_model_ref(value)
        return value

    @field_validator("fallback_models", "strong_fallback_models")
    @classmethod
    def _model_refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            _check_model_ref(ref)
        return value

    def policy(self) -> PolicyConfig:
        return PolicyConfig(
            confidence_threshold=self.confidence_threshold,
            high_value_order=self.high_value_order,
        )

    def model_refs(self) -> list[str]:
        return [
            self.primary_model,
            self.strong_model,
            *self.fallback_models,
            *self.strong_fallback_models,
        ]

    def check_models(self) -> None:
        """Refuse to start when a configured provider has no credentials."""
        providers = {parse_model_ref(ref)[0] for ref in self.model_refs()}
        if "anthropic" in providers and not self.anthropic_api_key:
            raise ConfigError(
                "ANTHROPIC_API_KEY is not set but a model uses `anthropic:`. Create a key in the "
                "Anthropic console (https://console.anthropic.com/settings/keys), or point "
                "SUPPORTBOT_PRIMARY_MODEL / SUPPORTBOT_STRONG_MODEL at `openai:` models."
            )
        if "openai" in providers and not (self.openai_api_key or self.openai_base_url):
            raise ConfigError(
                "OPENAI_API_KEY is not set but a model uses `openai:`. Create a key at "
                "https://platform.openai.com/api-keys, or set OPENAI_BASE_URL to a self-hosted "
                "OpenAI-compatible server."
            )

    def check_orders(self) -> None:
        if self.orders_backend == "http" and not self.orders_api_url:
            raise ConfigError(
                "ORDERS_BACKEND=http needs ORDERS_API_URL, the base URL of your order service "
                "(see the README, section 'Order service')."
            )

    def check_slack(self) -> None:
        """Refuse to serve Slack without the tokens it needs, saying where to find them."""
        if not self.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set. Create the app from manifest.yml at "
                "https://api.slack.com/apps, install it to your workspace, and copy the "
                "'Bot User OAuth Token' (xoxb-...) from the app's 'OAuth & Permissions' page."
            )
        if not self.slack_app_token and not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set. Copy the 'Signing Secret' from the app's "
                "'Basic Information' page at https://api.slack.com/apps (or set SLACK_APP_TOKEN, "
                "an xapp- token with connections:write, to use Socket Mode)."
            )

    def check_serve(self) -> None:
        self.check_slack()
        self.check_models()
        self.check_orders()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`, turning validation errors into words."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid configuration: {problems}") from exc
