"""Fixtures for the pixel overlay tests: a loopback server that answers exactly the bytes a
test gives it (for hostile bodies), the emulator, and a helper that makes the same call
through every API version with the sync or the async client."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pixhelp import KINDS, VERSIONS, RawServer, Reply


def _handler(server: RawServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server.requests.append((self.command, self.path, body))
            reply = server.reply(self.path.split("?")[0])
            if reply is None:
                reply = Reply(json.dumps({"error": {"code": 404, "message": "no route", "status": "NOT_FOUND"}}).encode(),
                              404, "application/json")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.content_length is None:
                self.send_header("Content-Length", str(len(reply.body)))
            elif reply.content_length is not False:
                self.send_header("Content-Length", str(reply.content_length))
            if reply.content_length is False or reply.cut_after is not None or reply.content_length is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            data = reply.body if reply.cut_after is None else reply.body[: reply.cut_after]
            try:
                self.wfile.write(data)
                self.wfile.flush()
                if reply.cut_after is not None:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
            except OSError:
                pass

        do_GET = do_POST = _serve

    return Handler


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    state = RawServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[Any]:
    from eerest_emulator import Emulator

    with Emulator(require_auth=False) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_session: Any) -> Iterator[Any]:
    emulator_session.reset()
    yield emulator_session
    emulator_session.reset()


@pytest.fixture(params=[(v, k) for v in VERSIONS for k in KINDS], ids=lambda p: f"{p[0]}-{p[1]}")
def flavour(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(version, "sync" | "async"): every test using it runs for each of the six clients."""
    return request.param  # type: ignore[no-any-return]
