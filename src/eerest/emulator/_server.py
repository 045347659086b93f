"""The HTTP server (stdlib ThreadingHTTPServer) and the in-process `Emulator` handle.

Bodies go out with one `sendall` of a memoryview on a TCP_NODELAY socket, so a cached
48 MiB answer moves at loopback speed; faults are applied here, around the app.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ._app import ADMIN_PREFIX, App, RecordedRequest, Request, Response
from ._errors import ApiError
from ._faults import CONCURRENCY_MESSAGE, Fault, FaultInjector
from ._store import AssetStore

__all__ = ["Emulator", "EmulatorServer"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):  # e.g. unix sockets
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _dispatch(self) -> None:
        app = self.server.app
        req = Request(self.command, self.path, {k: v for k, v in self.headers.items()}, self._read_body())
        if req.path.startswith(ADMIN_PREFIX + "/") or req.path == ADMIN_PREFIX:
            self._send(app.handle_admin(req))
            return
        record = app.record(req)
        project = _project(req.path)
        if not app.faults.enter(project):
            cap = app.faults.limits.max_concurrent
            record.status = 429
            self._send(Response.error(ApiError(429, CONCURRENCY_MESSAGE.format(limit=cap), "RESOURCE_EXHAUSTED")))
            return
        try:  # in progress (for the concurrency cap) until the answer starts going out
            resp, fault = self._answer(app, req)
        finally:
            app.faults.leave(project)
        record.status = resp.status
        self._send(resp, truncate=fault if fault is not None and fault.kind == "truncate" else None)

    def _answer(self, app: App, req: Request) -> tuple[Response, Fault | None]:
        fault = app.faults.take(req.path)
        if fault is not None and fault.kind == "error":
            headers = {}
            if fault.retry_after is not None:
                ra = fault.retry_after
                headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            err = ApiError(int(fault.status), fault.text, fault.status_name, headers)
            return Response.error(err), None
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        return app.handle(req, f"http://{host}/"), fault

    def _send(self, resp: Response, truncate: Fault | None = None) -> None:
        body = memoryview(resp.body)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if truncate is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            if truncate is not None:
                cut = int(len(body) * truncate.fraction)
                if cut:
                    self.connection.sendall(body[:cut])
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_WR)
                return
            if len(body):
                self.connection.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _project(path: str) -> str:
    """The project a request counts against: ``projects/P`` in its path."""
    parts = path.split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "projects" else ""


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTP server bound to an `App`."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__(address, _Handler)


class Emulator:
    """An Earth Engine emulator on a free port of 127.0.0.1, serving in a background thread.

        with Emulator() as emu:            # the bundled sample data
            emu.url                        # "http://127.0.0.1:PORT"
            emu.faults.fail(503, count=2, retry_after=1)
            emu.requests                   # what it received

    `data_dir=None` serves the bundled sample (see `eerest.emulator` for the layout).
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        require_auth: bool = True,
        verbose: bool = False,
    ) -> None:
        self.store = AssetStore(data_dir)
        self.faults = FaultInjector()
        self.app = App(self.store, self.faults, require_auth=require_auth)
        self._host, self._port, self._verbose = host, port, verbose
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is None:
            self._server = EmulatorServer((self._host, self._port), self.app, self._verbose)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="eerest-emulator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (used by the CLI)."""
        if self._server is None:
            self._server = EmulatorServer((self._host, self._port), self.app, self._verbose)
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._server.server_close()

    def bind(self) -> Emulator:
        """Bind the socket without serving yet (so the CLI can print the URL first)."""
        if self._server is None:
            self._server = EmulatorServer((self._host, self._port), self.app, self._verbose)
        return self

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- handle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:40123" (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.server_address[:2]
        if ":" in str(host):
            host = f"[{host}]"
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The API requests received so far (admin requests excluded)."""
        return self.app.requests

    def inject(self, kind: str = "error", **kwargs: Any) -> Fault:
        """Arm a fault (see `Fault`): e.g. `inject("error", status=429, count=2, retry_after=1)`,
        `inject("slow", delay=0.5)`, `inject("truncate", fraction=0.5)`."""
        return self.faults.add(Fault(kind=kind, **kwargs))

    def reset(self) -> None:
        """Clear faults, the request log and the response cache."""
        self.faults.clear()
        self.app.clear_requests()
        self.app.cache.clear()
