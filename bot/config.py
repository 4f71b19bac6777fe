"""Settings: one pydantic-settings class, read once at start and passed in."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.agent.models.providers import PROVIDERS, parse_model_ref
from bot.errors import ConfigError
from bot.sla.policy import SYNTAX, default_sla, sla_policy
from escalation.guards import MAX_CHECKED_CHARS
from escalation.policy import PolicyConfig


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _without_password(url: str) -> str:
    try:
        return str(make_url(url))  # SQLAlchemy prints the password as ***
    except ArgumentError:
        return "(not a database URL)"


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

    slack_bot_token: SecretStr = Field(default=SecretStr(""), validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr = Field(default=SecretStr(""), validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    # Several workspaces through Slack's install flow (bot/install.py), instead of a bot token.
    slack_client_id: str = Field(default="", validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="SLACK_CLIENT_SECRET"
    )
    slack_redirect_uri: str = Field(default="", validation_alias="SLACK_REDIRECT_URI")

    anthropic_api_key: SecretStr = Field(
        default=SecretStr(""), validation_alias="ANTHROPIC_API_KEY"
    )
    anthropic_base_url: str = Field(default="", validation_alias="ANTHROPIC_BASE_URL")
    openai_api_key: SecretStr = Field(default=SecretStr(""), validation_alias="OPENAI_API_KEY")
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
    # `supportbot eval --batch`: the first wait before a batch is polled (then 1.5 times longer
    # each time, at most 5 minutes).
    batch_poll_seconds: float = Field(
        default=15.0, gt=0, le=300, validation_alias="SUPPORTBOT_BATCH_POLL_SECONDS"
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
    # The history's characters, besides its count: messages can each be up to max_message_chars.
    history_max_chars: int = Field(
        default=12_000, ge=1_000, validation_alias="SUPPORTBOT_HISTORY_MAX_CHARS"
    )

    orders_backend: Literal["sql", "http"] = Field(default="sql", validation_alias="ORDERS_BACKEND")
    orders_api_url: str = Field(default="", validation_alias="ORDERS_API_URL")
    orders_api_token: SecretStr = Field(default=SecretStr(""), validation_alias="ORDERS_API_TOKEN")
    load_demo_orders: bool = Field(default=True, validation_alias="SUPPORTBOT_DEMO_ORDERS")

    log_level: str = Field(default="INFO", validation_alias="SUPPORTBOT_LOG_LEVEL")
    log_format: LogFormat = Field(default=LogFormat.TEXT, validation_alias="SUPPORTBOT_LOG_FORMAT")
    # On SIGTERM, `serve` answers /readyz with 503 and keeps serving this long before it stops
    # accepting requests, so a load balancer takes it out of rotation first.
    drain_seconds: float = Field(
        default=0.0, ge=0, le=300, validation_alias="SUPPORTBOT_DRAIN_SECONDS"
    )
    # When set, `GET /metrics` answers only `Authorization: Bearer <this>` (401 otherwise).
    metrics_token: SecretStr = Field(
        default=SecretStr(""), validation_alias="SUPPORTBOT_METRICS_TOKEN"
    )

    # Costs: negotiated prices per `provider:model`, USD per million tokens, keys
    # input_mtok, output_mtok, cache_read_mtok, cache_write_mtok (missing keys: list price).
    price_overrides: Annotated[dict[str, dict[str, Decimal]], NoDecode] = Field(
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

    # Reliability: how often a process looks for the work of dead processes (and for posts
    # to try again); a dead process's messages and posts are taken up within about this long.
    sweep_seconds: float = Field(default=5.0, gt=0, validation_alias="SUPPORTBOT_SWEEP_SECONDS")
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

    # Tickets' SLAs (bot/sla/policy.py): targets per account tier in business time, counted in
    # SUPPORTBOT_BUSINESS_HOURS of SUPPORTBOT_TIMEZONE less SUPPORTBOT_HOLIDAYS.
    timezone: str = Field(default="UTC", validation_alias="SUPPORTBOT_TIMEZONE")
    business_hours: str = Field(
        default="mon-fri 09:00-17:00", validation_alias="SUPPORTBOT_BUSINESS_HOURS"
    )
    holidays: str = Field(default="", validation_alias="SUPPORTBOT_HOLIDAYS")
    sla: Annotated[dict[str, dict[str, str]], NoDecode] = Field(
        default_factory=default_sla, validation_alias="SUPPORTBOT_SLA"
    )
    sla_remind_before: str = Field(default="30m", validation_alias="SUPPORTBOT_SLA_REMIND_BEFORE")
    default_tier: str = Field(default="standard", validation_alias="SUPPORTBOT_DEFAULT_TIER")

    _split_lists = field_validator(
        "fallback_models",
        "strong_fallback_models",
        "lead_users",
        "suggested_prompts",
        mode="before",
    )(_split_csv)

    @field_validator("price_overrides", "sla", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        # Decoded here rather than by the settings source, whose error names neither the
        # variable nor what is wrong with it.
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError as exc:
            raise ValueError(f"is not valid JSON ({exc})") from exc

    @field_validator(*SYNTAX)
    @classmethod
    def _sla_syntax(cls, value: Any, info: ValidationInfo) -> Any:
        SYNTAX[str(info.field_name)](value)
        return value

    @model_validator(mode="after")
    def _sla_policy(self) -> Settings:
        sla_policy(self)  # the settings against each other; its errors name the variables
        return self

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

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """`repr()` and `str()` show secrets as `**********` (SecretStr) and DATABASE_URL
        without its password, so printing the settings leaks neither."""
        for name, value in super().__repr_args__():
            yield name, (_without_password(value) if name == "database_url" else value)

    def secrets(self) -> list[str]:
        """Every secret value set (tokens, keys, the database password), for log masking."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_client_secret,
            self.anthropic_api_key,
            self.openai_api_key,
            self.orders_api_token,
            self.metrics_token,
        ]
        found = [v.get_secret_value() for v in values if v]
        try:
            password = make_url(self.database_url).password
        except ArgumentError:
            password = None
        return [*found, str(password)] if password else found

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

    def _model_problems(self) -> list[str]:
        """A configured provider without credentials."""
        used = {parse_model_ref(ref)[0] for ref in self.model_refs()}
        missing = [entry.missing_credentials(self) for p, entry in PROVIDERS.items() if p in used]
        return [problem for problem in missing if problem]

    def _order_problems(self) -> list[str]:
        if self.orders_backend == "http" and not self.orders_api_url:
            return [
                "ORDERS_BACKEND=http needs ORDERS_API_URL, the base URL of your order service "
                f"(see the README, section '{README_ORDERS_SECTION}')."
            ]
        return []

    def _slack_problems(self) -> list[str]:
        """The Slack settings serving needs (one of the two modes), saying where to find them."""
        from bot.install import slack_problems

        return slack_problems(self)

    def check_serve(self) -> None:
        """Refuse to serve without what serving needs, naming every missing setting at once."""
        _refuse(self._slack_problems() + self._model_problems() + self._order_problems())

    def check_chat(self) -> None:
        """Refuse a terminal chat without model credentials or an order service URL."""
        _refuse(self._model_problems() + self._order_problems())

    def serve_warnings(self) -> list[str]:
        """Settings serving works without, but whose absence a newcomer should hear of."""
        return _failed(
            (not self.leads_channel, _NO_LEADS_CHANNEL), (not self.lead_users, _NO_LEAD_USERS)
        )


