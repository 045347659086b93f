"""The send path of a client: :class:`Exchange` (sync) and :class:`AsyncExchange` hold what
sending needs (API, endpoint, auth, limiter, sender, timeout, retry policy), built by the
client's first request, and run each call's attempts under one retry budget and one deadline:
the httpx request built, sent through the limiter, its answer read (or consumed as a stream)
and turned into the method's result or a typed error.

This module is where httpx, google-auth and pydantic come in, which constructing a client
does not need.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pydantic_core

from eerest._core.auth import forget_credentials
from eerest._core.body import TruncatedBody, aread_body, aread_error_body, read_body, read_error_body
from eerest._core.deadline import Deadline
from eerest._core.message import Message, lenient, parse_response
from eerest._core.overlay import Body
from eerest._core.paths import within
from eerest._core.retry import RetryPolicy, is_read
from eerest._core.sizes import MAX_BINARY_BYTES, MAX_JSON_BYTES, BodyLimits
from eerest._core.status import status_error
from eerest._core.streaming import AsyncStreamedResponse, StreamedResponse
from eerest._core.transport import USE_CLIENT_DEFAULT, Sender
from eerest._core.types import NotGiven, Timeout
from eerest._core.watchdog import SocketGuard
from eerest.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    CredentialsError,
    InvalidRequestError,
    ResponseDecodeError,
)

if TYPE_CHECKING:
    from eerest._core.auth import Auth
    from eerest._core.call import Call
    from eerest._core.cancel import CancelScope
    from eerest._core.limiter import Limiter
    from eerest._core.spec import ApiInfo

__all__ = ["AsyncExchange", "Exchange", "TruncatedBody"]

log = logging.getLogger("eerest")

R = TypeVar("R")
#: Reads a streamed response inside the attempt loop (see :meth:`Exchange.send`).
Consume = Callable[[StreamedResponse[Any]], R]
AsyncConsume = Callable[[AsyncStreamedResponse[Any]], Awaitable[R]]


class _ExchangeBase:
    """What the send path needs, and its pure decisions, shared by sync and async."""

    def __init__(
        self,
        api: ApiInfo,
        base_url: str,
        *,
        auth: Auth,
        limiter: Limiter,
        sender: Sender,
        timeout: Timeout,
        owns_http: bool,
        retry: RetryPolicy,
    ) -> None:
        self.api = api
        self.base_url = base_url
        self.auth = auth
        self.limiter = limiter
        self.sender = sender
        self.timeout = timeout
        self.owns_http = owns_http
        self.retry = retry
        self._base_path = urlsplit(base_url).path

    def body_limits(self, call: Call) -> BodyLimits:
        if call.body_limits is not None:
            return call.body_limits
        return BodyLimits(cap=MAX_BINARY_BYTES if call.spec.raw_result else MAX_JSON_BYTES)

    def backoff(self, call: Call, attempt: int, error: Exception, deadline: Deadline) -> float | None:
        """Seconds to wait before retrying after ``error``, or ``None`` to raise it: pure.

        429/5xx and connection errors are retried; a body cut off on a 200 too (read or
        streamed), for reads (every method eerest emits for Earth Engine is one); all of them
        count against one budget of ``max_retries``, never past the deadline."""
        headers: Mapping[str, str] | None = None
        if isinstance(error, APIStatusError):
            retry = self.retry.should_retry_status(error.status_code, attempt)
            headers = error.response.headers if error.response is not None else None
            reason = f"HTTP {error.status_code}"
        elif isinstance(error, TruncatedBody):
            retry = is_read(call.spec) and self.retry.should_retry_error(attempt)
            reason = "a truncated body"
        else:
            retry = isinstance(error, APIConnectionError) and self.retry.should_retry_error(attempt)
            reason = type(error).__name__
        if not retry or deadline.expired:
            return None
        delay = self.retry.delay(attempt, headers)
        if not deadline.allows_sleep(delay):
            return None
        log.debug(
            "retrying %s after %s in %.2fs (retry %d of %d)",
            call.spec.id,
            reason,
            delay,
            attempt + 1,
            self.retry.max_retries,
        )
        return delay

    def http_request(self, call: Call, auth: Mapping[str, str], deadline: Deadline) -> httpx.Request:
        """The httpx request of ``call``, within its deadline and the API's path."""
        sender = self.sender
        headers = {**auth, **call.headers}
        if call.spec.raw_result:
            headers.setdefault("accept-encoding", "identity")  # Content-Length then sizes the buffer
        if deadline.expired:
            raise APITimeoutError(
                f"{call.spec.id}: the call's deadline ({deadline.seconds} s) passed before it could be sent; "
                "pass a larger deadline= (Client(deadline=...) or client.with_options(deadline=...))"
            )
        given = self.timeout if isinstance(call.timeout, NotGiven) else call.timeout
        timeout: Any = deadline.clip(given)
        if timeout is given and self.owns_http and isinstance(call.timeout, NotGiven):
            timeout = USE_CLIENT_DEFAULT  # the deadline does not bind yet
        service_path = "" if call.from_root else self.api.service_path
        try:
            url = sender.url(f"{self.base_url}/{service_path}{call.path}")
            request = sender.request(
                call.spec.http_method,
                url,
                params=call.query or None,  # no params: httpx then parses the URL once, not twice
                json=call.body if call.content is None else None,
                content=call.content,
                headers=headers,
                timeout=timeout,
            )
        except (ValueError, TypeError, UnicodeError) as exc:  # e.g. NaN or a lone surrogate in the body
            raise InvalidRequestError(f"{call.spec.id}: the request cannot be encoded: {exc}") from None
        prefix = self._base_path + "/" + ("" if call.from_root else self.api.service_path)
        if not within(url.path, prefix):
            raise InvalidRequestError(
                f"{call.spec.id}: the request path {url.path[:200]!r} is outside the API's path "
                f"{prefix!r}; check the path parameters"
            )
        return request

    def result(self, call: Call, response: httpx.Response, content: bytearray) -> Any:
        """The method's return value from a fully read successful response: pure."""
        return result(call, response, content, data_wrapper=self.api.data_wrapper)


class Exchange(_ExchangeBase):
    """The sync send path of one client (and the copies ``with_options`` makes of it)."""

    def send(
        self,
        call: Call,
        deadline: Deadline,
        *,
        stream: bool = False,
        stop: CancelScope | None = None,
        consume: Consume[R] | None = None,
    ) -> Any:
        """Send ``call``, retrying as the policy says, and return its result (or, with
        ``stream``, the open response). ``consume`` reads the open response inside the
        attempt: a body cut off there is retried like a 503, within the same budget and
        deadline. Cancelling ``stop`` (the caller gave up, e.g. another tile of a
        ``read_area`` failed) ends the call with its last error: a wait between retries at
        once, a wait for the answer by shutting its connection down."""
        attempt = 0
        while True:
            try:
                return self._attempt(call, deadline, stream or consume is not None, stop, consume)
            except (APIStatusError, APIConnectionError, TruncatedBody) as error:
                delay = self.backoff(call, attempt, error, deadline)
                if delay is None:
                    _raise_deadline_passed(call, error, deadline)
                    raise
                if stop is None:
                    time.sleep(delay)
                elif stop.wait(delay):
                    raise
            attempt += 1

    def _attempt(
        self, call: Call, deadline: Deadline, stream: bool, stop: CancelScope | None, consume: Consume[R] | None
    ) -> Any:
        """One HTTP exchange: the result, or a typed error for :meth:`backoff` to judge."""
        # Failures are raised outside the except blocks: a chained httpx or google-auth
        # exception would carry the request, and its credentials, into tracebacks and pickles
        # (tblib, as dask's distributed installs it, pickles __cause__ and __context__).
        failure: Exception | None = None
        try:
            auth = self.auth.headers(deadline)
        except Exception as exc:
            if not _is_google_auth_error(exc):
                raise
            failure = _credentials_error(exc)
        if failure is not None:
            raise failure
        request = self.http_request(call, auth, deadline)
        if stop is not None:
            request.extensions["trace"] = stop.trace(self.sender.http, request)
        left = deadline.remaining()
        guard = None if left is None else SocketGuard(self.sender.http, request, left)
        handed_over = False
        try:
            response = self._open(call, request, deadline, guard)
            if not stream:
                return self.finish(call, response, deadline)
            streamed: StreamedResponse[Any] = StreamedResponse(self, call, response, deadline)
            if consume is None:
                handed_over = True  # the guard is disarmed when the caller closes the response
                return streamed
            with streamed:
                return consume(streamed)
        finally:
            forget_credentials(request)  # the request outlives the call in errors and responses
            if guard is not None and not handed_over:
                guard.close()

    def _open(self, call: Call, request: httpx.Request, deadline: Deadline, guard: SocketGuard | None) -> httpx.Response:
        """Send ``request``: its successful response with the body unread, or a typed error."""
        failure: Exception | None = None
        try:
            response = self.limiter.send(self.sender.open, request)
        except httpx.HTTPError as exc:
            failure = _connection_error(exc, request, deadline)
        except RuntimeError as exc:  # httpx: "Cannot send a request, as the client has been closed."
            failure = _closed_error(call, exc)
        if failure is not None:
            raise failure
        if guard is not None:
            _disarm_on_close(response, guard)
        if not response.is_success:
            try:
                content = read_error_body(response)
            finally:
                response.close()
            raise status_error(response, content)
        return response

    def finish(self, call: Call, response: httpx.Response, deadline: Deadline) -> Any:
        """Read a successful response's body (bounded) and turn it into the method's result."""
        try:
            content = read_body(response, self.body_limits(call), deadline)
        finally:
            response.close()
        return self.result(call, response, content)


class AsyncExchange(_ExchangeBase):
    """The async send path (see :class:`Exchange`)."""

    async def send(
        self, call: Call, deadline: Deadline, *, stream: bool = False, consume: AsyncConsume[R] | None = None
    ) -> Any:
        """As :meth:`Exchange.send`."""
        left = deadline.remaining()
        if left is None:
            return await self._send(call, deadline, stream, consume)
        try:
            return await bounded(left, self._send(call, deadline, stream, consume))
        except TimeoutError:
            if not deadline.expired:
                raise
        raise APITimeoutError(
            f"{call.spec.id}: the call's deadline ({deadline.seconds} s) passed; pass a larger deadline= "
            "(Client(deadline=...) or client.with_options(deadline=...)) or retry later"
        )

    async def _send(self, call: Call, deadline: Deadline, stream: bool, consume: AsyncConsume[R] | None) -> Any:
        attempt = 0
        while True:
            try:
                return await self._attempt(call, deadline, stream or consume is not None, consume)
            except (APIStatusError, APIConnectionError, TruncatedBody) as error:
                delay = self.backoff(call, attempt, error, deadline)
                if delay is None:
                    _raise_deadline_passed(call, error, deadline)
                    raise
                await _async_sleep(delay)
            attempt += 1

    async def _attempt(self, call: Call, deadline: Deadline, stream: bool, consume: AsyncConsume[R] | None) -> Any:
        failure: Exception | None = None
        try:
            auth = await self.auth.aheaders()
        except Exception as exc:
            if not _is_google_auth_error(exc):
                raise
            failure = _credentials_error(exc)
        if failure is not None:
            raise failure
        request = self.http_request(call, auth, deadline)
        try:
            response = await self._open(call, request, deadline)
            if not stream:
                return await self.finish(call, response, deadline)
            streamed: AsyncStreamedResponse[Any] = AsyncStreamedResponse(self, call, response, deadline)
            if consume is None:
                return streamed
            try:
                return await consume(streamed)
            finally:
                await streamed.close()
        finally:
            forget_credentials(request)

    async def _open(self, call: Call, request: httpx.Request, deadline: Deadline) -> httpx.Response:
        failure: Exception | None = None
        try:
            response = await self.limiter.asend(self.sender.aopen, request)
        except httpx.HTTPError as exc:
            failure = _connection_error(exc, request, deadline)
        except RuntimeError as exc:  # httpx: "Cannot send a request, as the client has been closed."
            failure = _closed_error(call, exc)
        if failure is not None:
            raise failure
        if not response.is_success:
            try:
                content = await aread_error_body(response)
            finally:
                await response.aclose()
            raise status_error(response, content)
        return response

    async def finish(self, call: Call, response: httpx.Response, deadline: Deadline) -> Any:
        """As :meth:`Exchange.finish`."""
        try:
            content = await aread_body(response, self.body_limits(call), deadline)
        finally:
            await response.aclose()
        return self.result(call, response, content)

    async def finish_within(self, call: Call, response: httpx.Response, deadline: Deadline) -> Any:
        """:meth:`finish` of a streamed response the caller reads, within the call's deadline."""
        left = deadline.remaining()
        if left is None:
            return await self.finish(call, response, deadline)
        try:
            return await bounded(left, self.finish(call, response, deadline))
        except TimeoutError:
            if not deadline.expired:
                raise
        raise APITimeoutError(
            f"{call.spec.id}: the call's deadline ({deadline.seconds} s) passed while reading the response body; "
            "pass a larger deadline= or retry later",
            request=response.request,
        )


def result(call: Call, response: httpx.Response, content: bytearray, *, data_wrapper: bool = False) -> Any:
    """The method's return value from a fully read successful response: pure."""
    spec = call.spec
    content_type = response.headers.get("content-type", "")
    if spec.raw_result:
        if spec.binary_response and content_type.startswith("application/json"):
            _raise_if_error_body(call, response, content)
        body = Body(content=content, content_type=content_type, headers=response.headers)
        return spec.overlay.result(call, body) if spec.overlay else bytes(content)
    if spec.response is None:
        return None
    is_message = isinstance(spec.response, type) and issubclass(spec.response, Message)
    if not content:
        raise ResponseDecodeError(
            f"{spec.id}: the server answered HTTP {response.status_code} with an empty body, not a "
            f"{_name(spec.response)}; retry the request",
            request=response.request,
        )
    try:
        data = _loads(content)
        if data_wrapper and isinstance(data, dict) and "data" in data:
            data = data["data"]
    except RecursionError:
        raise ResponseDecodeError(
            f"{spec.id}: the response's JSON is nested too deeply to parse", request=response.request
        ) from None
    except ValueError as exc:
        raise ResponseDecodeError(
            f"{spec.id}: the response is not valid JSON ({exc}; content-type {content_type!r})",
            request=response.request,
        ) from exc
    if (
        isinstance(data, dict)
        and len(data) == 1
        and "error" in data
        and not (is_message and "error" in spec.response.model_fields)
    ):
        error = status_error(response, bytes(content))
        raise ResponseDecodeError(
            f"{spec.id}: the server answered HTTP {response.status_code} with an error body: {error.message}",
            request=response.request,
        )
    try:
        if is_message:  # fields converted as they are first read (eerest._core.message)
            return parse_response(spec.response, data)
        with lenient():  # a TypeAdapter, for responses that are maps rather than messages
            return spec.response.validate_python(data)
    except RecursionError:
        raise ResponseDecodeError(
            f"{spec.id}: the response is nested too deeply for {_name(spec.response)}", request=response.request
        ) from None
    except ResponseDecodeError as exc:
        raise ResponseDecodeError(f"{spec.id}: {exc.message}", request=response.request) from None
    except ValueError as exc:
        raise ResponseDecodeError(
            f"{spec.id}: the response does not match {_name(spec.response)}: {exc}", request=response.request
        ) from exc




