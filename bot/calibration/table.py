"""Candidate thresholds against escalation and error rates, per tier, and the recommendation.

At a threshold t an answer with confidence below t escalates (as `escalation/policy.py`
decides); the others are answered, and the wrong ones among them are the errors customers
would have read. The recommendation is the candidate that meets the target error rate with
the fewest escalations. The target is judged by the upper end of the error rate's 95 % Wilson
score interval, not by the observed rate: at 20 answered and none wrong the observed rate is
0 %, yet a true rate of 16 % fits those figures as well; the bound only falls within a 5 %
target once enough answers back it (73 answered with none wrong, more with any). So the
recommendation never rests on luck in a few answers; and a tier with fewer than
`MIN_VERDICTS` verdicts gets none at all, whatever its figures, as a floor below which the
table is anecdote.

The floor holds per threshold too: verdicts are censored (an answer escalated at the
threshold of the day has a lead's verdict, never its customer's; one answered, the other way
round), so the answered above a high candidate can be few even when the tier has many. A
candidate is recommended only when at least `MIN_VERDICTS` verdicts are answered at it. Among
the candidates that tie (the same escalations: no verdict between them), the highest is
recommended: on these verdicts it costs nothing, and on the next ones it errs less.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from statistics import NormalDist

from bot.calibration.results import Calibration, NoRecommendation, ThresholdRow, TierCalibration
from bot.calibration.verdicts import CALIBRATED_TIERS, Source, Verdict

# The candidates: 0.30, 0.35, ... 0.95 (and the current threshold, when it is none of them).
THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))
MIN_VERDICTS = 30  # per tier, and answered at a threshold, for a recommendation
CONFIDENCE_LEVEL = 0.95
_Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE_LEVEL) / 2)  # 1.96: two-sided


def wilson_upper(wrong: int, answered: int) -> float | None:
    """The upper end of the 95 % Wilson score interval of the rate wrong / answered."""
    if answered == 0:
        return None
    p, n, z2 = wrong / answered, answered, _Z * _Z
    centre = p + z2 / (2 * n)
    margin = _Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return min(1.0, (centre + margin) / (1 + z2 / n))


def _row(
    verdicts: Sequence[Verdict], threshold: float, target: float, current: float
) -> ThresholdRow:
    answered = [v for v in verdicts if v.confidence >= threshold]
    wrong = sum(1 for v in answered if not v.right)
    upper = wilson_upper(wrong, len(answered))
    escalated = len(verdicts) - len(answered)
    return ThresholdRow(
        threshold=threshold,
        escalated=escalated,
        answered=len(answered),
        wrong=wrong,
        escalation_rate=escalated / len(verdicts) if verdicts else None,
        error_rate=wrong / len(answered) if answered else None,
        error_upper=upper,
        meets_target=upper is not None and upper <= target,
        enough=len(answered) >= MIN_VERDICTS,
        current=threshold == current,
    )


def _tier(tier: str, verdicts: Sequence[Verdict], target: float, current: float) -> TierCalibration:
    candidates = sorted({*THRESHOLDS, current})
    rows = [_row(verdicts, t, target, current) for t in candidates]
    meeting = [r for r in rows if r.meets_target and r.enough]
    why: NoRecommendation | None = None
    if len(verdicts) < MIN_VERDICTS:
        why = NoRecommendation.TOO_FEW_VERDICTS
    elif not meeting:
        few = any(r.meets_target for r in rows)
        why = NoRecommendation.TOO_FEW_ANSWERED if few else NoRecommendation.NONE_MEETS_TARGET
    # Ties (no verdict between two candidates): the highest, the safer.
    best = min(meeting, key=lambda r: (r.escalated, -r.threshold), default=None)
    return TierCalibration(
        tier=tier,
        verdicts=len(verdicts),
        wrong=sum(1 for v in verdicts if not v.right),
        by_source=_by_source(verdicts),
        rows=rows,
        recommended=best.threshold if best is not None and why is None else None,
        no_recommendation=why,
    )


def _by_source(verdicts: Sequence[Verdict]) -> dict[Source, int]:
    counts = Counter(v.source for v in verdicts)
    return {s: counts[s] for s in Source if counts[s]}


def calibrate(
    verdicts: Sequence[Verdict],
    *,
    since: datetime,
    target_error: float,
    current_threshold: float,
    eval_turns_skipped: int = 0,
    eval_runs_skipped: int = 0,
) -> Calibration:
    """The table of every calibrated tier (primary, strong), each on its own verdicts."""
    return Calibration(
        since=since,
        target_error=target_error,
        confidence_level=CONFIDENCE_LEVEL,
        min_verdicts=MIN_VERDICTS,
        current_threshold=current_threshold,
        verdicts=len(verdicts),
        by_source=_by_source(verdicts),
        eval_turns_skipped=eval_turns_skipped,
        eval_runs_skipped=eval_runs_skipped,
        tiers=[
            _tier(t, [v for v in verdicts if v.tier == t], target_error, current_threshold)
            for t in CALIBRATED_TIERS
        ],
    )
