"""Fault injection: make the next N matching requests fail, answer slowly, cut their body
short, or reset their connection."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ._errors import STATUS_NAMES

__all__ = [
    "KINDS",
    "Fault",
    "FaultInjector",
    "DEFAULT_MESSAGES",
    "MAX_DELAY",
    "MAX_COUNT",
    "ServerLimits",
    "MEMORY_LIMIT_MESSAGE",
    "CONCURRENCY_MESSAGE",
]

MEMORY_LIMIT_MESSAGE = "User memory limit exceeded."
CONCURRENCY_MESSAGE = "Too many concurrent requests for this project; the quota is {limit}."

DEFAULT_MESSAGES = {
    429: "Too many concurrent aggregations.",
    500: "An internal error has occurred.",
    502: "Bad gateway.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}


@dataclass
class Fault:
    """One armed fault.

    kind: "error" (answer `status` with a google.rpc.Status body, and `Retry-After:
    retry_after` when set), "slow" (wait `delay` seconds, then answer normally),
    "truncate" (send the full Content-Length, then only `fraction` of the body, and close)
    or "reset" (abort the connection with a TCP RST, as a crashed server or a middlebox
    does: with `fraction` 0 before any answer, otherwise after the headers and `fraction`
    of the body).
    It fires for the next `count` API requests whose path contains `path` (any when None).
    """

    kind: str = "error"
    count: int = 1
    status: int = 503
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    fraction: float = 0.5
    path: str | None = None
    id: int = field(default=0)

    def __post_init__(self) -> None:
        _check_types(self)
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} ({', '.join(KINDS)})")
        if self.kind == "error" and not 400 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if self.count < 1:
            raise ValueError("count must be >= 1")
        if not 0.0 <= self.fraction < 1.0:
            raise ValueError("fraction must be in [0, 1)")
        if not 0.0 <= self.delay <= MAX_DELAY:
            raise ValueError(f"delay must be between 0 and {MAX_DELAY} seconds")
        if self.retry_after is not None and not 0.0 <= self.retry_after <= MAX_DELAY:
            raise ValueError(f"retryAfter must be between 0 and {MAX_DELAY} seconds")
        if self.count > MAX_COUNT:
            raise ValueError(f"count must be <= {MAX_COUNT}")

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(int(self.status), "UNKNOWN")

    @property
    def text(self) -> str:
        return self.message or DEFAULT_MESSAGES.get(int(self.status), "Injected fault.")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["retryAfter"] = d.pop("retry_after")
        return {k: v for k, v in d.items() if v is not None}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Fault:
        """Build from the admin endpoint's JSON (camelCase or snake_case keys)."""
        names = {"retryAfter": "retry_after"}
        kw = {names.get(k, k): v for k, v in d.items()}
        allowed = {"kind", "count", "status", "message", "retry_after", "delay", "fraction", "path"}
        unknown = set(kw) - allowed
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        return cls(**kw)


KINDS = ("error", "slow", "truncate", "reset")
MAX_DELAY = 3600.0
MAX_COUNT = 1_000_000
_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,), "count": (int,), "status": (int,), "message": (str, type(None)),
    "retry_after": (int, float, type(None)), "delay": (int, float), "fraction": (int, float),
    "path": (str, type(None)), "id": (int,),
}


def _check_types(f: Fault) -> None:
    """Admin input is JSON from anywhere: refuse wrong types and NaN/Infinity up front."""
    for name, types in _TYPES.items():
        value = getattr(f, name)
        if isinstance(value, bool) or not isinstance(value, types):
            raise ValueError(f"{name} must be of type {' or '.join(t.__name__ for t in types)}, not {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number")
    if f.message is not None and len(f.message) > 10_000:
        raise ValueError("message is too long")


