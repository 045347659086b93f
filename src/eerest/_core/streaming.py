"""Streamed responses: the body goes to a file or an iterator of chunks, never held whole.

Reach them through a resource's ``with_streaming_response``, e.g.
``with client.projects.image.with_streaming_response.compute_pixels(...) as r: r.write_to(path)``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

import httpx

from eerest._core.body import TruncatedBody
from eerest.errors import APITimeoutError, ResponseDecodeError

if TYPE_CHECKING:
    from eerest._core.call import Call
    from eerest._core.deadline import Deadline
    from eerest._core.exchange import AsyncExchange, Exchange

__all__ = [
    "StreamedResponse",
    "AsyncStreamedResponse",
    "to_streamed_response_wrapper",
    "async_to_streamed_response_wrapper",
]

P = ParamSpec("P")
R = TypeVar("R")


class _StreamBase:
    def __init__(self, call: Call, response: httpx.Response, deadline: Deadline) -> None:
        self._call = call
        self._response = response
        self._deadline = deadline
        self._received = 0

    @property
    def http_response(self) -> httpx.Response:
        """The underlying httpx response (its body unread), as openai-python exposes it."""
        return self._response

    @property
    def headers(self) -> httpx.Headers:
        return self._response.headers

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", ""))

    @property
    def content_length(self) -> int | None:
        value = self._response.headers.get("content-length")
        return int(value) if value and value.isascii() and value.isdigit() else None

    def _check_complete(self) -> None:
        expected = self.content_length
        if expected is not None and self._received != expected and "content-encoding" not in self.headers:
            raise TruncatedBody(
                f"the response body ended after {self._received} of {expected} bytes; "
                "the data is incomplete, retry the request",
                request=self._response.request,
            )

    def _count(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._deadline.expired:
            raise APITimeoutError(
                f"the call's deadline ({self._deadline.seconds} s) passed after {self._received} bytes of the "
                "streamed body; pass a larger deadline= (or None) to the client",
                request=self._response.request,
            )

    def _cut(self, exc: Exception) -> ResponseDecodeError | APITimeoutError:
        if self._deadline.expired:  # the deadline's watchdog shut the connection down
            return APITimeoutError(
                f"the call's deadline ({self._deadline.seconds} s) passed after {self._received} bytes of the "
                "streamed body; pass a larger deadline= (or None) to the client",
                request=self._response.request,
            )
        if isinstance(exc, httpx.DecodingError):
            return ResponseDecodeError(
                f"the response body cannot be decoded ({exc}); retry the request", request=self._response.request
            )
        return TruncatedBody(
            f"the connection broke after {self._received} bytes of the response body "
            f"({type(exc).__name__}); the data is incomplete, retry the request",
            request=self._response.request,
        )


class StreamedResponse(_StreamBase, Generic[R]):
    """An open response whose body has not been read yet. Use it as a context manager."""

    def __init__(self, exchange: Exchange, call: Call, response: httpx.Response, deadline: Deadline) -> None:
        super().__init__(call, response, deadline)
        self._exchange = exchange

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in chunks as they arrive; raises if it ends early."""
        failure = None
        try:
            for chunk in self._response.iter_bytes(chunk_size):
                self._count(chunk)
                yield chunk
        except (httpx.TransportError, httpx.DecodingError) as exc:
            failure = self._cut(exc)
        if failure is not None:  # unchained: httpx's exception holds the request and its credentials
            raise failure
        self._check_complete()

    def write_to(self, file: str | os.PathLike[str] | IO[bytes]) -> int:
        """Write the body to a path or binary file object; returns the number of bytes."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "wb") as f:
                return self.write_to(f)
        for chunk in self.iter_bytes():
            file.write(chunk)
        return self._received

    def read(self) -> R:
        """Read the whole body and return what the method returns without streaming."""
        return cast(R, self._exchange.finish(self._call, self._response, self._deadline))

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> StreamedResponse[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStreamedResponse(_StreamBase, Generic[R]):
    """The async counterpart of :class:`StreamedResponse`."""

    def __init__(self, exchange: AsyncExchange, call: Call, response: httpx.Response, deadline: Deadline) -> None:
        super().__init__(call, response, deadline)
        self._exchange = exchange

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """As :meth:`StreamedResponse.iter_bytes`; each wait for a chunk ends with the
        call's deadline, however slowly the server sends."""
        from eerest._core.exchange import bounded

        failure = None
        chunks = self._response.aiter_bytes(chunk_size)
        try:
            while True:
                left = self._deadline.remaining()
                try:
                    chunk = await (chunks.__anext__() if left is None else bounded(left, chunks.__anext__()))
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    if not self._deadline.expired:
                        raise
                    self._count(b"")  # raises the deadline's APITimeoutError
                    raise
                self._count(chunk)
                yield chunk
        except (httpx.TransportError, httpx.DecodingError) as exc:
            failure = self._cut(exc)
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
        if failure is not None:  # unchained: httpx's exception holds the request and its credentials
            raise failure
        self._check_complete()

    async def write_to(self, file: str | os.PathLike[str] | IO[bytes]) -> int:
        if isinstance(file, (str, os.PathLike)):
            with open(file, "wb") as f:
                return await self.write_to(f)
        async for chunk in self.iter_bytes():
            file.write(chunk)
        return self._received

    async def read(self) -> R:
        return cast(R, await self._exchange.finish_within(self._call, self._response, self._deadline))

    async def close(self) -> None:
        await self._response.aclose()


class _AsyncStreamContext(Generic[R]):
    def __init__(self, opening: Awaitable[AsyncStreamedResponse[R]]) -> None:
        self._opening = opening
        self._stream: AsyncStreamedResponse[R] | None = None

    async def __aenter__(self) -> AsyncStreamedResponse[R]:
        self._stream = await self._opening
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.close()


def _streaming_twin(method: Callable[..., Any]) -> Callable[..., Any]:
    resource = method.__self__  # type: ignore[attr-defined]
    twin = type(resource)(resource._client, stream=True)
    return getattr(twin, method.__name__)  # type: ignore[no-any-return]


def to_streamed_response_wrapper(method: Callable[P, R]) -> Callable[P, StreamedResponse[R]]:
    """``method`` with the same arguments, returning the open response instead."""

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> StreamedResponse[R]:
        return _streaming_twin(method)(*args, **kwargs)  # type: ignore[no-any-return]

    return wrapped


def async_to_streamed_response_wrapper(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, _AsyncStreamContext[R]]:
    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> _AsyncStreamContext[R]:
        return _AsyncStreamContext(_streaming_twin(method)(*args, **kwargs))

    return wrapped
