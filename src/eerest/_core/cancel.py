"""Giving up a group of sync calls at once, from another thread (``read_area``'s workers once
one tile has failed for good).

A thread blocked in a socket read cannot be interrupted, but its socket can be shut down,
which ends the read at once. While a call of the group waits for its answer's headers, its
connection's socket is registered here; :meth:`CancelScope.cancel` shuts those down and ends
waits between retries, so the calls end with their last error instead of running on. The
socket is found, as in :mod:`eerest._core.socket_body`, only for httpx's own sync transport over
HTTP/1.1; elsewhere a call simply runs until its answer arrives.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

__all__ = ["CancelScope"]


class CancelScope:
    """A set of sync calls that can be given up together."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._waiting: dict[object, socket.socket] = {}  # a request's trace -> its connection's socket

    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        """Give up every call of the scope: those waiting for an answer lose their connection."""
        with self._lock:
            self._event.set()
            waiting, self._waiting = list(self._waiting.values()), {}
        for sock in waiting:
            _shutdown(sock)

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` between retries; True (at once) if the scope is or gets cancelled."""
        return self._event.wait(seconds)

    def trace(self, http: Any, request: Any) -> Any:
        """An httpx ``trace`` extension for ``request``, sent by the httpx client ``http``: its
        connection's socket is registered while it waits for the answer's headers."""
        key = object()
        pool = getattr(getattr(http, "_transport_for_url", lambda url: None)(request.url), "_pool", None)

        def trace(event: str, info: dict[str, Any]) -> None:
            if event == "http11.send_request_headers.started":
                sock = _socket_of(pool, info.get("request"))
                if sock is None:
                    return
                with self._lock:
                    if not self._event.is_set():
                        self._waiting[key] = sock
                        return
                _shutdown(sock)  # cancelled already: do not start waiting
            elif event.startswith("http11.receive_response_headers.") and not event.endswith(".started"):
                with self._lock:  # from here the connection may go back to the pool and serve others
                    self._waiting.pop(key, None)

        return trace


def _shutdown(sock: socket.socket) -> None:
    """End every read and write on ``sock`` now; on a TLS socket, the socket under it (the
    TLS object stays, so a read in progress in another thread ends with an EOF error)."""
    with contextlib.suppress(OSError):  # closed meanwhile
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _socket_of(pool: Any, request: object) -> socket.socket | None:
    """The socket of the HTTP/1.1 connection ``pool`` assigned to ``request``, if any."""
    try:
        from httpcore._backends.sync import SyncStream
        from httpcore._sync.http11 import HTTP11Connection

        for queued in list(pool._requests):
            if queued.request is request:
                conn = queued.connection._connection
                network = conn._network_stream
                if type(conn) is HTTP11Connection and type(network) is SyncStream:
                    sock = network._sock
                    return sock if isinstance(sock, socket.socket) else None
    except (ImportError, AttributeError):
        pass
    return None
