"""What calibration returns: pydantic models with `to_json()` (rates as fractions, 0 to 1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from bot.calibration.verdicts import Source
from bot.store.models import Tier


class NoRecommendation(StrEnum):
    """Why a tier gets no recommended threshold."""

    TOO_FEW_VERDICTS = "too_few_verdicts"  # fewer than `min_verdicts`
    NONE_MEETS_TARGET = "none_meets_target"  # no candidate's error bound is within the target
    # Within the target only at thresholds that leave fewer than `min_verdicts` answered.
    TOO_FEW_ANSWERED = "too_few_answered"


class _Json(BaseModel):
    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


class ThresholdRow(_Json):
    """One candidate threshold for one tier: below it an answer escalates."""

    threshold: float
    escalated: int  # verdicts whose confidence is below the threshold
    answered: int  # the others: what this tier would have sent
    wrong: int  # wrong ones among the answered
    escalation_rate: float | None  # escalated / verdicts
    error_rate: float | None  # wrong / answered; None when nothing is answered
    error_upper: float | None  # the upper end of the error rate's 95 % Wilson interval
    meets_target: bool  # error_upper within the target
    enough: bool  # at least `min_verdicts` answered: the error rate rests on enough verdicts
    current: bool  # SUPPORTBOT_CONFIDENCE_THRESHOLD


class TierCalibration(_Json):
    tier: Tier
    verdicts: int
    wrong: int
    by_source: dict[Source, int]
    rows: list[ThresholdRow]
    # The threshold meeting the target, on enough answered, with the fewest escalations
    # (on a tie, the highest).
    recommended: float | None
    no_recommendation: NoRecommendation | None

    def row(self, threshold: float | None) -> ThresholdRow | None:
        return next((r for r in self.rows if r.threshold == threshold), None)


class Calibration(_Json):
    since: datetime  # answers given since (verdicts of eval runs carry no date)
    target_error: float
    confidence_level: float  # of the error bound the target is judged by
    min_verdicts: int  # a tier with fewer, or a threshold with fewer answered, is not recommended
    current_threshold: float
    verdicts: int
    by_source: dict[Source, int]
    eval_turns_skipped: int  # eval turns with no model answer to judge
    eval_runs_skipped: int  # eval runs not routed (`--tier primary|strong`)
    tiers: list[TierCalibration]
