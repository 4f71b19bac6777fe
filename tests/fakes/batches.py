"""Fake Batch APIs beside the fake model servers: Anthropic's Message Batches and OpenAI's Batch
API (with its Files API), in their real wire formats, so the real SDKs create, poll and read
them. Each request in a batch is answered by its server's `respond` (the script, or the same
`support_brain` its live endpoint uses); a request for one of the server's `failing_models`
gets an error line instead. A batch ends after the server's `batch_polls` polls.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

# What Anthropic takes as a custom id.
_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


class ModelServer(Protocol):
    """What a batch fake needs of its model server (`tests.fakes.models.FakeModelServer`)."""

    batch_polls: int
    batches: dict[str, FakeBatch]
    batch_lines: list[dict[str, Any]]
    failing_models: dict[str, int]

    def respond(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def error_body(self, status: int) -> dict[str, Any]: ...

    def fault(self) -> web.Response | None: ...

    def new_id(self) -> int: ...

    def url_for(self, path: str) -> str: ...


@dataclass
class FakeBatch:
    """One batch: its requests (custom id, body), polls left before it ends, and once ended
    its result lines (successes; errors: OpenAI's go in a file of their own)."""

    id: str
    requests: list[tuple[str, dict[str, Any]]]
    polls_left: int
    created: float = field(default_factory=time.time)
    results: list[dict[str, Any]] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _answer(server: ModelServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A request of a batch answered as the live endpoint would: (HTTP status, body)."""
    status = server.failing_models.get(body.get("model", ""))
    if status:
        return status, server.error_body(status)
    return 200, server.respond(body)


class AnthropicBatchApi:
    """POST /v1/messages/batches, GET /v1/messages/batches/{id} and .../results (JSONL)."""

    def __init__(self, server: ModelServer) -> None:
        self.server = server

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages/batches", self.create)
        app.router.add_get("/v1/messages/batches/{id}", self.retrieve)
        app.router.add_get("/v1/messages/batches/{id}/results", self.results)

    def refuse(self, message: str) -> web.Response:
        body = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
        return web.json_response(body, status=400)

    async def create(self, request: web.Request) -> web.Response:
        s = self.server
        body = await request.json()
        if fault := s.fault():
            return fault
        entries = body.get("requests") or []
        if not entries:
            return self.refuse("requests: at least one is needed")
        ids = [e.get("custom_id", "") for e in entries]
        if any(not _CUSTOM_ID.fullmatch(i) for i in ids) or len(set(ids)) != len(ids):
            return self.refuse("custom_id: unique, and matching ^[a-zA-Z0-9_-]{1,64}$")
        if any("model" not in e.get("params", {}) for e in entries):
            return self.refuse("params: model is required")
        batch = FakeBatch(
            f"msgbatch_{s.new_id():024d}",
            [(e["custom_id"], e["params"]) for e in entries],
            s.batch_polls,
        )
        s.batches[batch.id] = batch
        s.batch_lines.extend({"custom_id": i, "body": p} for i, p in batch.requests)
        return web.json_response(self.batch_json(batch))

    def batch(self, request: web.Request) -> FakeBatch | web.Response:
        batch = self.server.batches.get(request.match_info["id"])
        if batch is None:
            body = {"type": "error", "error": {"type": "not_found_error", "message": "no batch"}}
            return web.json_response(body, status=404)
        return batch

    async def retrieve(self, request: web.Request) -> web.Response:
        if fault := self.server.fault():
            return fault
        batch = self.batch(request)
        if isinstance(batch, web.Response):
            return batch
        batch.polls += 1
        if batch.results is None:
            batch.polls_left -= 1
            if batch.polls_left <= 0:
                self.end(batch)
        return web.json_response(self.batch_json(batch))

    def end(self, batch: FakeBatch) -> None:
        batch.results = []
        for custom_id, params in batch.requests:
            status, answer = _answer(self.server, params)
            result = (
                {"type": "succeeded", "message": answer}
                if status == 200
                else {"type": "errored", "error": answer}
            )
            batch.results.append({"custom_id": custom_id, "result": result})

    async def results(self, request: web.Request) -> web.Response:
        if fault := self.server.fault():
            return fault
        batch = self.batch(request)
        if isinstance(batch, web.Response):
            return batch
        if batch.results is None:
            return self.refuse("the batch has not ended")
        text = "".join(json.dumps(line) + "\n" for line in batch.results)
        return web.Response(text=text, content_type="application/binary")

    def batch_json(self, batch: FakeBatch) -> dict[str, Any]:
        ended = batch.results is not None
        kinds = [line["result"]["type"] for line in batch.results or []]
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {
                "processing": 0 if ended else len(batch.requests),
                "succeeded": kinds.count("succeeded"),
                "errored": kinds.count("errored"),
                "canceled": 0,
                "expired": 0,
            },
            "created_at": _iso(batch.created),
            "expires_at": (
                datetime.fromtimestamp(batch.created, UTC) + timedelta(days=1)
            ).isoformat(),
            "ended_at": _iso(time.time()) if ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": self.server.url_for(f"/v1/messages/batches/{batch.id}/results")
            if ended
            else None,
        }


@dataclass
class FakeFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class OpenAIBatch(FakeBatch):
    """An OpenAI batch: its input file, the input's errors (a failed batch), its files."""

    input_file_id: str = ""
    invalid: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


class OpenAIBatchApi:
    """POST /v1/files (multipart, purpose batch), GET /v1/files/{id}/content, POST /v1/batches
    (endpoint /v1/chat/completions) and GET /v1/batches/{id}: validating, in_progress, then
    completed with an output file and, for requests that failed, an error file (or failed, when
    its input file does not validate)."""

    endpoint = "/v1/chat/completions"

    def __init__(self, server: ModelServer) -> None:
        self.server = server
        self.files: dict[str, FakeFile] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/files", self.upload)
        app.router.add_get("/v1/files/{id}/content", self.content)
        app.router.add_post("/v1/batches", self.create)
        app.router.add_get("/v1/batches/{id}", self.retrieve)

    def refuse(self, message: str, status: int = 400) -> web.Response:
        body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        return web.json_response(body, status=status)

    def add_file(self, filename: str, purpose: str, content: bytes) -> FakeFile:
        file = FakeFile(f"file-{self.server.new_id():024d}", filename, purpose, content)
        self.files[file.id] = file
        return file

    async def upload(self, request: web.Request) -> web.Response:
        if fault := self.server.fault():
            return fault
        form = await request.post()
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, web.FileField) or purpose not in {"batch", "fine-tune"}:
            return self.refuse("file and purpose are required")
        file = self.add_file(upload.filename, str(purpose), upload.file.read())
        return web.json_response(
            {
                "id": file.id,
                "object": "file",
                "bytes": len(file.content),
                "created_at": file.created,
                "filename": file.filename,
                "purpose": file.purpose,
                "status": "processed",
                "expires_at": None,
                "status_details": None,
            }
        )

    async def content(self, request: web.Request) -> web.Response:
        if fault := self.server.fault():
            return fault
        file = self.files.get(request.match_info["id"])
        if file is None:
            return self.refuse("No such File object", 404)
        return web.Response(body=file.content, content_type="application/octet-stream")

    async def create(self, request: web.Request) -> web.Response:
        s = self.server
        body = await request.json()
        if fault := s.fault():
            return fault
        if body.get("endpoint") != self.endpoint or body.get("completion_window") != "24h":
            return self.refuse("endpoint must be /v1/chat/completions, completion_window 24h")
        file = self.files.get(body.get("input_file_id", ""))
        if file is None or file.purpose != "batch":
            return self.refuse("input_file_id: no file with purpose batch")
        lines = [json.loads(t) for t in file.content.decode().splitlines() if t.strip()]
        batch = OpenAIBatch(
            f"batch_{s.new_id():024d}",
            [(line.get("custom_id", ""), line.get("body", {})) for line in lines],
            s.batch_polls,
            input_file_id=file.id,
            invalid=self.validate(lines),
        )
        s.batches[batch.id] = batch
        s.batch_lines.extend({"custom_id": i, "body": b} for i, b in batch.requests)
        return web.json_response(self.batch_json(batch, "validating"))

    def validate(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The input file's errors, as OpenAI lists them on a failed batch."""
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        for n, line in enumerate(lines, 1):
            cid = line.get("custom_id")
            if not cid or cid in seen or line.get("method") != "POST" or "body" not in line:
                errors.append({"code": "invalid_request", "message": "bad line", "line": n})
            elif line.get("url") != self.endpoint:
                errors.append({"code": "mismatched_url", "message": "url differs", "line": n})
            seen.add(cid)
        return errors

    async def retrieve(self, request: web.Request) -> web.Response:
        if fault := self.server.fault():
            return fault
        batch = self.server.batches.get(request.match_info["id"])
        if not isinstance(batch, OpenAIBatch):
            return self.refuse("No such Batch object", 404)
        batch.polls += 1
        if batch.results is None and not batch.invalid:
            batch.polls_left -= 1
            if batch.polls_left <= 0:
                self.end(batch)
        if batch.invalid:
            status = "failed"
        else:
            status = "completed" if batch.results is not None else "in_progress"
        return web.json_response(self.batch_json(batch, status))

    def end(self, batch: OpenAIBatch) -> None:
        batch.results = []
        for custom_id, body in batch.requests:
            status, answer = _answer(self.server, body)
            line = {
                "id": f"batch_req_{self.server.new_id():024d}",
                "custom_id": custom_id,
                "response": {"status_code": status, "request_id": "req_fake", "body": answer},
                "error": None,
            }
            (batch.results if status == 200 else batch.errors).append(line)
        output = self.add_file("batch_output.jsonl", "batch_output", _jsonl(batch.results))
        batch.output_file_id = output.id
        if batch.errors:
            errors = self.add_file("batch_errors.jsonl", "batch_output", _jsonl(batch.errors))
            batch.error_file_id = errors.id

    def batch_json(self, batch: OpenAIBatch, status: str) -> dict[str, Any]:
        ended = batch.results is not None
        failed = len(batch.errors)
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": {"object": "list", "data": batch.invalid} if batch.invalid else None,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": int(batch.created),
            "in_progress_at": int(batch.created) if status != "validating" else None,
            "expires_at": int(batch.created) + 86400,
            "completed_at": int(time.time()) if ended else None,
            "failed_at": int(time.time()) if batch.invalid else None,
            "request_counts": {
                "total": len(batch.requests),
                "completed": len(batch.results or []),
                "failed": failed,
            },
            "metadata": None,
        }
