"""Reading a large HTTP/1.1 body straight from the socket into its final buffers.

httpx hands a body over in 64 KiB ``bytes`` chunks that are then copied into place; for a
36 MiB tile, ``socket.recv_into`` the buffer itself is measured ~1.5x faster
(benchmarks/bench_npy.py). This works only for httpx's own sync transport over a plain
socket or TLS socket with an HTTP/1.1 connection and a ``Content-Length`` body; anything
else (HTTP/2, proxies, mock transports, other httpcore versions) is detected before a byte
is taken and left to the chunk iterator. Every read tells h11 how much of the body is left,
so after a complete read the connection goes back to the pool as usual (the chunk iterator
then only sees the end of the message), and after a partial one the chunk iterator can
carry on where it stopped; when a read fails, the connection is closed with the response.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from typing import Any

import httpx

from eerest._core.deadline import Deadline
from eerest.errors import APITimeoutError

__all__ = ["MIN_DIRECT_READ", "DirectBody", "recv_body_into"]

#: Smaller bodies gain nothing from bypassing the chunk iterator.
MIN_DIRECT_READ = 1 << 20
#: Buffers per ``recvmsg_into`` call (Linux's IOV_MAX).
_IOV_MAX = 1024


def _connection(response: httpx.Response) -> tuple[Any, Any, socket.socket] | None:
    """(h11 connection, its ContentLengthReader, socket) if the body can be read directly."""
    try:
        import h11
        from h11._readers import ContentLengthReader
        from httpcore._backends.sync import SyncStream
        from httpcore._sync.http11 import HTTP11Connection, HTTP11ConnectionByteStream

        # httpx's BoundSyncStream or eerest's _TimedStream (transport.py) around httpx's ResponseStream
        stream = response.stream._stream._httpcore_stream._stream  # type: ignore[union-attr]
        if type(stream) is not HTTP11ConnectionByteStream:
            return None
        conn = stream._connection
        network = conn._network_stream
        if type(conn) is not HTTP11Connection or type(network) is not SyncStream:
            return None
        state = conn._h11_state
        reader = state._reader
        sock = network._sock
    except (ImportError, AttributeError):
        return None
    if not (isinstance(state, h11.Connection) and state.their_state is h11.SEND_BODY):
        return None
    if type(reader) is not ContentLengthReader or not isinstance(sock, (socket.socket, ssl.SSLSocket)):
        return None
    return state, reader, sock


class DirectBody:
    """The unread rest of a response body, taken from the socket by :meth:`read_into`.

    Made by :meth:`open` (``None`` when the fast path does not apply); ``remaining`` is
    what h11 still expects, kept exact after every read, so the response can be closed or
    iterated at any point as if httpx had read the bytes itself."""

    def __init__(self, response: httpx.Response, state: Any, reader: Any, sock: socket.socket) -> None:
        self._response = response
        self._state = state
        self._reader = reader
        self._sock = sock
        self._scatter = hasattr(sock, "recvmsg_into") and not isinstance(sock, ssl.SSLSocket)
        self._read_timeout = response.request.extensions.get("timeout", {}).get("read")
        self._timeout = sock.gettimeout()  # as set last: see _settimeout
        self.taken = 0  # body bytes read so far through this object

    @classmethod
    def open(cls, response: httpx.Response) -> DirectBody | None:
        found = _connection(response)
        if found is None or response.is_stream_consumed:
            return None
        return cls(response, *found)

    @property
    def remaining(self) -> int:
        return int(self._reader._remaining)

    def read_into(self, views: Sequence[memoryview], deadline: Deadline | None = None) -> int:
        """Fill ``views`` (byte views, together at most :attr:`remaining`) in order; the
        number of bytes read, short only if the peer closed early. Socket errors surface as
        httpx's exceptions, a passed ``deadline`` as :class:`APITimeoutError`."""
        size = sum(len(v) for v in views)
        if size > self.remaining:
            raise ValueError(f"asked for {size} bytes, but only {self.remaining} of the body are left")
        filled = 0
        try:
            pending = self._state._receive_buffer.maybe_extract_at_most(size)
            buffers = list(views)
            if pending:
                filled = _place(pending, buffers)
            while filled < size:
                self._settimeout(deadline, filled)
                n = self._recv(buffers)
                if n == 0:
                    break
                filled += n
                _advance(buffers, n)
        except TimeoutError as exc:
            if deadline is not None and deadline.expired:  # the socket's timeout was the deadline's
                raise self._deadline_passed(filled) from None
            raise httpx.ReadTimeout(f"timed out after {filled} of {size} bytes", request=self._response.request) from exc
        except OSError as exc:
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=self._response.request) from exc
        finally:
            self._reader._remaining -= filled  # 0 lets h11 end the message and reuse the connection
            self.taken += filled
        return filled

    def _settimeout(self, deadline: Deadline | None, filled: int) -> None:
        left = deadline.remaining() if deadline is not None else None
        if left is not None and left <= 0:
            raise self._deadline_passed(filled)
        limits = [t for t in (self._read_timeout, left) if t is not None]
        timeout = min(limits) if limits else None
        if timeout != self._timeout:  # settimeout lets go of the GIL and waits to get it back: only on a change
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def _deadline_passed(self, filled: int) -> APITimeoutError:
        return APITimeoutError(
            f"the call's deadline passed while reading the response body ({self.taken + filled} bytes so far); "
            "pass a larger deadline= or retry later",
            request=self._response.request,
        )

    def _recv(self, buffers: list[memoryview]) -> int:
        if self._scatter and len(buffers) > 1:
            return self._sock.recvmsg_into(buffers[:_IOV_MAX])[0]
        return self._sock.recv_into(buffers[0])


def _place(data: bytes | bytearray, buffers: list[memoryview]) -> int:
    """Copy ``data`` into the front of ``buffers`` (consuming them as filled)."""
    pos = 0
    while pos < len(data):
        first = buffers[0]
        k = min(len(first), len(data) - pos)
        first[:k] = data[pos : pos + k]
        pos += k
        _advance(buffers, k)
    return pos


def _advance(buffers: list[memoryview], n: int) -> None:
    """Drop the first ``n`` bytes of ``buffers`` (whole buffers, then part of one)."""
    i = 0
    while i < len(buffers) and n >= len(buffers[i]):
        n -= len(buffers[i])
        i += 1
    del buffers[:i]
    if n:
        buffers[0] = buffers[0][n:]


def recv_body_into(response: httpx.Response, view: memoryview, deadline: Deadline | None) -> int | None:
    """Fill ``view`` (exactly the announced body) from the connection; the number of bytes
    read (short only if the peer closed early), or ``None`` when the fast path does not apply
    and nothing was read. Socket errors surface as httpx's exceptions."""
    body = DirectBody.open(response)
    if body is None or body.remaining != len(view):
        return None
    return body.read_into([view], deadline)
