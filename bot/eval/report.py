"""The figures of a run (totals, by suite, by tag) and its text for the terminal; reading runs
back from their JSON, and the table that puts two or more side by side (`eval compare`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from bot.costs.money import format_usd, usd
from bot.eval import TierMode
from bot.eval.cases import Route, SuiteError
from bot.eval.grading import ESCALATED
from bot.eval.records import SeenRoute
from bot.eval.results import (
    CaseResult,
    Configuration,
    Escalations,
    EvalRun,
    Group,
    Totals,
    TurnResult,
)
from bot.text_table import render_table

_EXPECTED_ESCALATION = frozenset({Route.STRONG, Route.PERSON})


def _percentile(values: list[int], share: float) -> int | None:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _per(amount: Decimal, count: int) -> Decimal | None:
    return usd(amount / count) if count else None


def _escalations(turns: list[TurnResult]) -> Escalations:
    tp = sum(1 for t in turns if t.route in ESCALATED and t.expected_route in _EXPECTED_ESCALATION)
    fp = sum(1 for t in turns if t.route in ESCALATED and t.expected_route == Route.ANSWER)
    fn = sum(
        1 for t in turns if t.route not in ESCALATED and t.expected_route in _EXPECTED_ESCALATION
    )
    return Escalations(
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )


def totals(cases: list[CaseResult], *, routed: bool = True) -> Totals:
    """The figures of a run; escalation against the expected routes only when it was routed
    (`--tier primary|strong` runs one model as both tiers)."""
    turns = [t for c in cases for t in c.turns]
    cost = usd(sum((c.cost_usd for c in cases), Decimal(0)))
    passed = sum(1 for c in cases if c.passed)
    latencies = [t.latency_ms for t in turns if t.calls]

    def correct(route: SeenRoute) -> int:
        return sum(1 for t in turns if t.route == route and t.passed)

    # As expected even where the route is not graded.
    person = sum(
        1
        for t in turns
        if t.route == SeenRoute.PERSON and t.expected_route == Route.PERSON and t.passed
    )

    return Totals(
        cases=len(cases),
        cases_passed=passed,
        turns=len(turns),
        turns_passed=sum(1 for t in turns if t.passed),
        correct_primary=correct(SeenRoute.ANSWER),
        correct_strong=correct(SeenRoute.STRONG),
        correct_person=person,
        routes={r.value: n for r in SeenRoute if (n := sum(1 for t in turns if t.route == r))},
        escalation=_escalations(turns) if routed else None,
        leaks=sum(1 for t in turns if t.leaked),
        cost_usd=cost,
        unpriced_calls=sum(t.unpriced_calls for t in turns),
        cost_per_case_usd=_per(cost, len(cases)),
        cost_per_correct_case_usd=_per(cost, passed),
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p95_ms=_percentile(latencies, 0.95),
    )


def _groups(cases: list[CaseResult], keys: Callable[[CaseResult], Iterable[str]]) -> list[Group]:
    members: dict[str, list[CaseResult]] = {}
    for case in cases:
        for key in keys(case):
            members.setdefault(key, []).append(case)
    return [
        Group(
            name=name,
            cases=len(group),
            cases_passed=sum(1 for c in group if c.passed),
            turns=sum(len(c.turns) for c in group),
            turns_passed=sum(1 for c in group for t in c.turns if t.passed),
            leaks=sum(1 for c in group for t in c.turns if t.leaked),
            cost_usd=usd(sum((c.cost_usd for c in group), Decimal(0))),
        )
        for name, group in members.items()
    ]


def build_run(configuration: Configuration, cases: list[CaseResult]) -> EvalRun:
    return EvalRun(
        configuration=configuration,
        totals=totals(cases, routed=configuration.tier_mode == TierMode.ROUTED),
        by_suite=_groups(cases, lambda c: [c.suite]),
        by_tag=sorted(_groups(cases, lambda c: c.tags), key=lambda g: g.name),
        cases=cases,
    )


def load_run(path: Path) -> EvalRun:
    """A run's JSON (`--out`, `--json`), checked against the shape this version writes."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        return EvalRun.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise SuiteError(
            f"{path} is not the JSON of a supportbot eval run (format supportbot-eval, "
            f"version 1): {where}: {first['msg']}"
        ) from exc


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole}" + (f" ({part / whole:.0%})" if whole else "")


def _ms(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,} ms"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


# A run of `--tier primary|strong`: one model as both tiers, routes not graded.
NOT_ROUTED = "not graded (not a routed run)"


def _escalation(run: EvalRun, figure: Literal["precision", "recall"]) -> str:
    e = run.totals.escalation
    return "not graded" if e is None else _rate(getattr(e, figure))


def label(config: Configuration) -> str:
    """A configuration in a few words, for a chart."""
    if config.primary_model == config.strong_model:
        return f"{config.tier_mode}: {config.primary_model}"
    return f"{config.tier_mode}: {config.primary_model} / {config.strong_model}"


def _case_lines(cases: list[CaseResult]) -> list[str]:
    rows = [["case", "result", "routes", "cost"]]
    details: dict[int, list[str]] = {}
    for case in cases:
        routes = ",".join(t.route.value for t in case.turns) or "-"
        rows.append(
            [
                f"{case.suite}/{case.id}",
                "pass" if case.passed else "FAIL",
                routes,
                format_usd(case.cost_usd),
            ]
        )
        details[len(rows) - 1] = [f"    turn {f.turn} {f.check}: {f.detail}" for f in case.failures]
    lines: list[str] = []
    for number, line in enumerate(render_table(rows)):
        lines.append(line)
        lines.extend(details.get(number, []))
    return lines


