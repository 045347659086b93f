"""Reading a response body once, straight into its final buffer.

With a ``Content-Length`` the buffer is allocated at its final size and every chunk is
copied into place once; a body shorter or longer than announced is an error, never a
silently short result. Without one, the buffer grows geometrically.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

from eerest.errors import ResponseDecodeError

__all__ = ["BodyReader", "read_body", "aread_body"]


class BodyReader:
    """Accumulates chunks into one ``bytearray``; pure, so sync and async share it."""

    def __init__(self, content_length: int | None, request: httpx.Request | None = None) -> None:
        self.expected = content_length
        self._request = request
        self.buffer = bytearray(content_length or 0)
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        end = self.size + len(chunk)
        if self.expected is not None and end > self.expected:
            raise ResponseDecodeError(
                f"the response body is longer than its Content-Length ({self.expected} bytes); "
                "refusing a body that disagrees with its headers",
                request=self._request,
            )
        if end > len(self.buffer):
            self.buffer.extend(bytes(max(end - len(self.buffer), len(self.buffer))))
        self.buffer[self.size : end] = chunk
        self.size = end

    def finish(self) -> bytearray:
        if self.expected is not None and self.size != self.expected:
            raise ResponseDecodeError(
                f"the response body ended after {self.size} of {self.expected} bytes "
                "(Content-Length); the data is incomplete, retry the request",
                request=self._request,
            )
        if len(self.buffer) != self.size:
            del self.buffer[self.size :]
        return self.buffer


def _content_length(response: httpx.Response) -> int | None:
    if response.headers.get("content-encoding", "identity") not in ("identity", ""):
        return None  # Content-Length counts the encoded bytes
    try:
        value = int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None
    return value if value >= 0 else None


def _cut(exc: Exception, reader: BodyReader, request: httpx.Request) -> ResponseDecodeError:
    return ResponseDecodeError(
        f"the connection broke after {reader.size} bytes of the response body "
        f"({type(exc).__name__}); the data is incomplete, retry the request",
        request=request,
    )


def read_body(response: httpx.Response) -> bytearray:
    """Read a streamed response's body into one buffer (see :class:`BodyReader`)."""
    reader = BodyReader(_content_length(response), response.request)
    chunks: Iterator[bytes] = response.iter_bytes()
    try:
        for chunk in chunks:
            reader.feed(chunk)
    except httpx.TransportError as exc:
        raise _cut(exc, reader, response.request) from exc
    return reader.finish()


async def aread_body(response: httpx.Response) -> bytearray:
    reader = BodyReader(_content_length(response), response.request)
    chunks: AsyncIterator[bytes] = response.aiter_bytes()
    try:
        async for chunk in chunks:
            reader.feed(chunk)
    except httpx.TransportError as exc:
        raise _cut(exc, reader, response.request) from exc
    return reader.finish()
