"""Enforcing a sync call's deadline on its connection, whatever the server does.

httpx's timeouts bound each socket operation, not their sum: a server that trickles its
headers or body one byte at a time resets the read timeout with every byte and keeps a call
alive indefinitely. A thread blocked in a socket read cannot be interrupted, but the socket
can be shut down, which ends the read at once (as :class:`~eerest._core.cancel.CancelScope`
does for a cancelled ``read_area``). A :class:`SocketGuard` arms one process-wide timer
thread (:class:`Watchdog`); when the call's deadline passes, it finds the attempt's
connection in httpx's pool and shuts its socket down. The guard is disarmed before the response is closed, so a
connection going back to the pool is never touched.

Only httpx's own transport over HTTP/1.1 exposes its socket; elsewhere (mock transports,
HTTP/2), and while connecting (TCP and the TLS handshake), the per-operation timeouts,
clipped to the deadline, are what bounds a call.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from eerest._core.cancel import _shutdown

__all__ = ["SocketGuard", "Watchdog", "WATCHDOG"]


class _Entry:
    __slots__ = ("action", "cancelled")

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.cancelled = False


class Watchdog:
    """One daemon thread running actions at monotonic times; cancelled entries are dropped
    lazily (and the heap rebuilt when they are most of it), so arming and disarming cost a
    lock and a heap push."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Entry]] = []
        self._count = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, action: Callable[[], None]) -> _Entry:
        """Run ``action()`` (quick, must not raise) at ``time.monotonic() >= when``."""
        entry = _Entry(action)
        with self._cond:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._heap, self._cancelled = [], 0
                self._thread = threading.Thread(target=self._run, name="eerest-deadline-watchdog", daemon=True)
                self._thread.start()
            first = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, next(self._count), entry))
            if first:
                self._cond.notify()
        return entry

    def cancel(self, entry: _Entry) -> None:
        with self._cond:
            if entry.cancelled:
                return
            entry.cancelled = True
            self._cancelled += 1
            if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                self._heap = [item for item in self._heap if not item[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                        self._cancelled = max(0, self._cancelled - 1)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    left = self._heap[0][0] - time.monotonic()
                    if left <= 0:
                        entry = heapq.heappop(self._heap)[2]
                        entry.cancelled = True  # ran: cancelling it later is a no-op
                        break
                    self._cond.wait(left)
            with contextlib.suppress(Exception):  # actions only shut sockets down
                entry.action()


WATCHDOG = Watchdog()


def _after_fork() -> None:
    """A forked child has no watchdog thread, and its lock may have been held by another
    thread of the parent: start over."""
    WATCHDOG.__init__()  # type: ignore[misc]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class SocketGuard:
    """Shuts one attempt's connection down when its deadline passes (see the module).

    Nothing happens per request but arming a timer: only when the deadline passes is the
    attempt's connection looked up in its pool (httpcore keeps the request, with the very
    ``extensions`` dict httpx gave it, until the response is closed). :meth:`close` disarms
    the guard and must run before the response is closed; :attr:`fired` tells whether the
    deadline ended the attempt."""

    def __init__(self, http: Any, request: Any, seconds_left: float) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._done = False
        self._http = http
        self._request = request
        self._entry = WATCHDOG.schedule(time.monotonic() + seconds_left, self._fire)

    def _fire(self) -> None:
        with self._lock:  # shut down under the lock: once close() returns, never again
            if self._done:
                return
            self.fired = True
            sock = _socket_for(self._http, self._request)
            if sock is not None:
                _shutdown(sock)

    def close(self) -> None:
        """Disarm: from here the connection is the pool's again."""
        with self._lock:
            self._done = True
            self._http = self._request = None
        WATCHDOG.cancel(self._entry)


def _socket_for(http: Any, request: Any) -> socket.socket | None:
    """The socket of the HTTP/1.1 connection httpx's pool assigned to ``request`` (an httpx
    request: httpcore's own copy shares its ``extensions``), if any."""
    try:
        from httpcore._backends.sync import SyncStream
        from httpcore._sync.http11 import HTTP11Connection

        pool = http._transport_for_url(request.url)._pool
        for queued in list(pool._requests):
            if queued.request.extensions is request.extensions and queued.connection is not None:
                conn = queued.connection._connection
                network = conn._network_stream
                if type(conn) is HTTP11Connection and type(network) is SyncStream:
                    sock = network._sock
                    return sock if isinstance(sock, socket.socket) else None
    except (ImportError, AttributeError):
        pass
    return None
