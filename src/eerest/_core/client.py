"""The clients every generated version builds on: configuration and decisions shared,
I/O (sync or async) kept to two short send loops."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import platform
import time
from collections.abc import Generator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import google.auth
import google.auth.credentials
import google.auth.exceptions
import httpx

from eerest._area import AsyncReadAreaMixin, SyncReadAreaMixin
from eerest._core.auth import Auth
from eerest._core.body import aread_body, read_body
from eerest._core.call import Call, build_call
from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_REQUESTS_PER_SECOND, Limiter
from eerest._core.message import parse_response
from eerest._core.overlay import Body, Fetch
from eerest._core.pagination import AsyncPager, SyncPager
from eerest._core.retry import RetryPolicy
from eerest._core.spec import ApiInfo, MethodSpec
from eerest._core.status import status_error
from eerest._core.streaming import AsyncStreamedResponse, StreamedResponse
from eerest._core.types import NOT_GIVEN, NotGiven, RequestOptions, Timeout
from eerest._version import __version__
from eerest.errors import APIConnectionError, APITimeoutError, ResponseDecodeError

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "SyncClientBase", "AsyncClientBase", "SyncResource", "AsyncResource"]

log = logging.getLogger("eerest")

# Stainless clients (openai-python) wait up to 10 minutes for an answer and 5 s to
# connect; pixel computations can take minutes, so we keep the 10 minutes.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
DEFAULT_MAX_RETRIES = 3
DEFAULT_CONNECTION_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

_USER_AGENT = f"eerest/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
_API_CLIENT = f"gl-python/{platform.python_version()} eerest/{__version__} httpx/{httpx.__version__}"


def resolve_project(
    project: str | None, credentials: google.auth.credentials.Credentials | None, scopes: tuple[str, ...]
) -> tuple[str | None, google.auth.credentials.Credentials | None]:
    """The ``projects/...`` name to use, and the credentials if finding it loaded them."""
    if not project:
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or None
    if not project and credentials is not None:
        project = getattr(credentials, "project_id", None) or None
    if not project and credentials is None:
        try:
            credentials, project = google.auth.default(scopes=scopes)
        except google.auth.exceptions.DefaultCredentialsError:
            credentials, project = None, None
    if project and not project.startswith("projects/"):
        project = "projects/" + project
    return project, credentials


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class _ClientBase(Generic[HttpT]):
    """Configuration and pure decisions shared by the sync and async clients."""

    _api: ClassVar[ApiInfo]
    _http_class: ClassVar[type]

    def __init__(
        self,
        project: str | None = None,
        *,
        credentials: google.auth.credentials.Credentials | None = None,
        base_url: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        quota_project: str | None = None,
        http_client: HttpT | None = None,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
    ) -> None:
        """``max_concurrency`` caps this client's requests in flight and
        ``max_requests_per_second`` their rate (``None``: no cap), for every call made
        through it from any thread or task; see :attr:`limiter`."""
        self._limiter = Limiter(max_concurrency, max_requests_per_second)
        self.project, credentials = resolve_project(project, credentials, self._api.scopes)
        self.base_url = (base_url or self._api.base_url).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self._retry = RetryPolicy(max_retries=max_retries)
        self._auth = Auth(credentials, scopes=self._api.scopes, quota_project=quota_project)
        self._cache: dict[tuple[str, str], Any] = {}
        self._owns_http = http_client is None
        self._http: HttpT = http_client or self._http_class(timeout=timeout, limits=DEFAULT_CONNECTION_LIMITS)

    @property
    def limiter(self) -> Limiter:
        """The limiter every HTTP attempt of this client passes through (default: 16 in
        flight, 50 starts a second; a 429 lowers the concurrency for a while)."""
        return self._limiter

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project={self.project!r}, base_url={self.base_url!r}, api={self._api.id!r})"

    def _build(
        self,
        spec: MethodSpec,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None,
    ) -> Call:
        return build_call(
            self._api, spec, project=self.project, params=params, body=body, options=options, extras=extras
        )

    def _fetch_call(self, fetch: Fetch) -> tuple[tuple[str, str], Call]:
        spec = self._api.specs[fetch.method]
        call = self._build(spec, fetch.args, None, RequestOptions(), None)
        return (spec.id, call.path + "?" + repr(call.query)), call

    def _http_request(self, call: Call, auth: Mapping[str, str]) -> httpx.Request:
        headers = {
            "user-agent": _USER_AGENT,
            "x-goog-api-client": _API_CLIENT,
            **auth,
            **call.headers,
        }
        if call.spec.binary_response:
            headers.setdefault("accept-encoding", "identity")  # Content-Length then sizes the buffer
        timeout = self.timeout if isinstance(call.timeout, NotGiven) else call.timeout
        return self._http.build_request(
            call.spec.http_method,
            f"{self.base_url}/{self._api.service_path}{call.path}",
            params=list(call.query),
            json=call.body,
            headers=headers,
            timeout=timeout,
        )

    def _retry_delay(self, call: Call, attempt: int, reason: str, headers: Mapping[str, str] | None = None) -> float:
        delay = self._retry.delay(attempt, headers)
        log.debug(
            "retrying %s after %s in %.2fs (retry %d of %d)", call.spec.id, reason, delay, attempt + 1, self.max_retries
        )
        return delay

    @staticmethod
    def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{request.method} {request.url.copy_with(query=None)} timed out ({type(exc).__name__}); "
                "pass a larger timeout= or retry later",
                request=request,
            )
        return APIConnectionError(
            f"could not complete {request.method} {request.url.copy_with(query=None)}: {type(exc).__name__}: {exc}",
            request=request,
        )

    def _result(self, call: Call, response: httpx.Response, content: bytearray) -> Any:
        """The method's return value from a fully read successful response: pure."""
        spec = call.spec
        content_type = response.headers.get("content-type", "")
        if spec.binary_response:
            if content_type.startswith("application/json"):
                _raise_if_error_body(call, response, content)
            body = Body(content=content, content_type=content_type, headers=response.headers)
            return spec.overlay.result(call, body) if spec.overlay else bytes(content)
        if spec.response is None:
            return None
        try:
            data = json.loads(content) if content else {}
        except ValueError as exc:
            raise ResponseDecodeError(
                f"{spec.id}: the response is not valid JSON ({exc}; content-type {content_type!r})",
                request=response.request,
            ) from exc
        try:
            return parse_response(spec.response, data)
        except ValueError as exc:
            raise ResponseDecodeError(
                f"{spec.id}: the response does not match {spec.response.__name__}: {exc}", request=response.request
            ) from exc


