"""`supportbot export finetune`: the approved answers as OpenAI chat fine-tuning files."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.data import parse_age
from bot.cli.database import open_database
from bot.config import Settings
from bot.errors import ConfigError
from bot.export.kinds import NOT_APPROVED, LeftOut, Source

if TYPE_CHECKING:
    from bot.export.finetune import Summary

_SOURCES = {
    Source.LEAD_UNCHANGED: "a lead sent the draft unchanged",
    Source.LEAD_EDITED: "a lead edited the draft and sent it",
    Source.STRONG_THUMBS_UP: "strong tier, thumbs up",
    Source.STRONG_NO_COMPLAINT: "strong tier, no complaint",
}
_LEFT_OUT = {
    LeftOut.THUMBS_DOWN: "a thumbs down after it",
    LeftOut.HANDED_OFF_AFTER: "strong tier, a person asked for after it",
    LeftOut.NO_DRAFT: "a person took it before any model answered",
    LeftOut.NO_TRANSCRIPT: "no transcript (answered before transcripts were kept)",
    LeftOut.NO_FINAL_ANSWER: "the model answered without final_answer",
    LeftOut.IMAGES: "the customer sent images",
    LeftOut.TOO_LONG: "too long for one example",
}


def _count(label: str, n: int) -> str:
    return f"  {label:<56}{n:>5}"


def _lines(summary: Summary) -> list[str]:
    """The summary as the terminal shows it."""
    from bot.export.finetune import MIN_TRAINING_EXAMPLES

    lines = [
        f"{summary.approved} approved answer(s) since {summary.since:%Y-%m-%d %H:%M} UTC; "
        f"{summary.examples} exported:"
    ]
    lines += [_count(_SOURCES[s], summary.sources[s]) for s in Source]
    lines.append("not approved:")
    lines += [_count(_LEFT_OUT[r], summary.left_out[r]) for r in LeftOut if r in NOT_APPROVED]
    lines.append("approved, left out:")
    lines += [_count(_LEFT_OUT[r], summary.left_out[r]) for r in LeftOut if r not in NOT_APPROVED]
    lines.append(_count("conversations of the period purged since", summary.purged))
    replaced = ", ".join(f"{n} {kind.lower()}" for kind, n in sorted(summary.replaced.items()))
    lines.append(f"personal data replaced with placeholders: {replaced or 'none found'}")
    wrote = f"wrote {summary.train} training example(s) to {summary.train_file}"
    if summary.validation_file is not None:
        wrote += f" and {summary.validation} validation example(s) to {summary.validation_file}"
    elif summary.validation_wanted:
        wrote += "; no validation file: the split held out no conversation (see --validation)"
    lines.append(wrote)
    if summary.train < MIN_TRAINING_EXAMPLES:
        lines.append(
            f"note: OpenAI needs at least {MIN_TRAINING_EXAMPLES} training examples to "
            "fine-tune; export again when more answers are approved, or over a longer --since"
        )
    return lines


async def _finetune(
    settings: Settings,
    since: str,
    out: Path,
    validation: float,
    validation_out: Path | None,
) -> None:
    from bot.export.finetune import export
    from bot.store.models import utcnow

    start = utcnow() - parse_age(since, option="--since")
    async with open_database(settings) as db:
        summary = await export(
            db, start, out, validation_share=validation, validation_out=validation_out
        )
    print("\n".join(_lines(summary)))


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 <= args.validation < 1:
        raise ConfigError(
            f"--validation is a share from 0 to below 1, like 0.1 (not {args.validation})"
        )
    if args.validation_out is not None and args.validation_out == args.out:
        raise ConfigError("--validation-out must name another file than --out")
    asyncio.run(_finetune(settings, args.since, args.out, args.validation, args.validation_out))
    return 0
