"""What the bot spends, for support leads: `/costs` in Slack and `supportbot costs`.

    periods.py     the periods (UTC windows ending now) and their error
    money.py       exact amounts (`usd`) and dollars for people (`format_usd`)
    statements.py  the SQL: aggregates over the period's `model_call` rows
    report.py      the period report, with savings against always-strong
    queries.py     one thread, one customer, spend per day (for the chart)
    results.py     what those return: pydantic models with `to_json()`
    request.py     `/costs` arguments as a request (no rendering)
    text.py        the results as plain text (the terminal)
    blocks.py      the results as Block Kit (Slack)
    chart.py       daily spend by tier as a PNG

The Slack listener is `bot/listeners/commands.py`; the terminal command `bot/cli/reports.py`.
"""

from bot.costs.money import format_usd, usd
from bot.costs.periods import PERIODS, PeriodError, period_window
from bot.costs.queries import customer_spend, daily_spend, find_thread, thread_detail
from bot.costs.report import report

__all__ = [
    "PERIODS",
    "PeriodError",
    "customer_spend",
    "daily_spend",
    "find_thread",
    "format_usd",
    "period_window",
    "report",
    "thread_detail",
    "usd",
]