def _raise_if_error_body(call: Call, response: httpx.Response, content: bytearray) -> None:
    try:
        data = json.loads(content)
    except ValueError:
        return
    if isinstance(data, dict) and "error" in data:
        error = status_error(response, bytes(content))
        raise ResponseDecodeError(
            f"{call.spec.id}: expected binary data but the server sent an error: {error.message}",
            request=response.request,
        )


def _page_request(
    spec: MethodSpec, params: Mapping[str, Any], body: Mapping[str, Any] | None
) -> tuple[MethodSpec, str | None, Any]:
    """For a list method: the single-page spec, the first token, and a function giving the
    (params, body) of the page with a given token."""
    assert spec.pagination is not None
    in_body = spec.pagination.token_location == "body"
    first = ((body or {}) if in_body else params).get("pageToken")

    def with_token(token: str | None) -> tuple[Mapping[str, Any], Mapping[str, Any] | None]:
        if in_body:
            return params, {**(body or {}), "pageToken": token}
        return {**params, "pageToken": token}, body

    return dataclasses.replace(spec, pagination=None), first, with_token


def _drive(gen: Generator[Fetch, Any, Call], perform: Any) -> Call:
    """Run an overlay's ``prepare`` generator, performing each Fetch it yields (sync)."""
    try:
        need = next(gen)
        while True:
            need = gen.send(perform(need))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


class SyncClientBase(SyncReadAreaMixin, _ClientBase[httpx.Client]):
    """Base of every generated ``Client``."""

    _http_class = httpx.Client

    def close(self) -> None:
        """Close the connections this client opened (not an ``http_client`` passed in)."""
        if self._owns_http:
            self._http.close()
        self._auth.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _invoke(
        self,
        spec: MethodSpec,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
    ) -> Any:
        call = self._build(spec, params, body, options, extras)
        if spec.overlay is not None:
            call = _drive(spec.overlay.prepare(call), self._perform)
        return self._send(call, stream=stream)

    def _pager(
        self,
        spec: MethodSpec,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None,
    ) -> SyncPager[Any, Any]:
        unpaged, first, with_token = _page_request(spec, params, body)

        def fetch(token: str | None) -> Any:
            page_params, page_body = with_token(token)
            return self._invoke(unpaged, page_params, page_body, options, extras)

        return SyncPager(fetch, spec.pagination.items_field, first)  # type: ignore[union-attr]

    def _perform(self, fetch: Fetch) -> Any:
        key, call = self._fetch_call(fetch)
        if fetch.cache and key in self._cache:
            return self._cache[key]
        result = self._send(call)
        if fetch.cache:
            self._cache[key] = result
        return result

    def _send(self, call: Call, *, stream: bool = False) -> Any:
        attempt = 0
        while True:
            request = self._http_request(call, self._auth.headers())
            try:
                response = self._limiter.send(self._http, request)
            except httpx.TransportError as exc:
                if self._retry.should_retry_error(attempt):
                    time.sleep(self._retry_delay(call, attempt, type(exc).__name__))
                    attempt += 1
                    continue
                raise self._connection_error(exc, request) from exc
            if response.status_code >= 400:
                try:
                    content = response.read()
                except httpx.TransportError:
                    content = b""
                finally:
                    response.close()
                if self._retry.should_retry_status(response.status_code, attempt):
                    time.sleep(self._retry_delay(call, attempt, f"HTTP {response.status_code}", response.headers))
                    attempt += 1
                    continue
                raise status_error(response, content)
            if stream:
                return StreamedResponse(self, call, response)
            return self._finish(call, response)

    def _finish(self, call: Call, response: httpx.Response) -> Any:
        try:
            content = read_body(response)
        finally:
            response.close()
        return self._result(call, response, content)


