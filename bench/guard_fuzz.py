"""A longer fuzz run aimed at slow inputs: hypothesis steers (``target``) towards the texts that
take each check longest, and the slowest found is printed per check.

Run from the repository root:
python bench/guard_fuzz.py                      # 500 examples per check, up to 4,000 characters
python bench/guard_fuzz.py --examples 3000 --size 40000

The test suite runs the same search with 60 examples (tests/test_guard_time.py); this is the
long version. Times are CPU time of this thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings, target

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.guard_redos import _checks, _forget  # noqa: E402
from tests.adversarial import slow_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--size", type=int, default=4000)
    args = parser.parse_args()
    prompt = (ROOT / "prompts" / "system.md.j2").read_text(encoding="utf-8")
    print(f"{args.examples} examples per check, up to {args.size} characters")
    print("| check | slowest found | its length | how it starts |")
    print("|---|---|---|---|")
    for name, check in _checks(prompt).items():
        slowest: list[tuple[float, str]] = [(0.0, "")]

        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.target],
            suppress_health_check=list(HealthCheck),
        )
        @given(text=slow_texts(args.size))
        def search(text: str) -> None:
            _forget()
            start = time.thread_time()
            check(text)  # noqa: B023 - run at once, inside this iteration
            elapsed = time.thread_time() - start
            target(elapsed)
            slowest[0] = max(slowest[0], (elapsed, text))  # noqa: B023

        search()
        elapsed, text = slowest[0]
        print(f"| `{name}` | {elapsed * 1000:.1f} ms | {len(text)} | `{text[:24]!r}` |")


if __name__ == "__main__":
    main()
