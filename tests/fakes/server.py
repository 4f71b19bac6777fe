"""What every fake service shares: its aiohttp app served on a real local port, and its URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class FakeServer:
    """A fake service behind real HTTP on 127.0.0.1. A subclass says what it serves in `app`;
    a test starts it, points a client at `base_url` (or a `url_for` path) and closes it."""

    server: TestServer | None = field(default=None, kw_only=True)

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> Self:
        self.server = TestServer(self.app())
        await self.server.start_server()
        return self

    def url_for(self, path: str) -> str:
        assert self.server is not None, "the fake is not started"
        return str(self.server.make_url(path))

    @property
    def base_url(self) -> str:
        """The server's root, without a trailing slash."""
        return self.url_for("").rstrip("/")

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