@dataclass
class ServerLimits:
    """Limits of a busy server, off unless set: at most ``max_concurrent`` API requests
    per project being worked on at once (beyond it: 429 RESOURCE_EXHAUSTED), and a 400
    "User memory limit exceeded." for pixel requests of more than ``memory_limit_pixels``."""

    max_concurrent: int | None = None
    memory_limit_pixels: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_concurrent", "memory_limit_pixels"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"{name} must be a positive integer or null")

    def to_json(self) -> dict[str, Any]:
        return {"maxConcurrent": self.max_concurrent, "memoryLimitPixels": self.memory_limit_pixels}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ServerLimits:
        names = {"maxConcurrent": "max_concurrent", "memoryLimitPixels": "memory_limit_pixels"}
        kw = {names.get(k, k): v for k, v in d.items()}
        unknown = set(kw) - {"max_concurrent", "memory_limit_pixels"}
        if unknown:
            raise ValueError(f"unknown limit field(s): {', '.join(sorted(unknown))}")
        return cls(**kw)


class FaultInjector:
    """A thread-safe queue of armed faults; the first matching one fires per request.
    Also holds the :class:`ServerLimits` and counts requests in progress per project
    (``peak_concurrent``, ``rejected``); ``clear()`` resets all of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        self.limits = ServerLimits()
        self._active: dict[str, int] = {}
        self.peak_concurrent: dict[str, int] = {}
        self.rejected = 0

    def set_limits(self, max_concurrent: int | None = None, memory_limit_pixels: int | None = None) -> ServerLimits:
        """Cap concurrent requests per project, and/or fail pixel requests above N pixels
        with "User memory limit exceeded." (``None``: no such limit)."""
        limits = ServerLimits(max_concurrent, memory_limit_pixels)
        with self._lock:
            self.limits = limits
            self.peak_concurrent.clear()
            self.rejected = 0
        return limits

    def enter(self, project: str) -> bool:
        """Count a request of ``project`` as in progress; False (not counted) if over the cap."""
        with self._lock:
            active = self._active.get(project, 0)
            cap = self.limits.max_concurrent
            if cap is not None and active >= cap:
                self.rejected += 1
                return False
            self._active[project] = active + 1
            self.peak_concurrent[project] = max(self.peak_concurrent.get(project, 0), active + 1)
            return True

    def leave(self, project: str) -> None:
        with self._lock:
            self._active[project] = max(0, self._active.get(project, 0) - 1)

    def check_memory(self, pixels: int) -> str | None:
        """The error message for a pixel request of this many pixels, if it is over the memory limit."""
        cap = self.limits.memory_limit_pixels
        return MEMORY_LIMIT_MESSAGE if cap is not None and pixels > cap else None

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def fail(self, status: int = 503, count: int = 1, retry_after: float | None = None,
             message: str | None = None, path: str | None = None) -> Fault:
        """The next `count` requests answer `status` (429, 503, ...), with Retry-After if given."""
        return self.add(Fault("error", count=count, status=status, retry_after=retry_after, message=message, path=path))

    def slow(self, delay: float, count: int = 1, path: str | None = None) -> Fault:
        """The next `count` requests wait `delay` seconds before answering."""
        return self.add(Fault("slow", count=count, delay=delay, path=path))

    def truncate(self, count: int = 1, fraction: float = 0.5, path: str | None = None) -> Fault:
        """The next `count` requests send their Content-Length but only `fraction` of the body."""
        return self.add(Fault("truncate", count=count, fraction=fraction, path=path))

    def reset(self, count: int = 1, fraction: float = 0.0, path: str | None = None) -> Fault:
        """The next `count` requests have their connection reset (TCP RST): before any answer
        (`fraction` 0), or after the headers and `fraction` of the body."""
        return self.add(Fault("reset", count=count, fraction=fraction, path=path))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no API request is in progress (e.g. slow answers to a client that went
        away), so that counts and caps start from zero; False if still busy after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if not any(self._active.values()):
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.limits = ServerLimits()
            self.peak_concurrent.clear()
            self.rejected = 0

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(**asdict(f)) for f in self._faults]

    def take(self, path: str) -> Fault | None:
        """The fault to apply to a request for `path`, consuming one of its count."""
        with self._lock:
            for f in self._faults:
                if f.path is None or f.path in path:
                    f.count -= 1
                    if f.count <= 0:
                        self._faults.remove(f)
                    return Fault(**{**asdict(f), "count": 1})
        return None
