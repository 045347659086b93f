"""An overall deadline for one call: every attempt, backoff sleep and body read must finish
before it. httpx's timeouts bound each operation (connect, each read, ...); the deadline
bounds their sum, so a server trickling one byte a second cannot keep a call alive."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eerest._core.types import Timeout

__all__ = ["Deadline"]


@dataclass(frozen=True)
class Deadline:
    """``seconds`` from ``start`` on the monotonic ``clock``; ``seconds=None`` never expires."""

    seconds: float | None
    start: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(seconds, clock(), clock)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` without a deadline."""
        if self.seconds is None:
            return None
        return max(0.0, self.seconds - (self.clock() - self.start))

    @property
    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0.0

    def allows_sleep(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` (a retry backoff) still leaves time to try again."""
        left = self.remaining()
        return left is None or seconds < left

    def clip(self, timeout: Timeout) -> Timeout:
        """``timeout`` with every phase limited to the time left (``timeout`` itself, the
        same object, while the deadline is further away than its longest phase)."""
        left = self.remaining()
        if left is None:
            return timeout
        import httpx

        t = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        phases = (t.connect, t.read, t.write, t.pool)
        if all(p is not None and p <= left for p in phases):
            return timeout

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(connect=cap(t.connect), read=cap(t.read), write=cap(t.write), pool=cap(t.pool))