def _summary_rows(t: Totals) -> list[list[str]]:
    e = t.escalation
    unpriced = f" ({t.unpriced_calls} calls unpriced)" if t.unpriced_calls else ""
    escalation = (
        NOT_ROUTED
        if e is None
        else f"precision {_rate(e.precision)}, recall {_rate(e.recall)} "
        f"({e.true_positives} right, {e.false_positives} needless, {e.false_negatives} missed)"
    )
    return [
        ["cases passed", _share(t.cases_passed, t.cases)],
        ["turns passed", _share(t.turns_passed, t.turns)],
        [
            "correct by tier",
            f"primary {t.correct_primary}, strong {t.correct_strong}, "
            f"person {t.correct_person} (as expected)",
        ],
        ["escalation", escalation],
        ["leaks", str(t.leaks)],
        ["cost", f"{format_usd(t.cost_usd)}{unpriced}"],
        ["cost per case", format_usd(t.cost_per_case_usd) if t.cases else "n/a"],
        ["per correct case", format_usd(t.cost_per_correct_case_usd) if t.cases_passed else "n/a"],
        ["model time per turn", f"p50 {_ms(t.latency_p50_ms)}, p95 {_ms(t.latency_p95_ms)}"],
    ]


def _group_lines(title: str, groups: list[Group]) -> list[str]:
    if not groups:
        return []
    rows = [[title, "cases", "passed", "turns", "passed", "leaks", "cost"]] + [
        [
            g.name,
            str(g.cases),
            str(g.cases_passed),
            str(g.turns),
            str(g.turns_passed),
            str(g.leaks),
            format_usd(g.cost_usd),
        ]
        for g in groups
    ]
    return ["", *render_table(rows)]


def format_run(run: EvalRun) -> str:
    """The table a run prints at its end."""
    c = run.configuration
    suites = ", ".join(f"{s.name} ({s.cases})" for s in c.suites)
    head = [
        f"supportbot eval: tier {c.tier_mode}; primary {c.primary_model}, strong "
        f"{c.strong_model}; suites {suites}",
        "",
    ]
    summary = ["", *render_table(_summary_rows(run.totals))]
    groups = _group_lines("suite", run.by_suite) + _group_lines("tag", run.by_tag)
    return "\n".join(head + _case_lines(run.cases) + summary + groups)


def _compare_rows(runs: list[EvalRun]) -> list[list[str]]:
    def row(name: str, cell: Callable[[EvalRun], str]) -> list[str]:
        return [name, *(cell(r) for r in runs)]

    return [
        row("tier mode", lambda r: r.configuration.tier_mode),
        row("primary model", lambda r: r.configuration.primary_model),
        row("strong model", lambda r: r.configuration.strong_model),
        row("cases passed", lambda r: _share(r.totals.cases_passed, r.totals.cases)),
        row("turns passed", lambda r: _share(r.totals.turns_passed, r.totals.turns)),
        row("correct, primary", lambda r: str(r.totals.correct_primary)),
        row("correct, strong", lambda r: str(r.totals.correct_strong)),
        row("person as expected", lambda r: str(r.totals.correct_person)),
        row("escalation precision", lambda r: _escalation(r, "precision")),
        row("escalation recall", lambda r: _escalation(r, "recall")),
        row("leaks", lambda r: str(r.totals.leaks)),
        row("cost", lambda r: format_usd(r.totals.cost_usd)),
        row("cost per case", lambda r: format_usd(r.totals.cost_per_case_usd)),
        row("per correct case", lambda r: format_usd(r.totals.cost_per_correct_case_usd)),
        row("model time p50", lambda r: _ms(r.totals.latency_p50_ms)),
        row("model time p95", lambda r: _ms(r.totals.latency_p95_ms)),
    ]


def _differences(names: list[str], runs: list[EvalRun]) -> list[str]:
    """The cases (by suite/id) whose result is not the same in every run."""
    results = [{f"{c.suite}/{c.id}": c.passed for c in r.cases} for r in runs]
    keys = sorted(set().union(*results))
    lines = []
    for key in keys:
        seen = [res.get(key) for res in results]
        if len(set(seen)) > 1:
            words = {True: "pass", False: "FAIL", None: "-"}
            cells = ", ".join(f"{n} {words[s]}" for n, s in zip(names, seen, strict=True))
            lines.append(f"  {key}: {cells}")
    return lines


def format_compare(runs: list[tuple[str, EvalRun]]) -> str:
    """Two or more runs side by side, then the cases whose result differs between them."""
    names = [name for name, _ in runs]
    figures = [run for _, run in runs]
    lines = render_table([["", *names], *_compare_rows(figures)])
    suites = [sorted((s.name, s.sha256) for s in r.configuration.suites) for r in figures]
    if any(s != suites[0] for s in suites):
        lines += ["", "note: the runs did not run the same suites (names or contents differ)"]
    differ = _differences(names, figures)
    lines += ["", "cases whose result differs:" if differ else "every case has the same result"]
    return "\n".join(lines + differ)
