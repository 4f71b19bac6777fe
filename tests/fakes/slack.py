"""A fake Slack Web API: records every call and answers like Slack does."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.server import FakeServer

BOT_USER_ID = "UBOT"
TEAM_ID = "T0001"


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    token: str
    response: dict[str, Any] = field(default_factory=dict)
    arrived: float = field(default_factory=time.monotonic)
    answered: float = 0.0


@dataclass
class FakeSlack(FakeServer):
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[SlackCall] = field(default_factory=list)
    # method -> list of (status, headers, body) served before normal answers (None: a normal one)
    faults: dict[str, list[tuple[int, dict[str, str], dict[str, Any]] | None]] = field(
        default_factory=dict
    )
    # file id -> bytes POSTed to the upload URL that files.getUploadURLExternal handed out
    uploads: dict[str, bytes] = field(default_factory=dict)
    # Socket Mode: envelopes to push over the WebSocket, and the acks the app sent back
    socket_outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    enterprise_id: str | None = None  # set: auth.test reports an org-wide install of this org
    # method -> seconds Slack takes to answer it
    delays: dict[str, float] = field(default_factory=dict)
    # name -> (mimetype, bytes) served at /files/{name} to requests bearing the bot token
    hosted: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    # Tokens Slack no longer takes (the app was uninstalled or the token rotated).
    revoked_tokens: set[str] = field(default_factory=set)
    # Far from the tests' own message ts (numbered from 1), so a reply never shares a ts with one.
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(900_000))

    @property
    def api_url(self) -> str:
        return self.url_for("/api/")

    def add_user(
        self,
        user_id: str,
        email: str | None,
        name: str = "",
        *,
        team_id: str = TEAM_ID,
        email_confirmed: bool = True,
        guest: str | None = None,
        stranger: bool = False,
    ) -> dict[str, Any]:
        """A user as users.info returns one: by default a full member of the installing team
        with a confirmed email; `guest` is "multi" or "single" (channel guest), `stranger` a
        user of another team seen through a shared channel (Slack then sends no email)."""
        profile: dict[str, Any] = {"display_name": name or user_id, "real_name": name or user_id}
        if email:
            profile["email"] = email
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team_id,
            "name": name or user_id,
            "deleted": False,
            "is_bot": False,
            "is_admin": False,
            "is_owner": False,
            "is_restricted": guest is not None,
            "is_ultra_restricted": guest == "single",
            "is_app_user": False,
            "is_email_confirmed": email_confirmed,
            "profile": profile,
        }
        if stranger:
            user["is_stranger"] = True
        self.users[user_id] = user
        return user

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """Messages posted, each with the `ts` Slack gave it."""
        return [c.args | {"ts": c.response.get("ts")} for c in self.calls_to("chat.postMessage")]

    def fail(
        self,
        method: str,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer the next `times` calls to `method` with this error, after `after` normal ones."""
        queued = self.faults.setdefault(method, [])
        queued.extend([None] * after + [(status, headers or {}, body)] * times)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = token or str(args.get("token", ""))
        call = SlackCall(method, args, token)
        self.calls.append(call)
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        try:
            return self._respond(call)
        finally:
            call.answered = time.monotonic()

    def _respond(self, call: SlackCall) -> web.Response:
        method, args = call.method, call.args
        queued = self.faults.get(method)
        fault = queued.pop(0) if queued else None
        if fault is not None:
            status, headers, body = fault
            call.response = body
            return web.json_response(body, status=status, headers=headers)
        call.response = self._refused_token(call.token) or self.answer(method, args)
        return web.json_response(call.response)

    def _refused_token(self, token: str) -> dict[str, Any] | None:
        """Slack's answer (HTTP 200, `ok: false`) to a call with a token it does not take."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token in self.revoked_tokens:
            return {"ok": False, "error": "token_revoked"}
        if not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            return {"ok": False, "error": "invalid_auth"}
        return None

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "supportbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "BBOT",
                "is_enterprise_install": self.enterprise_id is not None,
                **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
            }
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text"), "ts": ts, "user": BOT_USER_ID},
            }
        if method == "usergroups.users.list":
            members = self.usergroups.get(str(args.get("usergroup")))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": members}
        if method == "apps.connections.open":
            url = self.url_for("/socket").replace("http://", "ws://")
            return {"ok": True, "url": url}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": self.url_for(f"/upload/{file_id}"),
            }
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        return {"ok": True}

    async def upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[request.match_info['file_id']])}")

    def host_file(self, name: str, mimetype: str, data: bytes) -> dict[str, Any]:
        """Serve a file like files.slack.com does; returns the `files` entry of an event."""
        self.hosted[name] = (mimetype, data)
        url = self.url_for(f"/files/{name}")
        return {
            "id": f"F{name}",
            "name": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private": url,
            "url_private_download": url,
        }

    async def serve_file(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer xoxb-test":
            # Slack answers a missing or wrong token with its HTML sign-in page, not a 401.
            return web.Response(text="<html>sign in</html>", content_type="text/html")
        mimetype, data = self.hosted[request.match_info["name"]]
        return web.Response(body=data, content_type=mimetype)

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's Socket Mode endpoint: hello, then envelopes from `socket_outbox`."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})

        async def push() -> None:
            while True:
                await ws.send_json(await self.socket_outbox.get())

        pusher = asyncio.create_task(push())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
        finally:
            pusher.cancel()
        return ws

    def push_event(self, body: dict[str, Any]) -> str:
        """Send an Events API payload over Socket Mode; returns its envelope id."""
        envelope_id = f"env-{next(self._ts)}"
        self.socket_outbox.put_nowait(
            {
                "envelope_id": envelope_id,
                "type": "events_api",
                "payload": body,
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/socket", self.socket)
        app.router.add_get("/files/{name}", self.serve_file)
        app.router.add_route("*", "/api/{method}", self.handle)
        app.router.add_post("/upload/{file_id}", self.upload)
        return app


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
