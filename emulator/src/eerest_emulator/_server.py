"""The HTTP server (stdlib ThreadingHTTPServer) and the in-process `Emulator` handle.

Bodies go out with one `sendall` of a memoryview on a TCP_NODELAY socket, so a cached
48 MiB answer moves at loopback speed; faults are applied here, around the app.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ._admin_api import ADMIN_PREFIX
from ._app import App
from ._errors import ApiError, invalid_argument
from ._faults import CONCURRENCY_MESSAGE, Fault, FaultInjector
from ._http import RecordedRequest, Request, Response, internal_error
from ._operations import OperationQueue
from ._store import BUNDLED_DATA, AssetStore

__all__ = ["Emulator", "EmulatorServer", "MAX_REQUEST_BODY"]

#: Request bodies larger than this are answered 413 without being read.
MAX_REQUEST_BODY = 16 * 1024 * 1024


def _too_large(size: int) -> ApiError:
    return ApiError(413, f"Request payload size exceeds the limit: {MAX_REQUEST_BODY} bytes (got {size}).",
                    "INVALID_ARGUMENT")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):  # e.g. unix sockets
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (bad request line, too many or too long headers) get a
        google.rpc.Status body like every other error."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # garbage is not HTTP/0.9: answer with a status line
        self._send(Response.error(ApiError(code, message or explain or "Malformed request.")))

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
        """The request body; a 400 for a malformed length, 413 beyond MAX_REQUEST_BODY (the
        connection is then closed, the rest of the body unread)."""
        lengths = self.headers.get_all("Content-Length") or []
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            if lengths:
                raise invalid_argument("A request must not have both Content-Length and chunked Transfer-Encoding.")
            return self._read_chunked()
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not (lengths[0].isascii() and lengths[0].strip().isdigit()):
            raise invalid_argument(f"Malformed Content-Length {', '.join(lengths)[:100]!r}.")
        length = int(lengths[0])
        if length > MAX_REQUEST_BODY:
            raise _too_large(length)
        body = self.rfile.read(length)
        if len(body) != length:
            raise invalid_argument(f"The request body ended after {len(body)} of {length} bytes.")
        return body

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise invalid_argument(f"Malformed chunk size {line[:40]!r}.") from None
            if size < 0:
                raise invalid_argument("Malformed chunk size.")
            if size == 0:
                for _ in range(100):  # trailers
                    if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                        break
                return b"".join(chunks)
            total += size
            if total > MAX_REQUEST_BODY:
                raise _too_large(total)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _dispatch(self) -> None:
        """Answer every request: an unexpected exception is a 500 with a Status body."""
        try:
            self._answer()
        except ApiError as e:
            self.close_connection = True
            self._send(Response.error(e))
        except Exception as e:
            self.close_connection = True
            req = Request(self.command, self.path, {}, b"")
            self._send(internal_error(e, req))

    def _answer(self) -> None:
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
            resp, fault = self._respond(app, req)
        finally:
            app.faults.leave(project)
        if fault is not None and fault.kind == "reset":
            record.status = resp.status if fault.fraction else None  # None: no answer
            self._reset(resp if fault.fraction else None, fault.fraction)
            return
        record.status = resp.status
        self._send(resp, truncate=fault if fault is not None and fault.kind == "truncate" else None)

    def _reset(self, resp: Response | None, fraction: float) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0, then the real close), after the
        headers and ``fraction`` of ``resp``'s body when given."""
        self.close_connection = True
        sock = self.connection
        with contextlib.suppress(OSError):
            if resp is not None:
                body = memoryview(resp.body)
                head = [f"HTTP/1.1 {resp.status} OK", f"Content-Type: {resp.content_type}"]
                head += [f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in resp.headers.items())]
                sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
                sock.sendall(body[: int(len(body) * fraction)])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # the handler's file objects keep the socket open past its close(): close a bare socket of its descriptor now
        socket.socket(fileno=sock.detach()).close()

    def _respond(self, app: App, req: Request) -> tuple[Response, Fault | None]:
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
        host = self.headers.get("Host") or f"{self.server.server_address[0]!s}:{self.server.server_address[1]}"
        return app.handle(req, f"http://{host}/"), fault

    def _send(self, resp: Response, truncate: Fault | None = None) -> None:
        body = memoryview(resp.body)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if truncate is not None or self.close_connection:
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

    `data_dir=None` serves the bundled sample (see `eerest_emulator` for the layout).
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        require_auth: bool = True,
        verbose: bool = False,
        storage_dir: str | Path | None = None,
        task_seconds: float | None = None,
        max_running_tasks: int | None = None,
        max_queued_tasks: int | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory | None = None
        if data_dir is None:  # a writable copy of the bundled sample, removed by stop()
            self._tmp = tempfile.TemporaryDirectory(prefix="eerest-emulator-")
            data_dir = Path(self._tmp.name) / "data"
            shutil.copytree(BUNDLED_DATA, data_dir)
        self.store = AssetStore(data_dir)
        self.faults = FaultInjector()
        self.operations = OperationQueue()
        self.operations.configure(task_seconds, max_running_tasks, max_queued_tasks)
        self.app = App(self.store, self.faults, require_auth=require_auth, storage_dir=storage_dir,
                       operations=self.operations)
        self._host, self._port, self._verbose = host, port, verbose
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------
    def _start_ticker(self) -> None:
        """A thread that brings operations up to date while any is unfinished, so their
        files appear without anyone polling."""
        if self._ticker is not None:
            return
        self._stopping.clear()

        def tick() -> None:
            while not self._stopping.wait(0.05):
                if self.operations.active:
                    with contextlib.suppress(Exception):  # never kill the ticker; operations record failures
                        self.operations.advance()

        self._ticker = threading.Thread(target=tick, name="eerest-emulator-operations", daemon=True)
        self._ticker.start()

    def start(self) -> Emulator:
        self._start_ticker()
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
        if self._ticker is not None:
            self._stopping.set()
            self._ticker.join(timeout=5)
            self._ticker = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (used by the CLI)."""
        self._start_ticker()
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
        name = host.decode() if isinstance(host, bytes) else str(host)
        if ":" in name:
            name = f"[{name}]"
        return f"http://{name}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The last 1000 API requests received (admin requests excluded)."""
        return self.app.requests

    @property
    def requests_received(self) -> Counter[str]:
        """How many API requests were received, by custom verb (``getPixels``) or HTTP
        method, however many: `requests` keeps only the last 1000."""
        return self.app.requests_received

    def inject(self, kind: str = "error", **kwargs: Any) -> Fault:
        """Arm a fault (see `Fault`): e.g. `inject("error", status=429, count=2, retry_after=1)`,
        `inject("slow", delay=0.5)`, `inject("truncate", fraction=0.5)`, `inject("reset")`."""
        return self.faults.add(Fault(kind=kind, **kwargs))

    def reset(self) -> None:
        """Clear faults, the request log and the response cache; the operations' settings
        back to their defaults (operations and assets stay)."""
        self.operations.reset_settings()
        self.faults.clear()
        self.app.clear_requests()
        self.app.cache.clear()
