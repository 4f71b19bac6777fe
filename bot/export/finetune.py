"""`supportbot export finetune`: the approved answers of a period as OpenAI chat fine-tuning
files, a training file and a validation file beside it, and a summary of what went where.

The split is by conversation (a hash of its id), so the turns of one thread are all on one side
and the same database always splits the same way."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.export.detectors import Kind
from bot.export.examples import Example, build
from bot.export.kinds import NOT_APPROVED, LeftOut, Source
from bot.store import approved
from bot.store.db import Database

# OpenAI refuses a training file with fewer examples than this.
MIN_TRAINING_EXAMPLES = 10


@dataclass
class Summary:
    """What an export wrote, where from, and what it left out."""

    since: datetime
    train_file: Path
    validation_file: Path | None
    sources: Counter[Source] = field(default_factory=Counter)
    left_out: Counter[LeftOut] = field(default_factory=Counter)
    purged: int = 0  # conversations of the period whose words were purged
    train: int = 0
    validation: int = 0
    validation_wanted: bool = False  # a share was asked for, and it held no example
    replaced: Counter[Kind] = field(default_factory=Counter)

    @property
    def examples(self) -> int:
        return self.train + self.validation

    @property
    def approved(self) -> int:
        """The approved answers found: those exported and those left out for what the file
        cannot hold, not those nobody approved (a 👎, a person asked for after it)."""
        kept_out = sum(n for reason, n in self.left_out.items() if reason not in NOT_APPROVED)
        return self.examples + kept_out


def validation_path(out: Path) -> Path:
    """`finetune.jsonl` -> `finetune.validation.jsonl`."""
    if out.suffix == ".jsonl":
        return out.with_name(f"{out.stem}.validation.jsonl")
    return out.with_name(f"{out.name}.validation.jsonl")


def split_point(conversation_id: int) -> float:
    """A conversation's place from 0 to 1, from a hash of its id: the same every time."""
    digest = hashlib.sha256(f"supportbot-finetune:{conversation_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_validation(conversation_id: int, share: float) -> bool:
    """Whether a conversation's examples go to the validation file (`share` from 0 to 1)."""
    return split_point(conversation_id) < share


async def export(
    db: Database,
    since: datetime,
    out: Path,
    *,
    validation_share: float,
    validation_out: Path | None = None,
) -> Summary:
    """Write the examples of the answers approved since `since` to `out` and, when
    `validation_share` is above 0, a share of the conversations to the validation file; when
    that share holds no example, no validation file (`validation_file` None; an earlier
    export's file of that name is removed, lest it be uploaded with the new training file)."""
    held_out = (validation_out or validation_path(out)) if validation_share > 0 else None
    summary = Summary(since, out, held_out)
    train: list[Example] = []
    validation: list[Example] = []
    for answer in await approved.approved_since(db, since):
        built = build(answer)
        if isinstance(built, LeftOut):
            summary.left_out[built] += 1
            continue
        summary.sources[built.source] += 1
        summary.replaced.update(built.replaced)
        side = validation if in_validation(built.conversation_id, validation_share) else train
        side.append(built)
    summary.purged = await approved.purged_since(db, since)
    summary.train, summary.validation = len(train), len(validation)
    _write(out, train)
    if held_out is not None and validation:
        _write(held_out, validation)
    elif held_out is not None:
        held_out.unlink(missing_ok=True)
        summary.validation_file = None
        summary.validation_wanted = True
    return summary


def _write(path: Path, examples: list[Example]) -> None:
    """One example a line, written whole or not at all (a temporary file renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8") as f:
        for example in examples:
            f.write(json.dumps(example.line, ensure_ascii=False) + "\n")
    os.replace(partial, path)
