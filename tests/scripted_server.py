"""A real HTTP server on 127.0.0.1 that records each request and answers from a script.

For tests that need exact control of the wire (errors, retries, hostile bodies); tests
that need Earth Engine behaviour use ``eerest_emulator`` instead.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str  # raw path, percent-encoding kept
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    delay: float = 0.0
    content_length: int | None = None  # announce a different length than sent (then close)


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self.default = Reply()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                with server._lock:
                    server.requests.append(
                        Recorded(
                            self.command,
                            split.path,
                            parse_qsl(split.query, keep_blank_values=True),
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    reply = server._script.popleft() if server._script else server.default
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                announced = len(reply.body) if reply.content_length is None else reply.content_length
                self.send_header("content-length", str(announced))
                if reply.content_length is not None:
                    self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(reply.body)
                if reply.content_length is not None:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def reply(self, status: int = 200, json_body: Any = None, *, body: bytes | None = None, **kw: Any) -> None:
        """Queue the next answer."""
        if body is None:
            body = json.dumps({} if json_body is None else json_body).encode()
        self._script.append(Reply(status=status, body=body, **kw))

    def error(self, status: int, message: str, rpc_status: str, **kw: Any) -> None:
        self.reply(status, {"error": {"code": status, "message": message, "status": rpc_status, "details": []}}, **kw)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
