"""Measure escalation.guards.check_input on the labelled injection data.

Run from the repository root:
python bench/guard_eval.py [--split dev|extra|test|all] [--quiet] [--layers]

For each split it prints the number of attacks and benign messages, the detection rate,
the false-positive rate, the rules that fired most, and then every miss and every false
positive (truncated).  The dev figures include the hand-written extra dev files
(``attacks_extra_dev.txt``, ``benign_extra_dev.txt``), which are also reported on their own.
Tune on dev only; test is for measuring.

``--layers`` prints instead one table of detection and false-positive rates per layer (the
hand-written rules alone, the learned model alone, both as shipped) on the sources the learned
layer was not trained on (tests/data/injection/learned/SOURCES.md) and on the test split.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from guard_data import (  # noqa: E402
    NEW_ATTACKS,
    NEW_BENIGN,
    heldout,
    heldout_known_to_rules,
    load,
    support_messages,
    test_split,
)

from escalation import learned  # noqa: E402
from escalation.guards import check_input  # noqa: E402
from escalation.learned import RULE as LEARNED_RULE  # noqa: E402


def short(text: str, width: int = 110) -> str:
    flat = repr(text)[1:-1]
    return flat if len(flat) <= width else flat[: width - 3] + "..."


# Files per split: the dev split also takes the hand-written extra files (see SOURCES.md).
SPLIT_FILES = {
    "dev": (
        ["attacks_dev.txt", "attacks_extra_dev.txt"],
        ["benign_dev.txt", "benign_extra_dev.txt"],
    ),
    "extra": (["attacks_extra_dev.txt"], ["benign_extra_dev.txt"]),
    "test": (["attacks_test.txt"], ["benign_test.txt"]),
}


def load_split(split: str) -> tuple[list[str], list[str]]:
    """(attacks, benign) of one split."""
    attack_files, benign_files = SPLIT_FILES[split]
    attacks = [line for name in attack_files for line in load(name)]
    benign = [line for name in benign_files for line in load(name)]
    return attacks, benign


def evaluate(split: str, quiet: bool) -> tuple[float, float]:
    attacks, benign = load_split(split)
    rules: Counter[str] = Counter()
    misses: list[str] = []
    for text in attacks:
        findings = check_input(text)
        rules.update({f.rule for f in findings})
        if not findings:
            misses.append(text)
    false_pos: list[tuple[str, list[str]]] = []
    for text in benign:
        findings = check_input(text)
        if findings:
            false_pos.append((text, sorted({f.rule for f in findings})))
    detection = 1 - len(misses) / len(attacks)
    fp_rate = len(false_pos) / len(benign)
    print(f"== {split} ==")
    print(f"attacks: {len(attacks)}  benign: {len(benign)}")
    print(f"detection rate: {detection:.3f} ({len(attacks) - len(misses)}/{len(attacks)})")
    print(f"false-positive rate: {fp_rate:.3f} ({len(false_pos)}/{len(benign)})")
    print("rules fired on attacks: " + ", ".join(f"{r}={n}" for r, n in rules.most_common()))
    if not quiet:
        print(f"misses ({len(misses)}):")
        for text in misses:
            print(f"  - {short(text)}")
        print(f"false positives ({len(false_pos)}):")
        for text, fired in false_pos:
            print(f"  - [{','.join(fired)}] {short(text)}")
    print()
    return detection, fp_rate


def _layer_hits(texts: list[str]) -> dict[str, int]:
    hits = {"rules": 0, "learned": 0, "both": 0}
    for text in texts:
        fired = {f.rule for f in check_input(text)}
        by_rules, by_model = bool(fired - {LEARNED_RULE}), LEARNED_RULE in fired
        hits["rules"] += by_rules
        hits["learned"] += by_model
        hits["both"] += by_rules or by_model
    return hits


def _rate(hits: int, total: int) -> str:
    return f"{hits / total:.3f} ({hits}/{total})" if total else "-"


def layers_table() -> None:
    known_attacks, known_benign = heldout_known_to_rules()
    support = support_messages()
    hard = [text for text in known_benign if text not in set(support)]
    test_attacks, test_benign = test_split()
    rows = [(f"new to both: {name}", load(name), measure) for name, measure in NEW_SOURCES]
    rows += [
        ("rules' sources: attacks (A1 A2 A4-A7)", known_attacks, "detection"),
        ("rules' sources: support messages (B1)", support, "false positives"),
        ("rules' sources: hard negatives (B3)", hard, "false positives"),
        ("test split attacks", test_attacks, "detection"),
        ("test split benign", test_benign, "false positives"),
    ]
    print("| set | lines | measure | rules alone | learned alone | both (shipped) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, texts, measure in rows:
        hits = _layer_hits(texts)
        cells = " | ".join(_rate(hits[layer], len(texts)) for layer in ("rules", "learned", "both"))
        print(f"| {name} | {len(texts)} | {measure} | {cells} |")
    print()
    print(f"learned layer, one {MAX_CHARS:,}-character message: {_learned_ms():.1f} ms (median)")


MAX_CHARS = 4000  # SUPPORTBOT_MAX_MESSAGE_CHARS' default
NEW_SOURCES = [(name, "detection") for name in NEW_ATTACKS]
NEW_SOURCES += [(name, "false positives") for name in NEW_BENIGN]


def _learned_ms(runs: int = 21) -> float:
    """Median time of the learned layer alone on a message of the default maximum size."""
    text = (held := heldout()[0])[0] + " " + " ".join(held)
    text = text[:MAX_CHARS]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        learned.score(text)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", choices=["dev", "extra", "test", "all"], default="all")
    parser.add_argument("--quiet", action="store_true", help="only print the rates")
    parser.add_argument("--layers", action="store_true", help="per-layer table (see above)")
    args = parser.parse_args()
    if args.layers:
        layers_table()
        return
    if args.split == "all":
        # the extra files are part of dev: list their lines once, then only their rates
        evaluate("dev", args.quiet)
        evaluate("extra", quiet=True)
        evaluate("test", args.quiet)
    else:
        evaluate(args.split, args.quiet)


if __name__ == "__main__":
    main()
