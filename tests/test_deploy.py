"""The Dockerfile and compose.yaml agree with the code they run: the port `supportbot serve`
is given, the health endpoints the app really serves, the settings it really reads, and a
non-root user; compose.yaml is valid against the Compose Specification.

No image is built and no Docker engine is reached here: `hadolint Dockerfile` in
.ci/run lints the image's recipe, and the README's Deploying says what was not run.

tests/data/compose-spec.schema.json is a copy of the Compose Specification's schema
(compose-spec/compose-spec, schema/compose-spec.json at 170098ba), Apache License 2.0.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from bot.config import Settings
from tests.conftest import Bot

ROOT = Path(__file__).resolve().parent.parent
SERVE_PORT = 3000


def known_settings() -> set[str]:
    return {str(field.validation_alias) for field in Settings.model_fields.values()}


async def served_get_paths(bot: Bot) -> set[str]:
    """The GET paths the real web app serves, each answered 200 here."""
    paths = {
        route.resource.canonical
        for route in bot.server.app.router.routes()
        if route.method == "GET" and route.resource is not None
    }
    for path in paths:
        async with bot.http.get(str(bot.server.make_url(path))) as resp:
            assert resp.status == 200, path
    return paths


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


# --- Dockerfile -------------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(instruction, rest) per stage, continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw.strip())
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for line in lines:
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), rest.strip()))
    return stages


async def test_the_image_serves_on_its_exposed_port_and_checks_a_real_endpoint(bot: Bot) -> None:
    build, final = dockerfile_stages()
    assert build[0] == ("FROM", "python:3.11-slim-bookworm AS build")
    assert final[0] == ("FROM", "python:3.11-slim-bookworm")
    steps = dict(final)
    assert json.loads(steps["ENTRYPOINT"]) == ["supportbot", "serve"]
    command = json.loads(steps["CMD"])
    assert int(option(command, "--port")) == int(steps["EXPOSE"]) == SERVE_PORT
    assert steps["USER"].split(":")[0] != "0" and steps["USER"].split(":")[0].isdigit()
    # the wheel of the build stage, installed with nothing fetched; no compiler or package
    # manager step in the final stage
    runs = [rest for instruction, rest in final if instruction == "RUN"]
    assert any("from=build" in r and "--no-index" in r and ".whl" in r for r in runs)
    assert not any(tool in r for r in runs for tool in ("apt-get", "apk ", "gcc", "build-ess"))
    healthcheck = steps["HEALTHCHECK"]
    assert "curl" not in healthcheck and f":{SERVE_PORT}/healthz" in healthcheck
    assert "/healthz" in await served_get_paths(bot)


def test_the_image_context_leaves_secrets_and_databases_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") :][:1] == ["*"]  # everything out unless named
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "bot", "escalation", "prompts"}
    copied = {
        rest.split()[0]
        for instruction, rest in dockerfile_stages()[0]
        if instruction == "COPY" and "--from" not in rest
    }
    assert copied == {"pyproject.toml", "bot", "escalation", "prompts"}


# --- compose.yaml -----------------------------------------------------------------------------


def test_compose_file_is_valid_and_runs_the_bot_on_its_postgres() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.schema.json").read_text())
    jsonschema.validate(compose, schema)

    postgres, bot = compose["services"]["postgres"], compose["services"]["supportbot"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert bot["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert bot["build"] == "."
    assert [entry["path"] for entry in bot["env_file"]] == [".env"]
    assert set(bot["environment"]) <= known_settings()
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://supportbot:") and url.endswith("@postgres:5432/supportbot")
    assert option(bot["command"], "--port") == str(SERVE_PORT)
    assert bot["ports"] == [f"127.0.0.1:{SERVE_PORT}:{SERVE_PORT}"]
