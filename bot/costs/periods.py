"""The periods of the cost reports: UTC windows ending now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.errors import UsageError

PERIODS = ("today", "week", "month", "7d", "30d")


class PeriodError(UsageError):
    """An unknown period; the message lists the valid ones."""


def period_window(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The UTC window [start, end) of a period, ending now.

    `today` since midnight, `week` since Monday midnight, `month` since the 1st, `7d` and `30d`
    the last 7 or 30 times 24 hours.
    """
    end = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
    key = period.strip().lower()
    if key == "today":
        return midnight, end
    if key == "week":
        return midnight - timedelta(days=midnight.weekday()), end
    if key == "month":
        return midnight.replace(day=1), end
    match = re.fullmatch(r"(7|30)d", key)
    if match:
        return end - timedelta(days=int(match.group(1))), end
    raise PeriodError(f"unknown period {period!r}; use one of: {', '.join(PERIODS)}")
