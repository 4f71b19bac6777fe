"""The progress of a run on standard error: a bar redrawn in place on a terminal, a line at
every tenth of the cases elsewhere (a log, CI)."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.batch.calls import BatchProgress
from bot.eval.results import CaseResult

_WIDTH = 30


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self._total = total
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._done = 0
        self._failed = 0
        self._leaks = 0
        self._shown_tenth = 0

    def __call__(self, result: CaseResult) -> None:
        """One case finished."""
        self._done += 1
        self._failed += not result.passed
        self._leaks += sum(1 for t in result.turns if t.leaked)
        if self._tty:
            end = "\n" if self._done == self._total else ""
            self._stream.write(f"\r{self._line()}{end}")
        else:
            tenth = self._done * 10 // max(1, self._total)
            if tenth == self._shown_tenth and self._done != self._total:
                return
            self._shown_tenth = tenth
            self._stream.write(self._line() + "\n")
        self._stream.flush()

    def batch(self, event: BatchProgress) -> None:
        """A batch of `--batch` sent, polled or ended: a line of its own."""
        if self._tty and 0 < self._done < self._total:
            self._stream.write("\n")  # below the bar drawn in place
        self._stream.write(
            f"round {event.round}: {event.provider} {event.model} batch {event.batch_id} "
            f"{event.provider_status}, {event.done}/{event.total} done\n"
        )
        self._stream.flush()

    def _line(self) -> str:
        filled = self._done * _WIDTH // max(1, self._total)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        leaks = f", {self._leaks} leaked" if self._leaks else ""
        return f"eval [{bar}] {self._done}/{self._total} cases, {self._failed} failed{leaks}"
