"""Reading a response body once, straight into its final buffer, with bounded memory.

How much is allocated before data arrives is decided by the *request*, never by the peer
alone: ``Content-Length`` is trusted only up to the size the request can legitimately
produce (:class:`BodyLimits`); beyond that the buffer grows only as bytes actually arrive,
and a body larger than ``limits.cap`` (decompressed, for gzip) is refused. A body shorter
or longer than its ``Content-Length`` is an error, never a silently short result. The
buffer is not zero-filled: every byte of it is written from the wire before it is used.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator

import httpx

from eerest._core.deadline import Deadline
from eerest._core.sizes import FIRST_ALLOCATION, MAX_BINARY_BYTES, MAX_ERROR_BYTES, MAX_JSON_BYTES, BodyLimits
from eerest._core.socket_body import MIN_DIRECT_READ, recv_body_into
from eerest.errors import APITimeoutError, ResponseDecodeError

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_ERROR_BYTES",
    "MAX_BINARY_BYTES",
    "FIRST_ALLOCATION",
    "BodyLimits",
    "BodyReader",
    "TruncatedBody",
    "uninitialized",
    "read_body",
    "aread_body",
    "content_length",
    "read_error_body",
    "aread_error_body",
]

_GZIP = frozenset({"gzip", "x-gzip"})


def _bytearray_factory() -> Callable[[None, int], bytearray] | None:
    """CPython's ``PyByteArray_FromStringAndSize(NULL, n)``: a bytearray whose bytes are not
    zeroed first (``None`` elsewhere)."""
    try:
        import ctypes

        make = ctypes.pythonapi.PyByteArray_FromStringAndSize
    except (ImportError, AttributeError):  # pragma: no cover - other interpreters
        return None
    make.restype = ctypes.py_object
    make.argtypes = (ctypes.c_char_p, ctypes.c_ssize_t)
    return make


_NEW_BYTEARRAY: list[Callable[[None, int], bytearray] | None] = []  # made on first use (ctypes)


def uninitialized(size: int) -> bytearray:
    """A ``bytearray`` of ``size`` bytes with undefined contents (zero-filling 36 MiB costs
    about a third of reading it from loopback); callers overwrite every byte."""
    if size < FIRST_ALLOCATION:
        return bytearray(size)
    if not _NEW_BYTEARRAY:
        _NEW_BYTEARRAY.append(_bytearray_factory())
    make = _NEW_BYTEARRAY[0]
    return bytearray(size) if make is None else make(None, size)


class TruncatedBody(ResponseDecodeError):
    """The body ended before its ``Content-Length`` or the connection broke mid-body:
    the request may be retried (see ``RetryPolicy``)."""


class BodyReader:
    """Accumulates chunks into one ``bytearray`` within ``limits``; pure, so sync and async
    share it (and ``deadline``, when given, is checked after every chunk)."""

    def __init__(
        self,
        content_length: int | None,
        limits: BodyLimits,
        request: httpx.Request | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.expected = content_length
        self.limits = limits
        self._request = request
        self._deadline = deadline
        if content_length is not None and content_length > limits.cap:
            raise ResponseDecodeError(
                f"the response announces {content_length} bytes (Content-Length), more than the "
                f"{limits.cap} this request can produce; refusing it",
                request=request,
            )
        self.buffer = uninitialized(limits.first_allocation(content_length))
        self.size = 0

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        n = len(chunk)
        end = self.size + n
        if self.expected is not None and end > self.expected:
            raise ResponseDecodeError(
                f"the response body is longer than its Content-Length ({self.expected} bytes); "
                "refusing a body that disagrees with its headers",
                request=self._request,
            )
        if end > self.limits.cap:
            raise ResponseDecodeError(
                f"the response body exceeds {self.limits.cap} bytes, more than this request can produce; refusing it",
                request=self._request,
            )
        room = len(self.buffer) - self.size
        if n <= room:
            self.buffer[self.size : end] = chunk
        else:  # grow only by what arrived (bytearray appends amortise their reallocations)
            view = memoryview(chunk)
            if room:
                self.buffer[self.size :] = view[:room]
            self.buffer += view[room:]
        self.size = end
        if self._deadline is not None and self._deadline.expired:
            raise APITimeoutError(
                f"the call's deadline ({self._deadline.seconds} s) passed while reading the response body "
                f"({self.size} bytes so far); pass a larger deadline= or retry later",
                request=self._request,
            )

    def fill_from(self, response: httpx.Response) -> None:
        """Receive the whole announced body from the socket into the preallocated buffer,
        when it is large, fully preallocated and the connection allows it (sync only)."""
        expected = self.expected
        if expected is None or expected < MIN_DIRECT_READ or len(self.buffer) < expected or self.size:
            return
        filled = recv_body_into(response, memoryview(self.buffer)[:expected], self._deadline)
        if filled is not None:
            self.size = filled

    def finish(self) -> bytearray:
        if self.expected is not None and self.size != self.expected:
            raise TruncatedBody(
                f"the response body ended after {self.size} of {self.expected} bytes "
                "(Content-Length); the data is incomplete, retry the request",
                request=self._request,
            )
        if len(self.buffer) != self.size:
            del self.buffer[self.size :]
        return self.buffer


def content_length(response: httpx.Response, encoding: str | None = None) -> int | None:
    """The announced length of the body as it will be read (``None``: unknown or encoded)."""
    if (encoding or _encoding(response)) != "identity":
        return None  # Content-Length counts the encoded bytes
    value = response.headers.get("content-length", "")
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def _encoding(response: httpx.Response) -> str:
    value = response.headers.get("content-encoding", "").strip().lower()
    return value or "identity"


class _Decoder:
    """Undo the content encoding of raw chunks, never producing more than ``cap`` bytes in
    all (a small gzip body can expand a thousandfold)."""

    def __init__(self, response: httpx.Response, cap: int, encoding: str | None = None) -> None:
        encoding = encoding or _encoding(response)
        self._cap = cap
        if encoding == "identity":
            self._zlib = None
        elif encoding in _GZIP or encoding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32 if encoding in _GZIP else zlib.MAX_WBITS)
        else:
            raise ResponseDecodeError(
                f"the response uses Content-Encoding {encoding!r}, which eerest did not ask for and does not decode",
                request=response.request,
            )
        self._request = response.request
        self.produced = 0

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        try:
            while data:
                out = self._zlib.decompress(data, self._cap - self.produced + 1)
                self.produced += len(out)
                yield out
                data = self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise ResponseDecodeError(
                f"the response claims a compressed body but cannot be decompressed ({exc})", request=self._request
            ) from None

    def flush(self) -> bytes:
        if self._zlib is None:
            return b""
        if not self._zlib.eof:
            raise TruncatedBody("the compressed response body ended early; retry the request", request=self._request)
        return b""


def _cut(exc: Exception, reader: BodyReader, request: httpx.Request) -> TruncatedBody | APITimeoutError:
    deadline = reader._deadline
    if deadline is not None and deadline.expired:  # the deadline's watchdog shut the connection down
        return APITimeoutError(
            f"the call's deadline ({deadline.seconds} s) passed while reading the response body "
            f"({reader.size} bytes so far); pass a larger deadline= or retry later",
            request=request,
        )
    return TruncatedBody(
        f"the connection broke after {reader.size} bytes of the response body "
        f"({type(exc).__name__}); the data is incomplete, retry the request",
        request=request,
    )


def _feed_all(reader: BodyReader, decoder: _Decoder, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        for out in decoder.decode(chunk):
            reader.feed(out)


def _preloaded(response: httpx.Response, reader: BodyReader) -> bool:
    """A response httpx has already read (e.g. an ``httpx.MockTransport`` reply, whose raw
    stream is gone): feed its decoded content, under the same caps."""
    if not hasattr(response, "_content"):
        return False
    reader.feed(response.content)
    return True


def read_body(response: httpx.Response, limits: BodyLimits, deadline: Deadline | None = None) -> bytearray:
    """Read a streamed response's body into one buffer (see :class:`BodyReader`); a large
    identity body is received straight into it (see :mod:`eerest._core.socket_body`)."""
    encoding = _encoding(response)
    reader = BodyReader(content_length(response, encoding), limits, response.request, deadline)
    if _preloaded(response, reader):
        return reader.finish()
    decoder = _Decoder(response, limits.cap, encoding)
    failure = None
    try:
        reader.fill_from(response)
        _feed_all(reader, decoder, response.iter_raw())
        decoder.flush()
    except httpx.TransportError as exc:
        failure = _cut(exc, reader, response.request)
    if failure is not None:  # raised unchained: httpx's exception holds the request and its credentials
        raise failure
    return reader.finish()


async def aread_body(response: httpx.Response, limits: BodyLimits, deadline: Deadline | None = None) -> bytearray:
    encoding = _encoding(response)
    reader = BodyReader(content_length(response, encoding), limits, response.request, deadline)
    if _preloaded(response, reader):
        return reader.finish()
    decoder = _Decoder(response, limits.cap, encoding)
    chunks: AsyncIterator[bytes] = response.aiter_raw()
    failure = None
    try:
        async for chunk in chunks:
            for out in decoder.decode(chunk):
                reader.feed(out)
        decoder.flush()
    except httpx.TransportError as exc:
        failure = _cut(exc, reader, response.request)
    if failure is not None:
        raise failure
    return reader.finish()


def _error_decoder(response: httpx.Response) -> _Decoder | None:
    try:
        return _Decoder(response, MAX_ERROR_BYTES)
    except ResponseDecodeError:
        return None


def _keep(received: bytearray, decoder: _Decoder, chunk: bytes) -> bool:
    """Add what ``chunk`` decodes to; False once :data:`MAX_ERROR_BYTES` are kept."""
    for out in decoder.decode(chunk):
        received += out[: MAX_ERROR_BYTES - len(received)]
        if len(received) >= MAX_ERROR_BYTES:
            return False
    return True


def read_error_body(response: httpx.Response) -> bytes:
    """At most :data:`MAX_ERROR_BYTES` of an error response (what arrived, if it breaks off);
    the rest is left unread and the connection closed."""
    if response.is_stream_consumed:
        return response.content[:MAX_ERROR_BYTES]
    received = bytearray()
    decoder = _error_decoder(response)
    if decoder is None:
        return b""
    try:
        for chunk in response.iter_raw():
            if not _keep(received, decoder, chunk):
                break
    except (httpx.TransportError, ResponseDecodeError):
        pass
    return bytes(received)


async def aread_error_body(response: httpx.Response) -> bytes:
    if response.is_stream_consumed:
        return response.content[:MAX_ERROR_BYTES]
    received = bytearray()
    decoder = _error_decoder(response)
    if decoder is None:
        return b""
    try:
        async for chunk in response.aiter_raw():
            if not _keep(received, decoder, chunk):
                break
    except (httpx.TransportError, ResponseDecodeError):
        pass
    return bytes(received)
