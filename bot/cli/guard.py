"""`supportbot guard scan`: the input check over a file of messages, one verdict a line."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bot.config import Settings
from bot.errors import ConfigError


def _guard_scan(source: Path) -> int:
    """One message a line in (a file, or standard input for "-"), one JSON verdict a line out,
    then a summary; exit 0."""
    if str(source) == "-":
        return _guard_scan_lines(sys.stdin)
    if not source.is_file():
        raise ConfigError(f"{source} is not a file")
    with source.open(encoding="utf-8", errors="replace") as lines:
        return _guard_scan_lines(lines)


def _guard_scan_lines(lines: Iterable[str]) -> int:
    from escalation.guards import check_input
    from escalation.learned import RULE as LEARNED_RULE

    flagged = 0
    rules: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\n").replace("\\n", "\n")
        if not text.strip():
            continue
        total += 1
        findings = check_input(text)
        fired = [f.rule for f in findings]
        # which layer flagged it: the hand-written rules, the learned model, or both
        flagged_by = [
            layer
            for layer, hit in (
                ("rules", any(rule != LEARNED_RULE for rule in fired)),
                ("learned", LEARNED_RULE in fired),
            )
            if hit
        ]
        if findings:
            flagged += 1
            rules.update(fired)
            layers.update(flagged_by)
        verdict = {
            "line": number,
            "flagged": bool(findings),
            "layers": flagged_by,
            "rules": fired,
            "details": [f.detail for f in findings],
        }
        print(json.dumps(verdict))
    share = flagged / total if total else 0.0
    summary = {
        "summary": {
            "messages": total,
            "flagged": flagged,
            "flagged_share": round(share, 4),
            "layers": dict(layers.most_common()),
            "rules": dict(rules.most_common()),
        }
    }
    print(json.dumps(summary))
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    return _guard_scan(args.file)
