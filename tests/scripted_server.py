"""The one scripted test server: a real HTTP server on 127.0.0.1 that records each request
and answers exactly the bytes a test scripts, including broken and hostile answers
(wrong lengths, cut connections, trickled bodies, raw bytes that are not HTTP at all).

Answers come from, in order: the queue filled by ``reply()``/``error()``, the first of
``routes`` whose key ends the request path (e.g. ``":getPixels"``), then ``default``.
Tests that need Earth Engine behaviour use ``eerest_emulator`` instead.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Recorded", "Reply", "ScriptedServer"]


@dataclass
class Recorded:
    """One request as it arrived."""

    method: str
    path: str  # raw path, percent-encoding kept, without the query
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    header_list: list[tuple[str, str]] = field(default_factory=list)  # every header line, as sent

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """One scripted answer.

    ``content_type`` (default: JSON for bodies starting with ``{``, else octet-stream) and
    ``headers`` are sent with a ``Content-Length`` of ``content_length`` (``None``: the
    body's length; ``False``: none, the body ends when the connection closes). Hostile
    variants: ``cut_after`` sends that many body bytes and resets the connection;
    ``trickle`` waits that many seconds before each body byte, ``trickle_headers`` before
    each byte of the status line and headers; ``raw`` is sent verbatim
    instead of any status line, headers and body, and the connection closed.
    """

    body: bytes = b"{}"
    status: int = 200
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_length: int | bool | None = None
    cut_after: int | None = None
    trickle: float = 0.0
    trickle_headers: float = 0.0
    raw: bytes | None = None

    @property
    def closes(self) -> bool:
        return self.content_length is not None or self.cut_after is not None or self.trickle > 0


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[str, Reply] = {}
        self.default = Reply()
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # close() waits for the serving loop to notice: poll often, since every test closes a server.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.002}, daemon=True)
        self._thread.start()

    def reply(self, status: int = 200, json_body: Any = None, *, body: bytes | None = None, **kw: Any) -> None:
        """Queue the next answer."""
        if body is None:
            body = json.dumps({} if json_body is None else json_body).encode()
        self._script.append(Reply(body, status, **kw))

    def error(self, status: int, message: str, rpc_status: str, **kw: Any) -> None:
        self.reply(status, {"error": {"code": status, "message": message, "status": rpc_status, "details": []}}, **kw)

    def answer(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            if self._script:
                return self._script.popleft()
        for suffix, reply in self.routes.items():
            if recorded.path.endswith(suffix):
                return reply
        return self.default

    @property
    def pixel_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith((":computePixels", ":getPixels"))]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A full accept queue drops connections, which clients retry after a second: tests start
    # 16 and more requests at once.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a kept-alive connection (as eerest does after refusing a body)
        # resets it: normal here, not worth a traceback on stderr.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            query = parse_qsl(split.query, keep_blank_values=True)
            reply = server.answer(
                Recorded(self.command, split.path, query, headers, body, list(self.headers.items()))
            )
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self._write(reply)
            except OSError:
                self.close_connection = True

        def _write(self, reply: Reply) -> None:
            if reply.raw is not None:
                self.wfile.write(reply.raw)
                self.wfile.flush()
                self.close_connection = True
                return
            self.send_response(reply.status)
            content_type = reply.content_type or ("application/json" if reply.body[:1] == b"{" else "application/octet-stream")
            if not any(k.lower() == "content-type" for k in reply.headers):
                self.send_header("Content-Type", content_type)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            if reply.content_length is None:
                self.send_header("Content-Length", str(len(reply.body)))
            elif reply.content_length is not False:
                self.send_header("Content-Length", str(reply.content_length))
            if reply.closes:
                self.send_header("Connection", "close")
                self.close_connection = True
            if reply.trickle_headers:
                buffered: list[bytes] = getattr(self, "_headers_buffer", [])
                head = b"".join(buffered) + b"\r\n"
                buffered.clear()
                for i in range(len(head)):
                    self.wfile.write(head[i : i + 1])
                    self.wfile.flush()
                    time.sleep(reply.trickle_headers)
            else:
                self.end_headers()
            data = reply.body if reply.cut_after is None else reply.body[: reply.cut_after]
            if reply.trickle:
                self.wfile.flush()
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(reply.trickle)
                return
            self.wfile.write(data)
            self.wfile.flush()
            if reply.cut_after is not None:  # reset, so the client sees a broken connection
                with contextlib.suppress(OSError):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
