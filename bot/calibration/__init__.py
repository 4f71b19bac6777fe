"""Confidence threshold calibration, for `supportbot calibrate`: from what leads and customers
did with the bot's answers (and, when given, eval runs), how often each tier would be wrong and
how often it would escalate at each candidate threshold, and which threshold meets a target.

    verdicts.py  the verdicts the store holds: a lead's resolution of a draft, a thumb
    evals.py     the verdicts of eval runs (`--eval RUN.json`): the file contract
    table.py     thresholds against escalation and error rates, and the recommendation
    results.py   what that returns: pydantic models with `to_json()`
    text.py      the result as plain text (the terminal)

The terminal command is `bot/cli/reports.py`.
"""

from bot.calibration.evals import EvalVerdicts, read_eval_runs
from bot.calibration.results import Calibration
from bot.calibration.table import MIN_VERDICTS, THRESHOLDS, calibrate
from bot.calibration.text import format_text
from bot.calibration.verdicts import Source, Verdict, stored_verdicts

__all__ = [
    "MIN_VERDICTS",
    "THRESHOLDS",
    "Calibration",
    "EvalVerdicts",
    "Source",
    "Verdict",
    "calibrate",
    "format_text",
    "read_eval_runs",
    "stored_verdicts",
]
