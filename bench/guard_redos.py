"""Worst time of each check that reads customer, tool or model text, on adversarial inputs.

Run from the repository root:
python bench/guard_redos.py                       # the default limits: 4,000 characters
python bench/guard_redos.py --size 40000 --fixed-shapes   # the largest any setting allows
python bench/guard_redos.py --root /tmp/old --size 500   # another checkout (older code)

Each check runs on every shape of ``tests/adversarial.py`` cut to ``--size`` characters (runs
of typed "\\n", line breaks and whitespace, role words and colons, quotes, dotted letters,
base64, tag characters, every pattern's words in a row, ...) and on the benign support
messages of ``tests/data/injection``; the table gives, per check, the worst and the median
time and the shape that was worst.  Each figure is the best of ``--repeat`` runs (CPU time of
this thread, so a busy machine does not inflate it).  ``--budget`` (seconds) stops a check's
shapes early once one takes longer, so old, super-linear code finishes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _checks(system_prompt: str) -> dict[str, Callable[[str], object]]:
    from bot.slack_format import to_mrkdwn
    from escalation.answer_data import check_answer_data
    from escalation.guards import check_input, check_output, check_tool_output
    from escalation.intents import asks_for_human, is_request, says_answer_was_wrong

    canary = "cnry-0123456789abcdef"
    return {
        "check_input": check_input,
        "check_tool_output": check_tool_output,
        "check_output": lambda t: check_output(t, system_prompt=system_prompt, canary=canary),
        "check_answer_data": lambda t: check_answer_data(
            t, asker_email="alice@example.com", tool_texts=[t[:4000]]
        ),
        "asks_for_human": asks_for_human,
        "says_answer_was_wrong": says_answer_was_wrong,
        "is_request": lambda t: is_request(t, "UBOT"),
        "to_mrkdwn": to_mrkdwn,
    }


def _forget() -> None:
    """Empty the normalisation caches (where the code has them), so every run pays in full."""
    from escalation import intents, normalize

    for name in ("clean", "normalize", "strip_invisible", "nfkc_bounded", "_nfkc"):
        getattr(getattr(normalize, name, None), "cache_clear", lambda: None)()
    getattr(getattr(intents, "_plain", None), "cache_clear", lambda: None)()


def _time(check: Callable[[str], object], text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        _forget()
        start = time.thread_time()
        check(text)
        best = min(best, time.thread_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000, help="characters per input")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose code to time")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=30.0, help="stop a check past this")
    parser.add_argument(
        "--fixed-shapes", action="store_true", help="skip the per-pattern word shapes (faster)"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    sys.path.insert(1, str(ROOT))  # tests/adversarial.py comes from this checkout
    from tests.adversarial import shapes

    texts = [
        (shape, text)
        for shape, text in shapes(args.size)
        if not (args.fixed_shapes and shape.startswith("pattern_"))
    ]
    data = ROOT / "tests" / "data" / "injection"
    benign = [
        line.replace("\\n", "\n")
        for name in ("benign_dev.txt", "benign_test.txt")
        for line in (data / name).read_text(encoding="utf-8").split("\n")
        if line.strip()
    ]
    prompt = (ROOT / "prompts" / "system.md.j2").read_text(encoding="utf-8")
    print(f"code: {args.root}  size: {args.size} characters  shapes: {len(texts)}")
    print("| check | worst adversarial | worst shape | median adversarial | worst typical |")
    print("|---|---|---|---|---|")
    for name, check in _checks(prompt).items():
        times: list[tuple[float, str]] = []
        for shape, text in texts:
            times.append((_time(check, text, args.repeat), shape))
            if times[-1][0] > args.budget:
                break
        worst, shape = max(times)
        median = statistics.median(t for t, _ in times)
        typical = max(_time(check, text, 1) for text in benign)
        stopped = "" if len(times) == len(texts) else f" (stopped after {len(times)} shapes)"
        print(
            f"| `{name}` | {worst * 1000:.1f} ms | {shape}{stopped} | {median * 1000:.2f} ms"
            f" | {typical * 1000:.2f} ms |"
        )


if __name__ == "__main__":
    main()
