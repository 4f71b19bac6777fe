"""Which processes hold claims, and which of them are dead.

PLACEHOLDER of the i13-holders branch's module (same interface), so that i13-core runs before
it lands: holders on this machine judged by their process id; any other is never dead."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection

from bot.store.db import Database


class Holders:
    """This process's holder id (`me`), and which other holders are dead."""

    def __init__(self) -> None:
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def dead(self, holders: Collection[str]) -> set[str]:
        """The holders known to be dead; one it cannot judge is never dead."""
        host = socket.gethostname()
        found = set()
        for holder in holders:
            name, _, rest = holder.partition(":")
            pid, _, _ = rest.partition(":")
            if name != host or not pid.isdigit() or holder == self.me:
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                found.add(holder)
            except PermissionError:
                continue
        return found


def holders_for(db: Database) -> Holders:
    return Holders()
