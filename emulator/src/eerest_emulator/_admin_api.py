"""The admin API, ``/_emulator/...`` (faults, limits, the request log, operations, reset,
health), and the request log it serves: no auth, never faulted or logged itself.

Operations (batch tasks):

- ``GET /_emulator/operations``: the settings and counts by state;
- ``POST /_emulator/operations`` ``{"runSeconds": 2, "maxRunning": 4, "maxQueued": 3000,
  "manualClock": false}`` (any of them): change the settings;
- ``POST /_emulator/operations:advance`` ``{"seconds": 10}``: move the operations' clock on;
- ``POST /_emulator/operations/failures`` ``{"count": 1, "code": "INTERNAL", "message": "..."}``:
  the next `count` submitted operations FAIL with that google.rpc code; ``DELETE``: no more.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque

from ._errors import ApiError, invalid_argument, not_found
from ._faults import Fault, FaultInjector, ServerLimits
from ._http import RecordedRequest, Request, Response, internal_error
from ._operations import OperationQueue
from ._response_cache import ResponseCache

__all__ = ["ADMIN_PREFIX", "LOG_BODY_BYTES", "LOG_SIZE", "AdminApi", "redact_headers"]

ADMIN_PREFIX = "/_emulator"
#: The request log keeps the last LOG_SIZE API requests, each body cut to LOG_BODY_BYTES,
#: and never a credential (see `redact_headers`).
LOG_SIZE = 1000
LOG_BODY_BYTES = 64 * 1024
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-goog-api-key", "x-api-key")
_CREDENTIAL_WORDS = ("token", "secret", "password", "credential", "api-key", "apikey")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers with every credential replaced: ``Authorization: Bearer [redacted]``
    keeps the scheme (tests may ask whether one was sent), never the token."""
    out = {}
    for k, v in headers.items():
        low = k.lower()
        if low in _CREDENTIAL_HEADERS or any(w in low for w in _CREDENTIAL_WORDS):
            scheme = v.split(" ", 1)[0] if " " in v and len(v.split(" ", 1)[0]) < 20 else ""
            v = f"{scheme} [redacted]".strip()
        out[k] = v
    return out


class AdminApi:
    """The admin API and the request log; mixed into `App`, which sets up the state below."""

    faults: FaultInjector
    cache: ResponseCache
    operations: OperationQueue
    _log: deque[RecordedRequest]
    _log_lock: threading.Lock
    _received: Counter[str]

    # -- request log --------------------------------------------------------------------
    def record(self, req: Request) -> RecordedRequest:
        rec = RecordedRequest(req.method, req.path, req.query, redact_headers(req.headers), req.body[:LOG_BODY_BYTES])
        last = req.path.rpartition("/")[2]
        verb = last.rpartition(":")[2] if ":" in last else req.method  # getPixels, or GET
        with self._log_lock:
            self._log.append(rec)
            self._received[verb] += 1
        return rec

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    @property
    def requests_received(self) -> Counter[str]:
        """API requests received since the start or the last `clear_requests`, by custom verb
        (``getPixels``, ``computeFeatures``...) or HTTP method: unlike `requests`, never cut
        to the last LOG_SIZE."""
        with self._log_lock:
            return Counter(self._received)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()
            self._received.clear()

    # -- admin API ----------------------------------------------------------------------
    def handle_admin(self, req: Request) -> Response:
        """`/_emulator/...`: faults, request log, reset, health. No auth, never faulted or logged."""
        try:
            return self._handle_admin(req)
        except RecursionError:
            return Response.error(invalid_argument("The request is nested too deeply."))
        except Exception as e:
            return internal_error(e, req)

    def _handle_admin(self, req: Request) -> Response:
        path = req.path[len(ADMIN_PREFIX):].rstrip("/")
        try:
            if path == "/faults":
                if req.method == "GET":
                    return Response.json({"faults": [f.to_json() for f in self.faults.pending()]})
                if req.method == "DELETE":
                    self.faults.clear()
                    return Response.json({})
                if req.method == "POST":
                    try:
                        data = json.loads(req.body or b"{}")
                        items = data if isinstance(data, list) else data.get("faults", [data]) if isinstance(data, dict) else None
                        if not isinstance(items, list) or not all(isinstance(d, dict) for d in items):
                            raise ValueError("expected a fault object or a list of them")
                        faults = [Fault.from_json(d) for d in items]  # all valid, or none added
                        added = [self.faults.add(f) for f in faults]
                    except (ValueError, TypeError) as e:
                        raise invalid_argument(f"Invalid fault: {e}") from None
                    return Response.json({"faults": [f.to_json() for f in added]})
            elif path == "/limits":
                if req.method == "GET":
                    return Response.json(
                        {**self.faults.limits.to_json(), "peakConcurrent": self.faults.peak_concurrent,
                         "rejected": self.faults.rejected}
                    )
                if req.method == "DELETE":
                    self.faults.set_limits()
                    return Response.json({})
                if req.method == "POST":
                    try:
                        data = json.loads(req.body or b"{}")
                        limits = ServerLimits.from_json(data if isinstance(data, dict) else {"?": data})
                    except (ValueError, TypeError) as e:
                        raise invalid_argument(f"Invalid limits: {e}") from None
                    self.faults.set_limits(limits.max_concurrent, limits.memory_limit_pixels)
                    return Response.json(limits.to_json())
            elif path == "/requests":
                if req.method == "GET":
                    return Response.json({"requests": [r.to_json() for r in self.requests]})
                if req.method == "DELETE":
                    self.clear_requests()
                    return Response.json({})
            elif path.startswith("/operations"):
                return self._admin_operations(req, path)
            elif path == "/reset" and req.method == "POST":
                self.operations.reset_settings()
                self.faults.clear()
                self.clear_requests()
                self.cache.clear()
                return Response.json({})
            elif path == "/health" and req.method == "GET":
                return Response.json({"status": "ok"})
            raise not_found(f"No admin endpoint {req.method} {req.path}.")
        except ApiError as e:
            return Response.error(e)

    def _admin_operations(self, req: Request, path: str) -> Response:
        try:
            data = json.loads(req.body or b"{}")
        except ValueError as e:
            raise invalid_argument(f"Invalid JSON: {e}") from None
        if not isinstance(data, dict):
            raise invalid_argument("Expected a JSON object.")
        try:
            if path == "/operations" and req.method == "GET":
                return Response.json(self.operations.settings())
            if path == "/operations" and req.method == "POST":
                unknown = set(data) - {"runSeconds", "maxRunning", "maxQueued", "manualClock"}
                if unknown:
                    raise ValueError(f"unknown settings {sorted(unknown)}")
                self.operations.configure(data.get("runSeconds"), data.get("maxRunning"), data.get("maxQueued"),
                                          data.get("manualClock"))
                return Response.json(self.operations.settings())
            if path == "/operations:advance" and req.method == "POST":
                self.operations.advance_clock(float(data.get("seconds", 0)))
                return Response.json(self.operations.settings())
            if path == "/operations/failures" and req.method == "POST":
                self.operations.fail_next(int(data.get("count", 1)), str(data.get("code", "INTERNAL")),
                                          str(data.get("message", "Injected failure.")))
                return Response.json(self.operations.settings())
            if path == "/operations/failures" and req.method == "DELETE":
                self.operations.clear_failures()
                return Response.json(self.operations.settings())
        except (ValueError, TypeError) as e:
            raise invalid_argument(f"Invalid operations setting: {e}") from None
        raise not_found(f"No admin endpoint {req.method} {req.path}.")
