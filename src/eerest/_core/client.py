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
from typing import Any, ClassVar, Generic, TypeVar, cast

import google.auth
import google.auth.credentials
import google.auth.exceptions
import httpx

from eerest._core.auth import Auth
from eerest._core.body import aread_body, read_body
from eerest._core.call import Call, build_call
from eerest._core.message import Message, lenient, parse_response
from eerest._core.overlay import Body, Fetch
from eerest._core.pagination import AsyncPager, SyncPager
from eerest._core.retry import RetryPolicy
from eerest._core.spec import ApiInfo, ItemT, MethodSpec, PageSpec, ResultT
from eerest._core.status import status_error
from eerest._core.streaming import AsyncStreamedResponse, StreamedResponse
from eerest._core.types import NOT_GIVEN, Media, NotGiven, RequestOptions, Timeout
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
_STATIC_HEADERS = {"user-agent": _USER_AGENT, "x-goog-api-client": _API_CLIENT}


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
PageT = TypeVar("PageT")


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
    ) -> None:
        self.project, credentials = resolve_project(project, credentials, self._api.scopes)
        self.base_url = (base_url or self._api.base_url).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self._retry = RetryPolicy(max_retries=max_retries)
        self._auth = Auth(credentials, scopes=self._api.scopes, quota_project=quota_project)
        self._cache: dict[tuple[str, str], Any] = {}
        self._owns_http = http_client is None
        self._http_client: HttpT | None = http_client

    @property
    def _http(self) -> HttpT:
        """The httpx client, made by the first request: its TLS set-up (the CA bundle) costs
        tens of milliseconds that constructing an eerest client should not. Two threads racing
        here may each make one; the loser is dropped before it opens any connection."""
        http = self._http_client
        if http is None:
            http = self._http_client = self._http_class(
                timeout=self.timeout, limits=DEFAULT_CONNECTION_LIMITS, headers=_STATIC_HEADERS
            )
        return http

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project={self.project!r}, base_url={self.base_url!r}, api={self._api.id!r})"

    def _build(
        self,
        spec: MethodSpec[Any],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None,
    ) -> Call:
        return build_call(
            self._api,
            spec,
            project=self.project,
            params=params,
            body=body,
            options=options,
            extras=extras,
            media=options.media,
            media_mime_type=options.media_mime_type,
        )

    def _fetch_call(self, fetch: Fetch) -> tuple[tuple[str, str], Call]:
        assert self._api.specs is not None
        spec = self._api.specs[fetch.method]
        call = self._build(spec, fetch.args, None, RequestOptions(), None)
        return (spec.id, call.path + "?" + repr(call.query)), call

    def _http_request(self, call: Call, auth: Mapping[str, str]) -> httpx.Request:
        # An httpx client of our own already holds the static headers and the timeout, which
        # httpx then merges cheaply; one passed in gets them with every request.
        own = self._owns_http
        headers = {**auth, **call.headers} if own else {**_STATIC_HEADERS, **auth, **call.headers}
        if call.spec.raw_result:
            headers.setdefault("accept-encoding", "identity")  # Content-Length then sizes the buffer
        timeout: Any = call.timeout
        if isinstance(timeout, NotGiven):
            timeout = httpx.USE_CLIENT_DEFAULT if own else self.timeout
        url = f"{self.base_url}/{call.path}" if call.from_root else f"{self.base_url}/{self._api.service_path}{call.path}"
        return self._http.build_request(
            call.spec.http_method,
            url,
            params=list(call.query) or None,  # no params: httpx then parses the URL once, not twice
            json=call.body if call.content is None else None,
            content=call.content,
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
        if spec.raw_result:
            if spec.binary_response and content_type.startswith("application/json"):
                _raise_if_error_body(call, response, content)
            body = Body(content=content, content_type=content_type, headers=response.headers)
            return spec.overlay.result(call, body) if spec.overlay else bytes(content)
        if spec.response is None:
            return None
        try:
            data = json.loads(content) if content else {}
            if self._api.data_wrapper and isinstance(data, dict) and "data" in data:
                data = data["data"]
        except ValueError as exc:
            raise ResponseDecodeError(
                f"{spec.id}: the response is not valid JSON ({exc}; content-type {content_type!r})",
                request=response.request,
            ) from exc
        try:
            if isinstance(spec.response, type) and issubclass(spec.response, Message):
                return parse_response(spec.response, data)
            with lenient():  # a TypeAdapter, for responses that are maps rather than messages
                return spec.response.validate_python(data)
        except ValueError as exc:
            name = getattr(spec.response, "__name__", None) or str(getattr(spec.response, "_type", spec.response))
            raise ResponseDecodeError(
                f"{spec.id}: the response does not match {name}: {exc}", request=response.request
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
    spec: MethodSpec[Any], params: Mapping[str, Any], body: Mapping[str, Any] | None
) -> tuple[MethodSpec[Any], str | None, Any]:
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
        return cast(Call, stop.value)


class SyncClientBase(_ClientBase[httpx.Client]):
    """Base of every generated ``Client``."""

    _http_class = httpx.Client

    def close(self) -> None:
        """Close the connections this client opened (not an ``http_client`` passed in)."""
        if self._owns_http and self._http_client is not None:
            self._http_client.close()
        self._auth.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _invoke(
        self,
        spec: MethodSpec[Any],
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
        spec: MethodSpec[Any],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None,
    ) -> SyncPager[Any, Any]:
        unpaged, first, with_token = _page_request(spec, params, body)

        def fetch(token: str | None) -> Any:
            page_params, page_body = with_token(token)
            return self._invoke(unpaged, page_params, page_body, options, extras)

        assert spec.pagination is not None
        return SyncPager(fetch, spec.pagination.items_field, first)

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
                response = self._http.send(request, stream=True)
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


class AsyncClientBase(_ClientBase[httpx.AsyncClient]):
    """Base of every generated ``AsyncClient``."""

    _http_class = httpx.AsyncClient

    async def close(self) -> None:
        if self._owns_http and self._http_client is not None:
            await self._http_client.aclose()
        self._auth.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _pager(
        self,
        spec: MethodSpec[Any],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None,
    ) -> AsyncPager[Any, Any]:
        unpaged, first, with_token = _page_request(spec, params, body)

        async def fetch(token: str | None) -> Any:
            page_params, page_body = with_token(token)
            return await self._invoke(unpaged, page_params, page_body, options, extras)

        assert spec.pagination is not None
        return AsyncPager(fetch, spec.pagination.items_field, first)

    async def _invoke(
        self,
        spec: MethodSpec[Any],
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
                response = await self._http.send(request, stream=True)
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


def _options(
    timeout: Timeout | NotGiven,
    extra_headers: Mapping[str, str] | None,
    extra_query: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
    media: Media | None,
    media_mime_type: str | None,
) -> RequestOptions:
    return RequestOptions(
        timeout, extra_headers or {}, extra_query or {}, extra_body or {}, media=media, media_mime_type=media_mime_type
    )


class SyncResource(_Resource[SyncClientBase]):
    """Base of generated sync resources: each generated method is one call of ``_request``
    or ``_paged``, typed by its spec so that no result is ``Any``."""

    def _request(
        self,
        spec: MethodSpec[ResultT],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
        media: Media | None = None,
        media_mime_type: str | None = None,
    ) -> ResultT:
        """The method's result; on a ``with_streaming_response`` twin, the open response
        (which the streaming wrappers type as such)."""
        options = _options(timeout, extra_headers, extra_query, extra_body, media, media_mime_type)
        return cast(ResultT, self._client._invoke(spec, params, body, options, extras, stream=self._stream))

    def _paged(
        self,
        spec: MethodSpec[PageT],
        pages: PageSpec[ItemT],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> SyncPager[PageT, ItemT]:
        """A pager over the pages of a list method; nothing is sent until it is iterated."""
        options = _options(timeout, extra_headers, extra_query, extra_body, None, None)
        return cast(SyncPager[PageT, ItemT], self._client._pager(spec, params, body, options, extras))


class AsyncResource(_Resource[AsyncClientBase]):
    """Base of generated async resources (see :class:`SyncResource`)."""

    async def _request(
        self,
        spec: MethodSpec[ResultT],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
        media: Media | None = None,
        media_mime_type: str | None = None,
    ) -> ResultT:
        options = _options(timeout, extra_headers, extra_query, extra_body, media, media_mime_type)
        return cast(ResultT, await self._client._invoke(spec, params, body, options, extras, stream=self._stream))

    def _paged(
        self,
        spec: MethodSpec[PageT],
        pages: PageSpec[ItemT],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> AsyncPager[PageT, ItemT]:
        options = _options(timeout, extra_headers, extra_query, extra_body, None, None)
        return cast(AsyncPager[PageT, ItemT], self._client._pager(spec, params, body, options, extras))