_NO_LEADS_CHANNEL = (
    "SUPPORTBOT_LEADS_CHANNEL is not set: escalations are not posted to a channel "
    "(only the App Home and `supportbot escalations` list them) and budget alerts "
    "are dropped. Set it to the id of your leads channel (C...)."
)
_NO_LEAD_USERS = (
    "SUPPORTBOT_LEAD_USERS is not set: nobody can act on escalations or use /costs. "
    "Set it to the Slack member ids of your support leads (U...), or a user group "
    "id (S...)."
)


def _failed(*checks: tuple[bool, str]) -> list[str]:
    """The texts of the checks that failed, in order."""
    return [text for failed, text in checks if failed]


# The README section on the order backends, cited by configuration errors (a test checks
# that the README has it).
README_ORDERS_SECTION = "Orders and the help center"


def _refuse(problems: list[str]) -> None:
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"{len(problems)} settings need attention:\n{listed}")


def variable_of(field_name: str) -> str:
    """The environment variable that sets a field of `Settings`."""
    field = Settings.model_fields.get(field_name)
    alias = field.validation_alias if field is not None else None
    return alias if isinstance(alias, str) else field_name.upper()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`; every error in words that name the
    environment variable to fix (the one place settings errors are turned into words)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(_describe(err["loc"], err["msg"]) for err in exc.errors())
        raise ConfigError(f"Invalid configuration: {problems}") from exc
    except SettingsError as exc:
        # A source that could not decode a value names the field, not the variable.
        match = re.search(r'field "(\w+)"', str(exc))
        variable = variable_of(match.group(1)) if match else "a setting"
        raise ConfigError(
            f"Invalid configuration: {variable} could not be read ({exc.__cause__ or exc})"
        ) from exc


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    if not loc:
        return message.removeprefix("Value error, ")
    first, *rest = loc
    where = ".".join([variable_of(str(first)), *(str(part) for part in rest)])
    return f"{where}: {message.removeprefix('Value error, ')}"
