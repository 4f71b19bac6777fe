"""Time as a seam: code that reasons about time (SLA clocks, when a message was received) takes
a `Clock` instead of reading the system clock, so tests freeze it and no test sleeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.store.models import utcnow

# Now, timezone-aware UTC. `Services.clock`; the system clock (`utcnow`) in production.
Clock = Callable[[], datetime]

SYSTEM_CLOCK: Clock = utcnow
