"""A loopback Earth Engine of batch tasks, answering as the real service's JSON does: exports
create operations (``projects/P/operations/ID``, metadata ``state``/``progress``/...), deduplicated
by ``requestId``; at most ``cap`` PENDING tasks (beyond: 429 RESOURCE_EXHAUSTED); each
``operations.get`` moves a task one step (PENDING -> RUNNING -> SUCCEEDED). Faults: ``p_429``
(refused), ``p_lost_answer`` (created, then answered 503: the client cannot know it was created),
an export described ``"garbled"`` (answered 200 with a body that is not an Operation).
``latency``: seconds each export waits before it is handled; ``gather``: the first ``gather``
exports are held until that many are in flight together (at most 5 s), so a client's
concurrency shows whatever the machine's load; ``max_exports_in_flight`` the most export
requests the server held at once."""

from __future__ import annotations

import contextlib
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PROJECT = "projects/tasks-test"


class FakeTasks:
    def __init__(self, *, cap: int = 3000, p_429: float = 0.0, p_lost_answer: float = 0.0, seed: int = 0) -> None:
        self.cap = cap
        self.p_429 = p_429
        self.p_lost_answer = p_lost_answer
        self.rand = random.Random(seed)
        self.ops: dict[str, dict[str, Any]] = {}
        self.by_request: dict[str, str] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.max_pending_seen = 0
        self.serve_wait = True
        self.latency = 0.0
        self.gather = 0
        self.gathered = False
        self.exports_arrived = 0
        self.exports_in_flight = 0
        self.max_exports_in_flight = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def pending(self) -> int:
        return sum(op["metadata"]["state"] == "PENDING" for op in self.ops.values())

    def add(self, state: str = "PENDING", **extra: Any) -> dict[str, Any]:
        """An operation made directly (not through an export)."""
        with self.lock:
            return self._create({"description": "made"}, "EXPORT_IMAGE", state=state, **extra)

    def _create(self, body: dict[str, Any], kind: str, state: str = "PENDING", **extra: Any) -> dict[str, Any]:
        oid = f"OP{len(self.ops):06d}"
        op = {
            "name": f"{PROJECT}/operations/{oid}",
            "metadata": {
                "@type": "type.googleapis.com/google.earthengine.v1.OperationMetadata",
                "state": state,
                "description": body.get("description", ""),
                "type": kind,
                "priority": 100,
                "createTime": "2026-12-05T10:00:00.123456789Z",
                "updateTime": "2026-12-05T10:00:01Z",
            },
            "done": False,
            **extra,
        }
        self.ops[op["name"]] = op
        self.bodies[op["name"]] = body
        self.max_pending_seen = max(self.max_pending_seen, self.pending())
        return op

    def _step(self, op: dict[str, Any]) -> None:
        meta = op["metadata"]
        if op["done"]:
            return
        if meta["state"] == "PENDING":
            meta.update(state="RUNNING", startTime="2026-12-05T10:01:00Z", progress=0.5)
            meta["stages"] = [{"displayName": "Create Local Files", "completeWorkUnits": 1, "totalWorkUnits": 2}]
        elif meta["state"] == "RUNNING":
            self._finish(op)

    def _finish(self, op: dict[str, Any]) -> None:
        meta = op["metadata"]
        if self.bodies.get(op["name"], {}).get("description") == "fail":
            meta.update(state="FAILED", endTime="2026-12-05T10:02:00Z")
            op.update(done=True, error={"code": 3, "message": "Image.load: Image asset 'x' not found."})
            return
        meta.update(
            state="SUCCEEDED",
            progress=1,
            endTime="2026-12-05T10:02:00Z",
            batchEecuUsageSeconds=12.5,
            destinationUris=["https://drive.google.com/#folders/abc"],
        )
        op.update(done=True, response={"@type": "type.googleapis.com/google.protobuf.Empty"})

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        with self.lock:
            self.calls.append((method, path))
            m = re.fullmatch(r"/v1[a-z]*/(projects/[^/]+)/(image|table|video|map|classifier):export", path)
            if m and method == "POST":
                if not isinstance(body, dict):  # e.g. a cancelled client's request cut off before its body
                    return 400, _error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
                rid = body.get("requestId")
                if rid is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,60}", rid):
                    return 400, _error(400, "Invalid request ID.", "INVALID_ARGUMENT")
                if rid and rid in self.by_request:  # the same request again: the same operation
                    return 200, self.ops[self.by_request[rid]]
                if body.get("description") == "garbled":
                    return 200, {"name": 5, "done": "perhaps"}
                if self.rand.random() < self.p_429 or self.pending() >= self.cap:
                    return 429, _error(429, "Too many tasks already in the queue (3000).", "RESOURCE_EXHAUSTED")
                op = self._create(body, f"EXPORT_{m.group(2).upper()}")
                if rid:
                    self.by_request[rid] = op["name"]
                if self.rand.random() < self.p_lost_answer:
                    return 503, _error(503, "The service is currently unavailable.", "UNAVAILABLE")
                return 200, op
            m = re.fullmatch(r"/v1[a-z]*/(projects/[^/]+)/operations", path)
            if m and method == "GET":
                names = sorted(self.ops)
                start = int(query.get("pageToken", ["0"])[0] or 0)
                size = int(query.get("pageSize", ["2"])[0])
                page: dict[str, Any] = {"operations": [self.ops[n] for n in names[start : start + size]]}
                if start + size < len(names):
                    page["nextPageToken"] = str(start + size)
                return 200, page
            m = re.fullmatch(r"/v1[a-z]*/(projects/[^/]+/operations/[^/:]+)(:wait|:cancel)?", path)
            if not m or m.group(1) not in self.ops:
                return 404, _error(404, f"Operation {path} not found.", "NOT_FOUND")
            op = self.ops[m.group(1)]
            if method == "GET":
                self._step(op)
                return 200, op
            if method == "DELETE":
                del self.ops[m.group(1)]
                return 200, {}
            if m.group(2) == ":cancel":
                if not op["done"]:
                    op["metadata"]["state"] = "CANCELLED"
                    op.update(done=True, error={"code": 1, "message": "Cancelled by user."})
                return 200, {}
            if m.group(2) == ":wait":
                if not self.serve_wait:
                    return 501, _error(501, "Method not implemented.", "UNIMPLEMENTED")
                self._step(op)
                return 200, op
            return 404, _error(404, "no such method", "NOT_FOUND")


def _error(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def _handler(fake: FakeTasks) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def handle(self) -> None:
            with contextlib.suppress(ConnectionError):  # a client that went away (a cancelled call)
                super().handle()

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            exporting = self.command == "POST" and split.path.endswith(":export")
            if exporting:
                with fake.changed:
                    fake.exports_arrived += 1
                    fake.exports_in_flight += 1
                    fake.max_exports_in_flight = max(fake.max_exports_in_flight, fake.exports_in_flight)
                    if fake.exports_in_flight >= fake.gather:
                        fake.gathered = True
                        fake.changed.notify_all()
                    if fake.exports_arrived <= fake.gather:
                        fake.changed.wait_for(lambda: fake.gathered, timeout=5)
                time.sleep(fake.latency)
            try:
                status, answer = fake.handle(
                    self.command, split.path, parse_qs(split.query), json.loads(raw) if raw else None
                )
            finally:
                if exporting:
                    with fake.lock:
                        fake.exports_in_flight -= 1
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

    return Handler
