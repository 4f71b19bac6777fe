"""What a lead asks `/costs` for: its words read as a request, or a UsageError saying why not.

Nothing here renders or queries: `bot/listeners/commands.py` answers the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.costs.periods import PERIODS
from bot.errors import UsageError
from bot.slack_links import parse_thread_link

HELP = (
    "*`/costs` shows what the bot spends.* Use one of:\n"
    "• `/costs` — today's spend (UTC)\n"
    f"• `/costs {' | '.join(PERIODS)}` — another period: today, this week (since Monday), "
    "this month, or the last 7 or 30 days\n"
    "• `/costs chart [period]` — a chart of daily spend by tier, posted in this channel "
    "(default 7d)\n"
    "• `/costs <thread link>` — every model call of one thread (use *Copy link* on a message)\n"
    "• `/costs @user [period]` — one customer's spend"
)
CHART_DEFAULT_PERIOD = "7d"

_USER = re.compile(r"^<@(?P<id>[UW][A-Z0-9]+)(?:\|[^>]*)?>$|^(?P<raw>[UW][A-Z0-9]{5,})$")


class CostsView(StrEnum):
    """What a `/costs` request shows."""

    REPORT = "report"  # a period's report
    CHART = "chart"  # daily spend by tier, as a picture posted in the channel
    THREAD = "thread"  # every model call of one thread
    CUSTOMER = "customer"  # one customer's spend


@dataclass(frozen=True)
class CostsRequest:
    kind: CostsView
    period: str = "today"
    channel_id: str = ""
    thread_ts: str = ""
    user_id: str = ""


def _period(word: str) -> str:
    if word.lower() not in PERIODS:
        raise UsageError(f"`{word}` is not a period.")
    return word.lower()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_args(text: str) -> CostsRequest:
    """The command's text as a request; UsageError for anything else."""
    words = text.split()
    if not words:
        return CostsRequest(CostsView.REPORT)
    first = words[0]
    if first.lower() == "chart":
        if len(words) > 2:
            raise UsageError("`chart` takes at most a period.")
        period = _period(words[1]) if len(words) > 1 else CHART_DEFAULT_PERIOD
        return CostsRequest(CostsView.CHART, period)
    if first.lower() in PERIODS:
        if len(words) > 1:
            raise UsageError("A period stands alone, or after a user.")
        return CostsRequest(CostsView.REPORT, first.lower())
    link = parse_thread_link(first)
    if link:
        if len(words) > 1:
            raise UsageError("A thread link stands alone.")
        return CostsRequest(CostsView.THREAD, channel_id=link[0], thread_ts=link[1])
    user = _USER.match(first)
    if user:
        if len(words) > 2:
            raise UsageError("A user may be followed by a period, nothing else.")
        period = _period(words[1]) if len(words) > 1 else "today"
        return CostsRequest(CostsView.CUSTOMER, period, user_id=user["id"] or user["raw"])
    if first.startswith("@"):
        raise UsageError(
            f"Slack sent `{first}` as plain text, not as a user id: pick the person from the "
            "@-menu (with escaping switched on for `/costs`, `should_escape: true` in the app "
            "manifest) or give their user id, such as `/costs U012ABCDEF`."
        )
    if "slack.com/archives/" in first:
        raise UsageError("That is not a link to a Slack message.")
    raise UsageError(f"I don't understand `{_clip(text.strip(), 80)}`.")