class AsyncClientBase(AsyncReadAreaMixin, _ClientBase[httpx.AsyncClient]):
    """Base of every generated ``AsyncClient``."""

    _http_class = httpx.AsyncClient

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        self._auth.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _pager(
        self,
        spec: MethodSpec,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None,
    ) -> AsyncPager[Any, Any]:
        unpaged, first, with_token = _page_request(spec, params, body)

        async def fetch(token: str | None) -> Any:
            page_params, page_body = with_token(token)
            return await self._invoke(unpaged, page_params, page_body, options, extras)

        return AsyncPager(fetch, spec.pagination.items_field, first)  # type: ignore[union-attr]

    async def _invoke(
        self,
        spec: MethodSpec,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
    ) -> Any:
        call = self._build(spec, params, body, options, extras)
        if spec.overlay is not None:
            gen = spec.overlay.prepare(call)
            try:
                need = next(gen)
                while True:
                    need = gen.send(await self._perform(need))
            except StopIteration as stop:
                call = stop.value
        return await self._send(call, stream=stream)

    async def _perform(self, fetch: Fetch) -> Any:
        key, call = self._fetch_call(fetch)
        if fetch.cache and key in self._cache:
            return self._cache[key]
        result = await self._send(call)
        if fetch.cache:
            self._cache[key] = result
        return result

    async def _send(self, call: Call, *, stream: bool = False) -> Any:
        attempt = 0
        while True:
            request = self._http_request(call, await self._auth.aheaders())
            try:
                response = await self._limiter.asend(self._http, request)
            except httpx.TransportError as exc:
                if self._retry.should_retry_error(attempt):
                    await asyncio.sleep(self._retry_delay(call, attempt, type(exc).__name__))
                    attempt += 1
                    continue
                raise self._connection_error(exc, request) from exc
            if response.status_code >= 400:
                try:
                    content = await response.aread()
                except httpx.TransportError:
                    content = b""
                finally:
                    await response.aclose()
                if self._retry.should_retry_status(response.status_code, attempt):
                    await asyncio.sleep(self._retry_delay(call, attempt, f"HTTP {response.status_code}", response.headers))
                    attempt += 1
                    continue
                raise status_error(response, content)
            if stream:
                return AsyncStreamedResponse(self, call, response)
            return await self._finish(call, response)

    async def _finish(self, call: Call, response: httpx.Response) -> Any:
        try:
            content = await aread_body(response)
        finally:
            await response.aclose()
        return self._result(call, response, content)


ClientT = TypeVar("ClientT", SyncClientBase, AsyncClientBase)


class _Resource(Generic[ClientT]):
    """Base of generated resources (``client.projects.image`` ...)."""

    def __init__(self, client: ClientT, *, stream: bool = False) -> None:
        self._client: ClientT = client
        self._stream = stream

    def _call(
        self,
        spec: MethodSpec,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> Any:
        """The method's result (a coroutine on async clients); a pager, at once, for list methods."""
        options = RequestOptions(timeout, extra_headers or {}, extra_query or {}, extra_body or {})
        if spec.pagination is not None and not self._stream:
            return self._client._pager(spec, params, body, options, extras)
        return self._client._invoke(spec, params, body, options, extras, stream=self._stream)


class SyncResource(_Resource[SyncClientBase]):
    """Base of generated sync resources."""


class AsyncResource(_Resource[AsyncClientBase]):
    """Base of generated async resources."""
