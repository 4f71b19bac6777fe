"""A fake Slack Web API: records every call and answers like Slack does."""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.server import FakeServer
from tests.fakes.slack_teams import (
    FakeChannel,
    FakeTeam,
    Installation,
    im_info,
    manifest_scopes,
)

BOT_USER_ID = "UBOT"
TEAM_ID = "T0001"
DEFAULT_TOKEN = "xoxb-test"
# The OAuth client of the tests' Slack app (`oauth.v2.access`); no real app's.
OAUTH_CLIENT = ("1111111111.2222222222", "test-client-secret")


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    token: str
    response: dict[str, Any] = field(default_factory=dict)
    team: str | None = None  # the team of the token (None: a token Slack does not know)
    # `Authorization: Basic` (client id, secret), as slack_sdk sends oauth.v2.access
    basic: tuple[str, str] | None = None
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
    # name -> (mimetype, bytes, team) served at /files/{name} to a bot token of that team
    hosted: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    # Tokens Slack no longer takes (the app was uninstalled or the token rotated).
    revoked_tokens: set[str] = field(default_factory=set)
    # Several workspaces (docs/issue-15-plan.md §9). By default one team, one token.
    teams: dict[str, FakeTeam] = field(
        default_factory=lambda: {TEAM_ID: FakeTeam(TEAM_ID, "Fake", "fake")}
    )
    installations: dict[str, Installation] = field(
        default_factory=lambda: {DEFAULT_TOKEN: Installation(TEAM_ID, BOT_USER_ID, "BBOT")}
    )
    # False (default): a bot token Slack was not told about speaks for the default installation,
    # as every token did before several workspaces; True: `invalid_auth`, as Slack answers.
    strict_tokens: bool = False
    # Channels whose organisations the fake knows (`add_channel`); any other channel is an
    # ordinary channel of whoever asks, and takes posts from any team, as before.
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    oauth_client: tuple[str, str] = OAUTH_CLIENT
    _codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (team, installer)
    _minted: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Far from the tests' own message ts (numbered from 1), so a reply never shares a ts with one.
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(900_000))

    @property
    def api_url(self) -> str:
        return self.url_for("/api/")

    def add_team(
        self,
        team_id: str,
        name: str,
        domain: str = "",
        *,
        email_domain: str = "",
        enterprise_id: str | None = None,
    ) -> FakeTeam:
        """A workspace Slack knows (team.info), e.g. a customer's in a Slack Connect channel."""
        team = FakeTeam(team_id, name, domain or name.lower(), email_domain, enterprise_id)
        self.teams[team_id] = team
        return team

    def install(self, team_id: str) -> str:
        """Install the bot in `team_id`: a new bot token (`xoxb-<team>-<n>`) and bot user."""
        if team_id not in self.teams:
            self.add_team(team_id, team_id)
        token = f"xoxb-{team_id}-{next(self._minted)}"
        self.installations[token] = Installation(team_id, f"UBOT_{team_id}", f"BBOT_{team_id}")
        return token

    def uninstall(self, team_id: str) -> None:
        """The team removed the bot: its tokens are revoked (`token_revoked` from then on)."""
        for token, installed in list(self.installations.items()):
            if installed.team_id == team_id:
                self.revoked_tokens.add(token)
                del self.installations[token]

    def grant(self, team_id: str, installer: str = "UINSTALLER") -> str:
        """A user of `team_id` approved the install: the one-use code Slack redirects with."""
        code = f"code-{team_id}-{next(self._minted)}"
        self._codes[code] = (team_id, installer)
        return code

    def add_channel(
        self,
        channel_id: str,
        name: str,
        teams: list[str] | tuple[str, ...] = (TEAM_ID,),
        *,
        private: bool = False,
        omit: tuple[str, ...] | set[str] = (),
    ) -> FakeChannel:
        """A channel of `teams` (the first hosts it; more than one: a Slack Connect channel);
        `omit` drops conversations.info fields, as some real answers lack them."""
        channel = FakeChannel(channel_id, name, tuple(teams), private, frozenset(omit))
        self.channels[channel_id] = channel
        return channel

    def team_of(self, token: str) -> str | None:
        """The team a token speaks for; None when Slack does not know the token."""
        installed = self.installations.get(token)
        if installed is not None:
            return installed.team_id
        if token in self.revoked_tokens or (self.strict_tokens and token.startswith("xoxb-")):
            return None
        return TEAM_ID if token else None

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
        hide_email: bool = False,
    ) -> dict[str, Any]:
        """A user as users.info returns one: by default a full member of the installing team
        with a confirmed email; `guest` is "multi" or "single" (channel guest), `stranger` a
        user of another team seen through a shared channel, `hide_email` one whose org hides
        emails from other orgs (Slack then sends no `profile.email`). A user of a Grid team
        (`add_team(..., enterprise_id=)`) carries `enterprise_user`."""
        profile: dict[str, Any] = {
            "display_name": name or user_id,
            "real_name": name or user_id,
            "team": team_id,
        }
        if email and not hide_email:
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
        team = self.teams.get(team_id)
        if team is not None and team.enterprise_id:
            user["enterprise_user"] = {"enterprise_id": team.enterprise_id, "teams": [team_id]}
        if stranger:
            user["is_stranger"] = True
        self.users[user_id] = user
        return user

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def posts(self) -> list[dict[str, Any]]:
        """Messages posted, each with the `ts` Slack gave it and the team that posted it."""
        return [
            c.args | {"ts": c.response.get("ts"), "team": c.team}
            for c in self.calls_to("chat.postMessage")
        ]

    def posts_in(self, channel: str) -> list[dict[str, Any]]:
        return [p for p in self.posts() if p.get("channel") == channel]

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
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else ""
        token = token or str(args.get("token", ""))
        call = SlackCall(method, args, token, basic=_basic(authorization))
        call.team = self.team_of(token)
        self.calls.append(call)
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        try:
            return self._respond(call)
        finally:
            call.answered = time.monotonic()

    def _respond(self, call: SlackCall) -> web.Response:
        method = call.method
        queued = self.faults.get(method)
        fault = queued.pop(0) if queued else None
        if fault is not None:
            status, headers, body = fault
            call.response = body
            return web.json_response(body, status=status, headers=headers)
        if method == "oauth.v2.access":  # the app's client credentials, not a token
            call.response = self._oauth_access(call)
        else:
            call.response = self._refused_token(call.token) or self.answer(call)
        return web.json_response(call.response)

    def _refused_token(self, token: str) -> dict[str, Any] | None:
        """Slack's answer (HTTP 200, `ok: false`) to a call with a token it does not take."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token in self.revoked_tokens:
            return {"ok": False, "error": "token_revoked"}
        if not token.startswith(("xoxb-", "xoxp-", "xapp-")) or self.team_of(token) is None:
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _oauth_access(self, call: SlackCall) -> dict[str, Any]:
        """oauth.v2.access: a one-use code for a bot token of the team that granted it."""
        args = call.args
        client_id, secret = call.basic or (
            str(args.get("client_id", "")),
            str(args.get("client_secret", "")),
        )
        if client_id != self.oauth_client[0]:
            return {"ok": False, "error": "invalid_client_id"}
        if secret != self.oauth_client[1]:
            return {"ok": False, "error": "bad_client_secret"}
        granted = self._codes.pop(str(args.get("code", "")), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, installer = granted
        token = self.install(team_id)
        installed = self.installations[token]
        return {
            "ok": True,
            "app_id": "A0001",
            "authed_user": {"id": installer},
            "scope": manifest_scopes(),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": installed.bot_user_id,
            "team": {"id": team_id, "name": self.teams[team_id].name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _auth_test(self, token: str, team_id: str) -> dict[str, Any]:
        installed = self.installations.get(token) or Installation(TEAM_ID, BOT_USER_ID, "BBOT")
        team = self.teams.get(team_id) or FakeTeam(team_id, team_id, team_id.lower())
        enterprise = self.enterprise_id if team_id == TEAM_ID else None
        enterprise = enterprise or team.enterprise_id
        return {
            "ok": True,
            "url": f"https://{team.domain}.slack.com/",
            "team": team.name,
            "user": "supportbot",
            "team_id": team_id,
            "user_id": installed.bot_user_id,
            "bot_id": installed.bot_id,
            "is_enterprise_install": enterprise is not None,
            **({"enterprise_id": enterprise} if enterprise else {}),
        }

    def _channel_for(self, channel_id: str, caller: str) -> FakeChannel | None:
        """The channel as `caller`'s team sees it: None when that team is not in it."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return FakeChannel(channel_id, channel_id.lower(), (caller,))
        team = self.teams.get(caller) or FakeTeam(caller, caller, caller.lower())
        return channel if team.is_in(channel.teams) else None

    def _conversations_info(self, args: dict[str, Any], caller: str) -> dict[str, Any]:
        channel_id = str(args.get("channel", ""))
        if channel_id.startswith("D"):
            return {"ok": True, "channel": im_info(channel_id)}
        channel = self._channel_for(channel_id, caller)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": channel.info(caller)}

    def _team_info(self, args: dict[str, Any], caller: str) -> dict[str, Any]:
        team = self.teams.get(str(args.get("team") or caller))
        return (
            {"ok": True, "team": team.info()} if team else {"ok": False, "error": "team_not_found"}
        )

    def _visible(self, user: dict[str, Any], caller: str) -> bool:
        """A user of a team the fake knows is visible to the same team, or to a team that shares
        a channel with theirs; users of teams it was not told about are visible, as before."""
        team = self.teams.get(str(user.get("team_id")))
        if team is None or team.id == caller:
            return True
        ours = self.teams.get(caller) or FakeTeam(caller, caller, caller.lower())
        return any(team.is_in(c.teams) and ours.is_in(c.teams) for c in self.channels.values())

    def _post(self, args: dict[str, Any], caller: str) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not channel.startswith(("D", "U", "W")) and self._channel_for(channel, caller) is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        bot_user = next(
            (i.bot_user_id for i in self.installations.values() if i.team_id == caller),
            BOT_USER_ID,
        )
        return {
            "ok": True,
            "channel": args.get("channel"),
            "ts": ts,
            "message": {"text": args.get("text"), "ts": ts, "user": bot_user},
        }

    def answer(self, call: SlackCall) -> dict[str, Any]:
        method, args, caller = call.method, call.args, call.team or TEAM_ID
        if method == "auth.test":
            return self._auth_test(call.token, caller)
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            if user is None or not self._visible(user, caller):
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            return self._post(args, caller)
        if method == "conversations.info":
            return self._conversations_info(args, caller)
        if method == "team.info":
            return self._team_info(args, caller)
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

    def host_file(
        self, name: str, mimetype: str, data: bytes, team: str = TEAM_ID
    ) -> dict[str, Any]:
        """Serve a file of `team` like files.slack.com does (to that team's bot tokens only);
        returns the `files` entry of an event."""
        self.hosted[name] = (mimetype, data, team)
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
        mimetype, data, team = self.hosted[request.match_info["name"]]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        installed = self.installations.get(token)
        if installed is None or installed.team_id != team:
            # Slack answers a missing or wrong token with its HTML sign-in page, not a 401.
            return web.Response(text="<html>sign in</html>", content_type="text/html")
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


def _basic(authorization: str) -> tuple[str, str] | None:
    """The (client id, secret) of an `Authorization: Basic` header, if that is what it is."""
    if not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic "), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret
