"""One HTTP exchange of a call: the httpx request built, sent through the client's limiter,
its answer read and turned into the method's result (or a typed error for the retry loop).

The client's send loops (``_core/client.py``) import this module with their first request:
it is where httpx, google-auth and pydantic come in, which constructing a client does not need.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import google.auth.exceptions
import httpx
import pydantic_core

from eerest._core.auth import forget_credentials
from eerest._core.body import TruncatedBody, aread_body, aread_error_body, read_body, read_error_body
from eerest._core.deadline import Deadline
from eerest._core.message import Message, lenient, parse_response
from eerest._core.overlay import Body
from eerest._core.paths import within
from eerest._core.status import status_error
from eerest._core.streaming import AsyncStreamedResponse, StreamedResponse
from eerest._core.transport import USE_CLIENT_DEFAULT
from eerest._core.types import NotGiven
from eerest.errors import (
    APIConnectionError,
    APITimeoutError,
    CredentialsError,
    InvalidRequestError,
    ResponseDecodeError,
)

if TYPE_CHECKING:
    from eerest._core.call import Call
    from eerest._core.cancel import CancelScope
    from eerest._core.client import AsyncClientBase, SyncClientBase, _ClientBase

    Client = _ClientBase[Any]

__all__ = ["TruncatedBody", "aattempt", "afinish", "attempt", "finish", "http_request", "result"]


def attempt(
    client: SyncClientBase, call: Call, deadline: Deadline, stream: bool, scope: CancelScope | None = None
) -> Any:
    """One HTTP exchange: the result, or a typed error for ``_backoff`` to judge; cancelling
    ``scope`` ends a wait for the answer's headers."""
    # Failures are raised outside the except blocks: a chained httpx or google-auth
    # exception would carry the request, and its credentials, into tracebacks and pickles
    # (tblib, as dask's distributed installs it, pickles __cause__ and __context__).
    failure: Exception | None = None
    try:
        auth = client._auth.headers()
    except google.auth.exceptions.GoogleAuthError as exc:
        failure = _credentials_error(exc)
    if failure is not None:
        raise failure
    request = http_request(client, call, auth, deadline)
    if scope is not None:
        request.extensions["trace"] = scope.trace(client._http, request)
    try:
        return _exchange(client, call, request, deadline, stream)
    finally:
        forget_credentials(request)  # the request outlives the call in errors and responses


def _exchange(client: SyncClientBase, call: Call, request: httpx.Request, deadline: Deadline, stream: bool) -> Any:
    """Send ``request`` and read its answer."""
    failure: Exception | None = None
    try:
        response = client._limiter.send(client._sender.open, request)
    except httpx.HTTPError as exc:
        failure = _connection_error(exc, request, deadline)
    except RuntimeError as exc:  # httpx: "Cannot send a request, as the client has been closed."
        failure = InvalidRequestError(f"{call.spec.id}: {exc} Use the client before closing it, or make a new one.")
    if failure is not None:
        raise failure
    if not response.is_success:
        try:
            content = read_error_body(response)
        finally:
            response.close()
        raise status_error(response, content)
    if stream:
        return StreamedResponse(client, call, response, deadline)
    return finish(client, call, response, deadline)


def finish(client: SyncClientBase, call: Call, response: httpx.Response, deadline: Deadline) -> Any:
    """Read a successful response's body (bounded) and turn it into the method's result."""
    try:
        content = read_body(response, client._body_limits(call), deadline)
    finally:
        response.close()
    return result(client, call, response, content)


async def aattempt(client: AsyncClientBase, call: Call, deadline: Deadline, stream: bool) -> Any:
    """As :func:`attempt`, for the async client."""
    # Failures are raised outside the except blocks: a chained httpx or google-auth
    # exception would carry the request, and its credentials, into tracebacks and pickles
    # (tblib, as dask's distributed installs it, pickles __cause__ and __context__).
    failure: Exception | None = None
    try:
        auth = await client._auth.aheaders()
    except google.auth.exceptions.GoogleAuthError as exc:
        failure = _credentials_error(exc)
    if failure is not None:
        raise failure
    request = http_request(client, call, auth, deadline)
    try:
        return await _aexchange(client, call, request, deadline, stream)
    finally:
        forget_credentials(request)  # the request outlives the call in errors and responses


async def _aexchange(
    client: AsyncClientBase, call: Call, request: httpx.Request, deadline: Deadline, stream: bool
) -> Any:
    """Send ``request`` and read its answer."""
    failure: Exception | None = None
    try:
        response = await client._limiter.asend(client._sender.aopen, request)
    except httpx.HTTPError as exc:
        failure = _connection_error(exc, request, deadline)
    except RuntimeError as exc:  # httpx: "Cannot send a request, as the client has been closed."
        failure = InvalidRequestError(f"{call.spec.id}: {exc} Use the client before closing it, or make a new one.")
    if failure is not None:
        raise failure
    if not response.is_success:
        try:
            content = await aread_error_body(response)
        finally:
            await response.aclose()
        raise status_error(response, content)
    if stream:
        return AsyncStreamedResponse(client, call, response, deadline)
    return await afinish(client, call, response, deadline)


async def afinish(client: AsyncClientBase, call: Call, response: httpx.Response, deadline: Deadline) -> Any:
    """As :func:`finish`, for the async client."""
    try:
        content = await aread_body(response, client._body_limits(call), deadline)
    finally:
        await response.aclose()
    return result(client, call, response, content)


def http_request(client: Client, call: Call, auth: Mapping[str, str], deadline: Deadline) -> httpx.Request:
    """The httpx request of ``call``, within its deadline and the API's path."""
    sender = client._sender
    headers = {**auth, **call.headers}
    if call.spec.raw_result:
        headers.setdefault("accept-encoding", "identity")  # Content-Length then sizes the buffer
    if deadline.expired:
        raise APITimeoutError(
            f"{call.spec.id}: the call's deadline ({deadline.seconds} s) passed before it could be sent; "
            "pass a larger deadline= (Client(deadline=...) or client.with_options(deadline=...))"
        )
    given = client.timeout if isinstance(call.timeout, NotGiven) else call.timeout
    timeout: Any = deadline.clip(given)
    if timeout is given and client._owns_http and isinstance(call.timeout, NotGiven):
        timeout = USE_CLIENT_DEFAULT  # the deadline does not bind yet
    service_path = "" if call.from_root else client._api.service_path
    try:
        url = sender.url(f"{client.base_url}/{service_path}{call.path}")
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
    prefix = client._base_path + "/" + ("" if call.from_root else client._api.service_path)
    if not within(url.path, prefix):
        raise InvalidRequestError(
            f"{call.spec.id}: the request path {url.path[:200]!r} is outside the API's path "
            f"{prefix!r}; check the path parameters"
        )
    return request


def result(client: Client, call: Call, response: httpx.Response, content: bytearray) -> Any:
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
        if client._api.data_wrapper and isinstance(data, dict) and "data" in data:
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


def _credentials_error(exc: Exception) -> CredentialsError:
    reason = f"{type(exc).__name__}: {exc}"
    return CredentialsError(
        f"could not get credentials ({reason}); pass credentials= or run `gcloud auth application-default login`",
        reason=reason,
    )
