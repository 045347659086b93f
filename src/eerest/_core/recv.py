"""Reading a large HTTP/1.1 body straight from the socket into its final buffer.

httpx hands a body over in 64 KiB ``bytes`` chunks that are then copied into place; for a
36 MiB tile, ``socket.recv_into`` the buffer itself is measured ~1.5x faster
(benchmarks/bench_npy.py). This works only for httpx's own sync transport over a plain
socket or TLS socket with an HTTP/1.1 connection and a ``Content-Length`` body; anything
else (HTTP/2, proxies, mock transports, other httpcore versions) is detected before a byte
is taken and left to the chunk iterator. When the read completes, h11 is told the body is
consumed, so the connection goes back to the pool as usual; when it fails, the connection
is closed with the response.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import httpx

from eerest._core.deadline import Deadline
from eerest.errors import APITimeoutError

__all__ = ["MIN_DIRECT_READ", "recv_body_into"]

#: Smaller bodies gain nothing from bypassing the chunk iterator.
MIN_DIRECT_READ = 1 << 20


def _connection(response: httpx.Response) -> tuple[Any, Any, socket.socket] | None:
    """(h11 connection, its ContentLengthReader, socket) if the body can be read directly."""
    try:
        import h11
        from h11._readers import ContentLengthReader
        from httpcore._backends.sync import SyncStream
        from httpcore._sync.http11 import HTTP11Connection, HTTP11ConnectionByteStream

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


def recv_body_into(response: httpx.Response, view: memoryview, deadline: Deadline | None) -> int | None:
    """Fill ``view`` (exactly the announced body) from the connection; the number of bytes
    read (short only if the peer closed early), or ``None`` when the fast path does not apply
    and nothing was read. Socket errors surface as httpx's exceptions."""
    found = _connection(response)
    if found is None:
        return None
    state, reader, sock = found
    size = len(view)
    if reader._remaining != size:
        return None
    pending = state._receive_buffer.maybe_extract_at_most(size)
    filled = 0
    if pending:
        view[: len(pending)] = pending
        filled = len(pending)
    read_timeout = response.request.extensions.get("timeout", {}).get("read")
    try:
        while filled < size:
            left = deadline.remaining() if deadline is not None else None
            if left is not None and left <= 0:
                raise APITimeoutError(
                    f"the call's deadline passed while reading the response body ({filled} of {size} bytes); "
                    "pass a larger deadline= or retry later",
                    request=response.request,
                )
            limits = [t for t in (read_timeout, left) if t is not None]
            sock.settimeout(min(limits) if limits else None)
            n = sock.recv_into(view[filled:], size - filled)
            if n == 0:
                break
            filled += n
    except TimeoutError as exc:
        raise httpx.ReadTimeout(f"timed out after {filled} of {size} bytes", request=response.request) from exc
    except OSError as exc:
        raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=response.request) from exc
    finally:
        reader._remaining = size - filled  # what h11 still expects: 0 lets the connection be reused
    return filled
