"""The eval case format, and loading suites: YAML (`*.yaml`, `*.yml`) or JSONL (`*.jsonl`, one
case a line). Every error names the file and the case (or the line) and what is wrong.

The format is documented in the README, section 'Evaluate the bot'."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.agent.tools.base import ToolName
from bot.errors import UsageError
from bot.eval import SUFFIXES, bundled_suites
from escalation.policy import Reason

# The tools a turn may be expected to call (`final_answer` ends every turn: not a data tool).
DATA_TOOLS = frozenset(ToolName) - {ToolName.FINAL_ANSWER}


class SuiteError(UsageError):
    """A suite cannot be found or read; the message names the file and the case or line."""


class Route(StrEnum):
    """Who answered a turn: the primary tier, the strong tier, or a person (a lead)."""

    ANSWER = "answer"
    STRONG = "strong"
    PERSON = "person"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolExpectation(_Strict):
    """A tool call that must be made this turn; `args` match as a subset, strings
    case-insensitively."""

    name: ToolName
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _a_data_tool(cls, name: ToolName) -> ToolName:
        if name not in DATA_TOOLS:
            raise ValueError(f"{name} ends every turn; expect one of {sorted(DATA_TOOLS)}")
        return name


class Expect(_Strict):
    """What one turn must do."""

    route: Route
    reasons: list[Reason] = Field(default_factory=list)
    tools: list[ToolExpectation] = Field(default_factory=list)
    no_tools: bool = False
    facts: list[str | list[str]] = Field(default_factory=list)
    must_not_say: list[str] = Field(default_factory=list)
    cites: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Expect:
        if self.no_tools and self.tools:
            raise ValueError("no_tools: true and tools contradict each other")
        if self.reasons and self.route == Route.ANSWER:
            raise ValueError("reasons are for the routes strong and person, not answer")
        if any(isinstance(f, list) and not f for f in self.facts):
            raise ValueError("facts: an any-of list needs at least one item")
        return self


class TurnSpec(_Strict):
    say: str
    expect: Expect


class Case(_Strict):
    """One scripted conversation: the asker, and the turns the customer says in one thread."""

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.-]*$")
    tags: list[str] = Field(default_factory=list)
    customer: str | None = None
    lead: bool = False
    turns: list[TurnSpec] = Field(min_length=1)

    @field_validator("customer")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError(f"{value!r} is not an email (null: an unknown asker)")
        return value.strip().lower() if value else None


class Suite(BaseModel):
    """A loaded suite: its name, where it came from, its cases and the hash of its file."""

    name: str
    description: str = ""
    path: str
    sha256: str
    cases: list[Case]


class _SuiteFile(_Strict):
    suite: str = Field(min_length=1)
    description: str = ""
    cases: list[dict[str, Any]] = Field(min_length=1)


def _problems(exc: ValidationError) -> str:
    """A validation error in one line: where in the case, and what."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'case'}: "
        + err["msg"].removeprefix("Value error, ")
        for err in exc.errors()
    )


def _case(raw: object, where: str) -> Case:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: a case is a mapping with id, turns, ...")
    name = f"case {raw['id']!r}" if isinstance(raw.get("id"), str) else "a case without an id"
    try:
        return Case.model_validate(raw)
    except ValidationError as exc:
        raise SuiteError(f"{where}, {name}: {_problems(exc)}") from exc


def _no_twins(names: Iterable[str], say: Callable[[str], str]) -> None:
    """A SuiteError saying `say(name)` of the first name given twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SuiteError(say(name))
        seen.add(name)


def _unique(cases: list[Case], path: Path) -> list[Case]:
    _no_twins((c.id for c in cases), lambda id_: f"{path}: two cases have the id {id_!r}")
    return cases


def _from_yaml(path: Path, text: str, digest: str) -> Suite:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML ({exc})") from exc
    try:
        head = _SuiteFile.model_validate(data)
    except ValidationError as exc:
        raise SuiteError(f"{path}: {_problems(exc)} (a suite file: suite, cases)") from exc
    cases = [_case(raw, f"{path} case {n}") for n, raw in enumerate(head.cases, start=1)]
    return Suite(
        name=head.suite,
        description=head.description,
        path=str(path),
        sha256=digest,
        cases=_unique(cases, path),
    )


def _from_jsonl(path: Path, text: str, digest: str) -> Suite:
    cases = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise SuiteError(f"{path} line {number}: not valid JSON ({exc})") from exc
        cases.append(_case(raw, f"{path} line {number}"))
    if not cases:
        raise SuiteError(f"{path} holds no cases")
    return Suite(name=path.stem, path=str(path), sha256=digest, cases=_unique(cases, path))


def load_suite(path: Path) -> Suite:
    """One suite file, validated whole."""
    if path.suffix.lower() not in SUFFIXES:
        raise SuiteError(f"{path}: a suite file ends in {', '.join(SUFFIXES)}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SuiteError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SuiteError(f"{path}: not UTF-8 text") from exc
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".jsonl":
        return _from_jsonl(path, text, digest)
    return _from_yaml(path, text, digest)


def load_suites(names: list[str]) -> list[Suite]:
    """Each name a bundled suite or a path to a suite file; none: every bundled suite."""
    bundled = bundled_suites()
    if not names and not bundled:
        raise SuiteError("no bundled suite is installed: name a suite file")
    paths: list[Path] = []
    for name in names or list(bundled):
        if name in bundled:
            paths.append(bundled[name])
        elif Path(name).suffix.lower() in SUFFIXES:
            paths.append(Path(name))
        else:
            known = ", ".join(bundled) or "none"
            raise SuiteError(
                f"{name!r} is neither a bundled suite ({known}) nor a suite file "
                f"({', '.join('*' + s for s in SUFFIXES)})"
            )
    suites = [load_suite(p) for p in paths]
    paths_of = {s.name: s.path for s in suites}
    _no_twins((s.name for s in suites), lambda n: f"two suites are named {n!r} ({paths_of[n]})")
    return suites