async def _async_sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported here rather than at the top: a sync program never imports asyncio."""
    import asyncio

    await asyncio.sleep(seconds)


async def bounded(seconds: float, awaitable: Awaitable[R]) -> R:
    """``await awaitable``, cancelled after ``seconds`` (then :class:`TimeoutError`): the
    whole of it, however the server trickles its bytes."""
    import asyncio  # here, not at the top: a sync program never imports asyncio

    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    try:  # pragma: no cover - Python 3.10
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:  # pragma: no cover - Python 3.10 (not the builtin there)
        raise TimeoutError from None


def _raise_deadline_passed(call: Call, error: APIError, deadline: Deadline) -> None:
    """An error that ends a call once its deadline has passed (a connection shut down by the
    watchdog, a body cut off with it) is reported as the deadline, not as its symptom."""
    if isinstance(error, (APIStatusError, APITimeoutError)) or not deadline.expired:
        return
    raise APITimeoutError(
        f"{call.spec.id}: the call's deadline ({deadline.seconds} s) passed ({error.message}); "
        "pass a larger deadline= (Client(deadline=...) or client.with_options(deadline=...)) or retry later",
        request=error.request,
    ) from None


def _disarm_on_close(response: httpx.Response, guard: SocketGuard) -> None:
    """Make closing ``response`` disarm ``guard`` first: a closed response's connection goes
    back to the pool and may carry another call's request."""
    stream = response.stream
    closer = stream.close  # type: ignore[union-attr]

    def close() -> None:
        guard.close()
        closer()

    stream.close = close  # type: ignore[method-assign,union-attr]


def _loads(content: bytearray) -> Any:
    """Decoded JSON, by pydantic-core's parser (jiter, caching the keys every item of a page
    repeats): a page of assets in about three quarters of ``json.loads``'s time, and fewer
    objects. What it refuses (a BOM, UTF-16, a lone surrogate, deep nesting, malformed JSON)
    goes to ``json.loads``, which accepts it or raises the error the caller reports."""
    try:
        return pydantic_core.from_json(content, cache_strings="keys")
    except ValueError:
        return json.loads(content)


def _name(response_type: Any) -> str:
    """What a response should have been, for error messages (a message class or an adapter)."""
    return getattr(response_type, "__name__", None) or str(getattr(response_type, "_type", response_type))


def _raise_if_error_body(call: Call, response: httpx.Response, content: bytearray) -> None:
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return
    if isinstance(data, dict) and "error" in data:
        error = status_error(response, bytes(content))
        raise ResponseDecodeError(
            f"{call.spec.id}: expected binary data but the server sent an error: {error.message}",
            request=response.request,
        )


def _connection_error(exc: Exception, request: httpx.Request, deadline: Deadline) -> APIConnectionError:
    url = request.url.copy_with(query=None)
    if deadline.expired:
        return APITimeoutError(
            f"{request.method} {url}: the call's deadline ({deadline.seconds} s) passed; "
            "pass a larger deadline= or retry later",
            request=request,
        )
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"{request.method} {url} timed out ({type(exc).__name__}); pass a larger timeout= or retry later",
            request=request,
        )
    return APIConnectionError(
        f"could not complete {request.method} {url}: {type(exc).__name__}: {exc}", request=request
    )


def _closed_error(call: Call, exc: RuntimeError) -> InvalidRequestError:
    return InvalidRequestError(f"{call.spec.id}: {exc} Use the client before closing it, or make a new one.")


def _is_google_auth_error(exc: Exception) -> bool:
    """Whether google-auth raised ``exc``: only possible once it is imported, which a client
    with a fixed bearer token never does (so neither does this module)."""
    exceptions = sys.modules.get("google.auth.exceptions")
    return exceptions is not None and isinstance(exc, exceptions.GoogleAuthError)


def _credentials_error(exc: Exception) -> CredentialsError:
    text = str(exc)
    if len(text) > 500:  # google-auth quotes the token endpoint's whole answer (an HTML page, say)
        text = text[:500] + f"... ({len(text) - 500} more characters)"
    reason = f"{type(exc).__name__}: {text}"
    return CredentialsError(
        f"could not get credentials ({reason}); pass credentials= or run `gcloud auth application-default login`",
        reason=reason,
    )
