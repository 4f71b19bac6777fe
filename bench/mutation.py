"""Mutation testing of the code that guards safety and data, with cosmic-ray (not run by CI).

    python bench/mutation.py                      # the quick set: policy, purge
    python bench/mutation.py --target all         # every target below (an hour or more)
    python bench/mutation.py --target identity --target budgets
    python bench/mutation.py --db postgres        # the database tests on PostgreSQL

Each target is a module and the test files that are meant to prove it. The repository's tracked
files are copied to a temporary folder and mutated there (cosmic-ray edits files in place), so
the work tree is never touched. Each mutant is one small change (a comparison flipped, `and`
for `or`, a `not` added or removed, a number or a boolean changed, a loop run zero times, an
exception swapped); its tests are run with `-x`. A mutant the tests still pass is a survivor:
either a test is missing, or the change cannot be observed (an equivalent mutant). The report
lists each survivor with its diff; BENCHMARKS.md records the figures and what was done about
each survivor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]


TARGETS = {
    "policy": Target("escalation/policy.py", ("tests/test_policy.py",)),
    "answer_data": Target(
        "escalation/answer_data.py",
        ("tests/test_guards.py -k answer", "tests/test_lead_review.py"),
    ),
    "purge": Target("bot/store/purge.py", ("tests/test_data_care.py -k purge",)),
    "identity": Target(
        "bot/agent/identity.py",
        (
            "tests/test_identity.py",
            "tests/test_escalation_flow.py::test_leads_may_be_given_as_a_user_group",
            "tests/test_escalation_flow.py::test_only_leads_may_act_and_others_get_a_private_refusal",
        ),
    ),
    "authorization": Target(
        "bot/agent/tools/orders.py", ("tests/test_orders.py", "tests/test_order_probes.py")
    ),
    "budgets": Target("bot/agent/budgets.py", ("tests/test_budgets.py",)),
    # The inbound dedupe: its tests are end to end (tens of minutes).
    "queries": Target(
        "bot/store/queries.py",
        ("tests/test_slack_events.py", "tests/test_slack_faults.py", "tests/test_database.py"),
    ),
    # Claims by holder, their release when the holder is dead, and the turn's fence.
    "claims": Target(
        "bot/store/claims.py",
        ("tests/test_slack_events.py", "tests/test_slack_faults.py", "tests/test_processes.py"),
    ),
    "turns": Target(
        "bot/store/turns.py",
        (
            "tests/test_rate_limit.py",  # the turn's count of the sender's recent messages
            "tests/test_slack_events.py",
            "tests/test_escalation_flow.py",
            "tests/test_processes.py",
        ),
    ),
    # What a shared channel's thread answers (a request) and leaves alone (chatter).
    "intents": Target(
        "escalation/intents.py", ("tests/test_intents.py", "tests/test_requests_vs_chatter.py")
    ),
    # Which lead action moves an escalation from which status to which.
    "review": Target(
        "escalation/review.py",
        ("tests/test_review_rules.py", "tests/test_lead_review.py", "tests/test_lead_cli.py"),
    ),
    # The instruction-hierarchy checks on messages and tool output.
    "guards": Target(
        "escalation/guards.py",
        ("tests/test_guard_bounds.py", "tests/test_guards.py", "tests/test_guards_indirect.py"),
    ),
}
QUICK = ("policy", "purge")

# Operators left out: arithmetic swaps other than + and - (mostly type errors, no signal here),
# `is`/`is not` for `==` (equivalent on the small ints and interned strings this code compares),
# and the variable and decorator operators (each removes a dataclass or renames at random).
EXCLUDED_OPERATORS = [
    r"core/ReplaceBinaryOperator_(?!Add_Sub$|Sub_Add$).*",
    r"core/ReplaceComparisonOperator_.*_(Is|IsNot)$",
    r"core/ReplaceComparisonOperator_(Is|IsNot)_.*",
    r"core/ReplaceUnaryOperator_(?!Delete_Not$).*",
    r"core/VariableInserter",
    r"core/VariableReplacer",
    r"core/RemoveDecorator",
]


def copy_tree(dest: Path) -> None:
    """The tracked files (as in the work tree, uncommitted edits included), nothing else."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        src = ROOT / name.decode()
        if src.is_file():
            target = dest / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def config(target: Target, timeout: float) -> str:
    tests = " ".join(target.tests)
    command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider {tests}"
    excluded = ", ".join(json.dumps(e) for e in EXCLUDED_OPERATORS)
    return (
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = [{excluded}]\n"
    )


def tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def run_target(name: str, work: Path, env: dict[str, str], timeout: float) -> dict[str, object]:
    target = TARGETS[name]
    cfg, session = work / f"{name}.toml", work / f"{name}.sqlite"
    cfg.write_text(config(target, timeout), encoding="utf-8")
    started = time.monotonic()

    def cr(*args: str) -> None:
        subprocess.run(args, cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)

    cr(tool("cosmic-ray"), "init", str(cfg), str(session))
    cr(tool("cr-filter-operators"), str(session), str(cfg))
    cr(tool("cosmic-ray"), "exec", str(cfg), str(session))
    dump = subprocess.run(
        [tool("cosmic-ray"), "dump", str(session)],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    outcomes: Counter[str] = Counter()
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            outcomes["pending"] += 1
            continue
        if result.get("worker_outcome") == "skipped":
            outcomes["skipped (filtered operator)"] += 1
            continue
        outcome = result.get("test_outcome") or result.get("worker_outcome")
        outcomes[outcome] += 1
        if outcome == "survived":
            mutation = item["mutations"][0]
            survivors.append(
                {
                    "line": mutation["start_pos"][0],
                    "operator": mutation["operator_name"],
                    "diff": result.get("diff", ""),
                }
            )
    tested = outcomes["killed"] + outcomes["survived"]
    return {
        "target": name,
        "module": target.module,
        "tests": list(target.tests),
        "outcomes": dict(outcomes),
        "score": round(outcomes["killed"] / tested, 3) if tested else None,
        "seconds": round(time.monotonic() - started),
        "survivors": sorted(survivors, key=lambda s: s["line"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=[*TARGETS, "all"])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", PG_URL))
    parser.add_argument("--timeout", type=float, default=300.0, help="per test run (seconds)")
    parser.add_argument("--json", action="store_true", help="one JSON object per target")
    args = parser.parse_args()
    names = list(TARGETS) if "all" in (args.target or []) else (args.target or list(QUICK))
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    if args.db == "postgres":
        env["TEST_DATABASE_URL"] = args.pg_url
    with tempfile.TemporaryDirectory(prefix="supportbot-mutation-") as tmp:
        work = Path(tmp)
        copy_tree(work)
        env["PYTHONPATH"] = str(work)
        for name in names:
            report = run_target(name, work, env, args.timeout)
            if args.json:
                print(json.dumps(report), flush=True)
                continue
            print(
                f"{report['module']}: score {report['score']} "
                f"{report['outcomes']} in {report['seconds']} s",
                flush=True,
            )
            for s in report["survivors"]:  # type: ignore[attr-defined]
                print(f"  survived: line {s['line']} {s['operator']}\n{s['diff']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
