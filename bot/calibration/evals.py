"""Verdicts from eval runs (`supportbot calibrate --eval RUN.json ...`).

The contract with `supportbot eval --json` is the least calibration needs; every other key
is ignored:

    {"configuration": {"tier_mode": "routed"},
     "cases": [{"turns": [{"tier": "primary", "confidence": 0.82, "correct": true}, ...]}, ...]}

Only a routed run is read (`tier_mode` "routed"): one of `--tier primary|strong` runs one model
as both tiers, so its "strong" answers are not the strong tier's; it is skipped and counted.

One turn is one graded answer: `tier` the tier that wrote it (`primary` or `strong`),
`confidence` the confidence of its final answer (0 to 1), `correct` whether the answer was
right (its facts, tools and text, whatever the route; eval always writes it, a file written
by hand may leave it out). A turn without a model answer to judge (no tier of those two, or
`confidence` null: handed to a person before a model answered; or no `correct`) is skipped and
counted. Eval verdicts carry no date: `--since` keeps them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.calibration.verdicts import CALIBRATED_TIERS, Source, Verdict
from bot.errors import ConfigError
from bot.eval import TierMode
from bot.store.models import Tier


class _Turn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tier: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    correct: bool | None = None


class _Case(BaseModel):
    model_config = ConfigDict(extra="ignore")

    turns: list[_Turn] = Field(default_factory=list)


class _Configuration(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tier_mode: str


class _Run(BaseModel):
    model_config = ConfigDict(extra="ignore")

    configuration: _Configuration
    cases: list[_Case]


@dataclass
class EvalVerdicts:
    """The verdicts of some eval runs, how many turns had no model answer to judge, and how
    many runs were not routed."""

    verdicts: list[Verdict] = field(default_factory=list)
    skipped: int = 0
    runs_skipped: int = 0


def read_eval_runs(paths: Iterable[Path]) -> EvalVerdicts:
    """The verdicts of the eval runs in `paths`; a ConfigError naming the file that is not
    one (missing, not JSON, not in the shape above)."""
    found = EvalVerdicts()
    for path in paths:
        try:
            run = _Run.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise ConfigError(f"--eval {path}: {exc.strerror or exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the file"
            raise ConfigError(
                f"--eval {path} is not an eval run's JSON ({where}: {first['msg']}); "
                'expected {"configuration": {"tier_mode"}, '
                '"cases": [{"turns": [{"tier", "confidence", "correct"}]}]}'
            ) from exc
        if run.configuration.tier_mode != TierMode.ROUTED:
            found.runs_skipped += 1
            continue
        for turn in (t for case in run.cases for t in case.turns):
            if turn.tier not in CALIBRATED_TIERS or turn.confidence is None or turn.correct is None:
                found.skipped += 1
                continue
            source = Source.EVAL_CORRECT if turn.correct else Source.EVAL_WRONG
            found.verdicts.append(Verdict(Tier(turn.tier), turn.confidence, source))
    return found
