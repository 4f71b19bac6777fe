"""A calibration as plain text, for the terminal."""

from __future__ import annotations

from bot.calibration.results import Calibration, NoRecommendation, ThresholdRow, TierCalibration
from bot.calibration.verdicts import Source
from bot.text_table import render_table

_SOURCES = {
    Source.DRAFT_SENT: "drafts a lead sent as drafted",
    Source.DRAFT_EDITED: "drafts a lead edited",
    Source.TAKEN_OVER: "drafts a lead took over from",
    Source.THUMB_UP: "thumbs up",
    Source.THUMB_DOWN: "thumbs down",
    Source.EVAL_CORRECT: "eval answers graded right",
    Source.EVAL_WRONG: "eval answers graded wrong",
}
_HEADER = ("threshold", "escalated", "", "answered", "wrong", "error", "error at most", "")
_FIGURES = range(1, 7)  # aligned right


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _row(r: ThresholdRow, recommended: float | None) -> tuple[str, ...]:
    notes = [
        n
        for n, on in (
            ("current", r.current),
            ("recommended", r.threshold == recommended),
            ("within the target on too few answered", r.meets_target and not r.enough),
        )
        if on
    ]
    return (
        f"{r.threshold:.2f}",
        str(r.escalated),
        _share(r.escalation_rate),
        str(r.answered),
        str(r.wrong),
        _share(r.error_rate),
        _share(r.error_upper),
        f" <- {', '.join(notes)}" if notes else "",
    )


def _table(tier: TierCalibration) -> list[str]:
    rows = [_HEADER, *(_row(r, tier.recommended) for r in tier.rows)]
    return render_table(rows, indent="  ", right=_FIGURES)


def _verdict(tier: TierCalibration, c: Calibration) -> str:
    if tier.no_recommendation == NoRecommendation.TOO_FEW_VERDICTS:
        return (
            f"  No recommendation: {tier.verdicts} verdict(s), fewer than the {c.min_verdicts}"
            " a tier needs."
        )
    if tier.no_recommendation == NoRecommendation.TOO_FEW_ANSWERED:
        return (
            f"  No recommendation: the error rate is surely within {c.target_error:.1%} only"
            f" where fewer than the {c.min_verdicts} answered a threshold needs are left."
        )
    if tier.no_recommendation == NoRecommendation.NONE_MEETS_TARGET:
        return (
            f"  No recommendation: at no threshold is the error rate surely within"
            f" {c.target_error:.1%} (more verdicts narrow the bound)."
        )
    best = tier.row(tier.recommended)
    assert best is not None
    kept = ", the current threshold" if best.current else ""
    return (
        f"  Recommended: {best.threshold:.2f}{kept} (escalates {_share(best.escalation_rate)};"
        f" error {_share(best.error_rate)}, at most {_share(best.error_upper)};"
        f" rests on {best.answered} answered of {tier.verdicts} verdicts)"
    )


def format_text(c: Calibration) -> str:
    since = f"{c.since:%Y-%m-%d %H:%M} UTC"
    lines = [f"Calibration on {c.verdicts} verdict(s) on answers given since {since}"]
    lines += [f"  {n:>5} {_SOURCES[s]}" for s, n in c.by_source.items()]
    if c.eval_turns_skipped:
        lines.append(f"  ({c.eval_turns_skipped} eval turn(s) without a model answer skipped)")
    if c.eval_runs_skipped:
        lines.append(
            f"  ({c.eval_runs_skipped} eval run(s) skipped: not routed, one model as both tiers)"
        )
    lines += [
        f"Target: 'error at most' within {c.target_error:.1%}: the upper end of the error"
        f" rate's {c.confidence_level:.0%}",
        "  Wilson interval among the answered, not the rate seen.",
        f"Current threshold (SUPPORTBOT_CONFIDENCE_THRESHOLD): {c.current_threshold:.2f}",
    ]
    for tier in c.tiers:
        lines += ["", f"{tier.tier} tier: {tier.verdicts} verdict(s), {tier.wrong} wrong"]
        if tier.verdicts:
            lines += _table(tier)
        lines.append(_verdict(tier, c))
    return "\n".join(lines)
