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

if TYPE_CHECKING:
    from bot.export.finetune import Summary

_SOURCES = {
    "lead_unchanged": "a lead sent the draft unchanged",
    "lead_edited": "a lead edited the draft and sent it",
    "strong_thumbs_up": "strong tier, thumbs up",
    "strong_no_complaint": "strong tier, no complaint",
}
_LEFT_OUT = {
    "thumbs_down": "strong tier, thumbs down",
    "handed_off_after": "strong tier, a person asked for after it",
    "no_draft": "a person took it before any model answered",
    "no_transcript": "no transcript (answered before transcripts were kept)",
    "no_final_answer": "the model answered without final_answer",
    "images": "the customer sent images",
    "too_long": "too long for one example",
}


def _lines(summary: Summary) -> list[str]:
    """The summary as the terminal shows it."""
    from bot.export.examples import LeftOut, Source
    from bot.export.finetune import MIN_TRAINING_EXAMPLES

    found = summary.examples + sum(summary.left_out.values())
    lines = [
        f"{found} approved answer(s) since {summary.since:%Y-%m-%d %H:%M} UTC; "
        f"{summary.examples} exported:"
    ]
    lines += [f"  {_SOURCES[s]:<56}{summary.sources[s]:>5}" for s in Source]
    lines.append("left out:")
    lines += [f"  {_LEFT_OUT[r]:<56}{summary.left_out[r]:>5}" for r in LeftOut]
    lines.append(f"  {'conversations of the period purged since':<56}{summary.purged:>5}")
    replaced = ", ".join(f"{n} {kind.lower()}" for kind, n in sorted(summary.replaced.items()))
    lines.append(f"personal data replaced with placeholders: {replaced or 'none found'}")
    wrote = f"wrote {summary.train} training example(s) to {summary.train_file}"
    if summary.validation_file is not None:
        wrote += f" and {summary.validation} validation example(s) to {summary.validation_file}"
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
