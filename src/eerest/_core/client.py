"""The clients every generated version builds on: configuration, pure decisions and the
retry loops (sync or async); one HTTP exchange is ``_core/exchange.py``.

Constructing a client imports none of httpx, pydantic or google-auth: the first request
imports ``exchange`` (and with it those), so ``import eerest; eerest.Client(...)`` stays a
fraction of ``import ee``."""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import threading
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from eerest._core.auth import Auth
from eerest._core.deadline import Deadline
from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_REQUESTS_PER_SECOND, Limiter
from eerest._core.overlay import Fetch
from eerest._core.pagination import AsyncPager, SyncPager
from eerest._core.retry import RetryPolicy
from eerest._core.spec import ApiInfo, ItemT, MethodSpec, PageSpec, ResultT
from eerest._core.types import NOT_GIVEN, Media, NotGiven, RequestOptions, Timeout
from eerest.errors import InvalidRequestError

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop

    import google.auth.credentials
    import httpx

    from eerest._core.call import Call
    from eerest._core.cancel import CancelScope
    from eerest._core.exchange import AsyncConsume, AsyncExchange, Consume, Exchange
    from eerest._core.transport import Sender

__all__ = [
    "ACCESS_TOKEN_ENV",
    "BASE_URL_ENV",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RETRIES",
    "SyncClientBase",
    "AsyncClientBase",
    "SyncResource",
    "AsyncResource",
]


# See eerest._core.retry for why (a server restart of a few seconds rides through).
DEFAULT_MAX_RETRIES = 5
# The whole call (every attempt, backoff and body read) ends within this many seconds.
DEFAULT_DEADLINE = 1800.0


def resolve_project(
    project: str | None, credentials: google.auth.credentials.Credentials | None, scopes: tuple[str, ...]
) -> tuple[str | None, google.auth.credentials.Credentials | None]:
    """The ``projects/...`` name to use, and the credentials if finding it loaded them."""
    if not project:
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or None
    if not project and credentials is not None:
        project = getattr(credentials, "project_id", None) or None
    if not project and credentials is None:
        import google.auth
        import google.auth.exceptions

        try:
            credentials, project = google.auth.default(scopes=scopes)
        except google.auth.exceptions.DefaultCredentialsError:
            credentials, project = None, None
    if project and not project.startswith("projects/"):
        project = "projects/" + project
    return project, credentials


#: Environment variables a client reads when the matching argument is not given: the
#: endpoint (e.g. an emulator's URL) and a static bearer token (the CLI reads the same).
BASE_URL_ENV = "EEREST_BASE_URL"
ACCESS_TOKEN_ENV = "EEREST_ACCESS_TOKEN"


def _credentials_or_env(credentials: Any) -> Any:
    """``credentials`` checked, or a bearer token from ``EEREST_ACCESS_TOKEN`` when none is given."""
    if credentials is None:
        token = os.environ.get(ACCESS_TOKEN_ENV, "").strip()
        if not token:
            return None
        from eerest._core.auth import BearerToken

        return BearerToken(token)
    if not (callable(getattr(credentials, "before_request", None)) and callable(getattr(credentials, "refresh", None))):
        hint = (
            "; for a bearer token pass google.oauth2.credentials.Credentials(token=...) or set "
            f"{ACCESS_TOKEN_ENV}"
            if isinstance(credentials, (str, bytes))
            else ""
        )
        raise InvalidRequestError(
            f"credentials must be google.auth credentials (google.auth.default(), a service account's, ...), "
            f"not {type(credentials).__name__}{hint}"
        )
    return credentials


HttpT = TypeVar("HttpT", "httpx.Client", "httpx.AsyncClient")
PageT = TypeVar("PageT")
ClientSelf = TypeVar("ClientSelf", bound="_ClientBase[Any]")


class _ClientBase(Generic[HttpT]):
    """Configuration and pure decisions shared by the sync and async clients."""

    _api: ClassVar[ApiInfo]
    _asynchronous: ClassVar[bool]

    def __init__(
        self,
        project: str | None = None,
        *,
        credentials: google.auth.credentials.Credentials | None = None,
        base_url: str | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        quota_project: str | None = None,
        http_client: HttpT | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
    ) -> None:
        """``max_concurrency`` caps this client's requests in flight and
        ``max_requests_per_second`` their rate (``None``: no cap), for every call made
        through it from any thread or task; see :attr:`limiter`."""
        self._limiter = Limiter(max_concurrency, max_requests_per_second)
        credentials = _credentials_or_env(credentials)
        self.project, credentials = resolve_project(project, credentials, self._api.scopes)
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or self._api.base_url).rstrip("/")
        self._timeout = timeout  # NOT_GIVEN: transport.DEFAULT_TIMEOUT, made with the pool
        self.deadline = deadline
        self.max_retries = max_retries
        self._retry = RetryPolicy(max_retries=max_retries)
        self._auth = Auth(credentials, scopes=self._api.scopes, quota_project=quota_project)
        self._cache: dict[tuple[str, str], Any] = {}
        # metadata requests in flight, by cache key: concurrent lookups of the same asset share one
        self._flights: dict[tuple[str, str], Any] = {}
        self._flight_lock = threading.Lock()
        self._owns_http = http_client is None
        self._http_client: HttpT | None = http_client  # one passed in; eerest's own is its sender's
        self._sender_made: Sender | None = None
        self._exchange_made: Any = None  # the Exchange, made with the first request
        self._http_lock = threading.Lock()

    @property
    def timeout(self) -> Timeout:
        """Each request's timeout (default: 600 s, 10 s to connect)."""
        if isinstance(self._timeout, NotGiven):
            from eerest._core.transport import DEFAULT_TIMEOUT

            return DEFAULT_TIMEOUT
        return self._timeout

    @timeout.setter
    def timeout(self, value: Timeout) -> None:
        self._timeout = value

    @property
    def _http(self) -> HttpT:
        """The httpx client (see :attr:`_sender`)."""
        return cast(HttpT, self._sender.http)

    @property
    def _sender(self) -> Sender:
        """What builds and sends this client's requests, made by the first request: the
        httpx client's TLS set-up (the CA bundle) costs tens of milliseconds that constructing
        an eerest client should not. Made once under a lock, so that threads starting together
        (``read_area``'s workers) share one pool."""
        sender = self._sender_made
        if sender is None:
            with self._http_lock:
                sender = self._sender_made
                if sender is None:
                    from eerest._core.transport import Sender

                    if self._http_client is None:
                        tls = not self.base_url.lower().startswith("http://")
                        sender = Sender.own(self._asynchronous, self.timeout, tls=tls)
                    else:
                        sender = Sender(self._http_client)
                    self._sender_made = sender
        return sender

    @property
    def limiter(self) -> Limiter:
        """The limiter every HTTP attempt of this client passes through (default: 16 in
        flight, 50 starts a second; a 429 lowers the concurrency for a while)."""
        return self._limiter

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project={self.project!r}, base_url={self.base_url!r}, api={self._api.id!r})"

    def with_options(
        self: ClientSelf,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> ClientSelf:
        """A copy of this client with other defaults, sharing its connections, credentials
        and cache: ``client.with_options(deadline=30).projects.assets.get(...)``."""
        other = copy.copy(self)
        for name in [k for k, v in other.__dict__.items() if isinstance(v, _Resource)]:
            del other.__dict__[name]  # cached resources are bound to the original client
        other._sender_made = self._sender  # shared, and closed by its owner only
        other._exchange_made = None  # remade with the copy's timeout and retries
        other._owns_http = False
        if not isinstance(timeout, NotGiven):
            other.timeout = timeout
        if not isinstance(deadline, NotGiven):
            other.deadline = deadline
        if not isinstance(max_retries, NotGiven):
            other.max_retries = max_retries
            other._retry = dataclasses.replace(self._retry, max_retries=max_retries)
        return other

    def _new_deadline(self) -> Deadline:
        return Deadline.after(self.deadline)

    def _build(
        self,
        spec: MethodSpec[Any],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None,
    ) -> Call:
        from eerest._core.call import build_call

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

    def _remember(self, fetch: Fetch, result: Any) -> None:
        """Keep ``result`` as the answer to the cached metadata request ``fetch``, unless one
        is kept already: a feature that received the same message another way (an image of a
        ``computeImages`` listing is the ``EarthEngineAsset`` that ``assets.get`` returns)
        saves the request an overlay would otherwise make for it."""
        key, _ = self._fetch_call(fetch)
        self._cache.setdefault(key, result)

    def _fetch_call(self, fetch: Fetch) -> tuple[tuple[str, str], Call]:
        assert self._api.specs is not None
        spec = self._api.specs[fetch.method]
        call = self._build(spec, fetch.args, None, RequestOptions(), None)
        return (spec.id, call.path + "?" + repr(call.query)), call

    def _exchange_args(self) -> dict[str, Any]:
        return {
            "auth": self._auth,
            "limiter": self._limiter,
            "sender": self._sender,
            "timeout": self.timeout,
            "owns_http": self._owns_http,
            "retry": self._retry,
        }

    def _current_exchange(self, made: Any) -> bool:
        """Whether ``made`` still sends as this client is configured (its sender may have been
        remade with a new event loop)."""
        return made is not None and made.sender is self._sender and made.retry is self._retry


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
        return cast("Call", stop.value)


class SyncClientBase(_ClientBase["httpx.Client"]):
    """Base of every generated ``Client``."""

    _asynchronous = False

    def close(self) -> None:
        """Close the connections this client opened (not an ``http_client`` passed in), and
        end its limiter's helper threads (see :meth:`Limiter.close`)."""
        if self._owns_http and self._sender_made is not None:
            self._http.close()
        self._auth.close()
        self._limiter.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _exchange(self) -> Exchange:
        """The send path (see :mod:`eerest._core.exchange`), made by the first request."""
        made = self._exchange_made
        if not self._current_exchange(made):
            from eerest._core.exchange import Exchange

            made = self._exchange_made = Exchange(self._api, self.base_url, **self._exchange_args())
        return cast("Exchange", made)

    def _invoke(
        self,
        spec: MethodSpec[Any],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
        stop: CancelScope | None = None,
        consume: Consume[Any] | None = None,
    ) -> Any:
        call = self._build(spec, params, body, options, extras)
        deadline = self._new_deadline()
        if spec.overlay is not None:
            call = _drive(spec.overlay.prepare(call), functools.partial(self._perform, deadline=deadline))
        return self._exchange.send(call, deadline, stream=stream, stop=stop, consume=consume)

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

    def _perform(self, fetch: Fetch, deadline: Deadline) -> Any:
        """A metadata request's result; cached ones are sent once however many threads ask
        at the same time (single flight: the others wait for the first one's answer)."""
        key, call = self._fetch_call(fetch)
        if not fetch.cache:
            return self._exchange.send(call, deadline)
        if key in self._cache:
            return self._cache[key]
        with self._flight_lock:
            if key in self._cache:
                return self._cache[key]
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                import concurrent.futures

                flight = self._flights[key] = concurrent.futures.Future()
        assert flight is not None
        if not leader:
            return _await_flight(flight, call, deadline)
        try:
            result = self._exchange.send(call, deadline)
        except BaseException as exc:
            with self._flight_lock:
                self._flights.pop(key, None)
            flight.set_exception(exc)
            raise
        with self._flight_lock:
            self._cache[key] = result
            self._flights.pop(key, None)
        flight.set_result(result)
        return result


class AsyncClientBase(_ClientBase["httpx.AsyncClient"]):
    """Base of every generated ``AsyncClient``."""

    _asynchronous = True
    _http_loop: AbstractEventLoop | None = None
    _twin: SyncClientBase | None = None

    @property
    def _sender(self) -> Sender:
        """The base's lazily made sender, remade when the event loop its httpx client was
        made in has closed (its pooled connections died with it): one client serves
        successive ``asyncio.run`` calls, as its limiter does."""
        if self._owns_http and self._http_loop is not None and self._http_loop.is_closed():
            self._sender_made = None
        if self._sender_made is None:
            from asyncio import get_running_loop  # not at the top: sync clients never need asyncio

            try:
                self._http_loop = get_running_loop()
            except RuntimeError:  # made outside a loop (e.g. by with_options)
                self._http_loop = None
        return _ClientBase._sender.fget(self)  # type: ignore[attr-defined,no-any-return]

    async def close(self) -> None:
        stale = self._http_loop is not None and self._http_loop.is_closed()  # its connections died with it
        if self._owns_http and self._sender_made is not None and not stale:
            await self._http.aclose()
        twin, self._twin = self._twin, None
        if twin is not None:
            twin.close()
        self._auth.close()
        self._limiter.close()

    def _blocking_twin(self) -> SyncClientBase | None:
        """A sync client for blocking work in threads (bulk body reads, off the event loop):
        it shares this client's credentials, limiter, metadata cache and settings, and has a
        pool of its own, closed with this client. ``None`` for a client given an
        ``http_client``, whose transport (proxies, mounts, mocks) only async calls can use."""
        if not self._owns_http:
            return None
        twin = self._twin
        if twin is None:
            with self._http_lock:
                twin = self._twin
                if twin is None:
                    made: Any = object.__new__(_sync_twin_class(self._api))
                    made.__dict__.update(self.__dict__)
                    for name in [k for k, v in made.__dict__.items() if isinstance(v, _Resource)]:
                        del made.__dict__[name]
                    made._sender_made = None
                    made._exchange_made = None
                    made._http_lock = threading.Lock()
                    made._flights, made._flight_lock = {}, threading.Lock()  # sync futures only; the cache is shared
                    made.__dict__.pop("_twin", None)
                    made.__dict__.pop("_http_loop", None)
                    self._twin = twin = made
        return twin

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

    @property
    def _exchange(self) -> AsyncExchange:
        """As the sync client's ``_exchange``."""
        made = self._exchange_made
        if not self._current_exchange(made):
            from eerest._core.exchange import AsyncExchange

            made = self._exchange_made = AsyncExchange(self._api, self.base_url, **self._exchange_args())
        return cast("AsyncExchange", made)

    async def _invoke(
        self,
        spec: MethodSpec[Any],
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        options: RequestOptions,
        extras: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
        consume: AsyncConsume[Any] | None = None,
    ) -> Any:
        call = self._build(spec, params, body, options, extras)
        deadline = self._new_deadline()
        if spec.overlay is not None:
            gen = spec.overlay.prepare(call)
            try:
                need = next(gen)
                while True:
                    need = gen.send(await self._perform(need, deadline))
            except StopIteration as stop:
                call = stop.value
        return await self._exchange.send(call, deadline, stream=stream, consume=consume)

    async def _perform(self, fetch: Fetch, deadline: Deadline) -> Any:
        """As the sync client's: concurrent tasks (of one event loop) share one request."""
        key, call = self._fetch_call(fetch)
        if not fetch.cache:
            return await self._exchange.send(call, deadline)
        if key in self._cache:
            return self._cache[key]
        from asyncio import get_running_loop

        loop = get_running_loop()
        found = self._flights.get(key)
        if found is not None and found[0] is loop:
            return await _await_async_flight(found[1], call, deadline)
        flight = loop.create_future()
        self._flights[key] = (loop, flight)
        try:
            result = await self._exchange.send(call, deadline)
        except BaseException as exc:
            if self._flights.get(key, (None, None))[1] is flight:
                del self._flights[key]
            if not flight.done():
                flight.set_exception(exc)
                flight.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        self._cache[key] = result
        if self._flights.get(key, (None, None))[1] is flight:
            del self._flights[key]
        flight.set_result(result)
        return result


@functools.cache
def _sync_twin_class(api: ApiInfo) -> type[SyncClientBase]:
    """A sync client class of ``api`` (for :meth:`AsyncClientBase._blocking_twin`)."""
    return type("BlockingClient", (SyncClientBase,), {"_api": api, "__module__": __name__})


def _flight_timeout(call: Call, deadline: Deadline) -> Exception:
    from eerest.errors import APITimeoutError

    return APITimeoutError(
        f"{call.spec.id}: the call's deadline ({deadline.seconds} s) passed while waiting for the same request "
        "made by another thread or task; pass a larger deadline= or retry later"
    )


def _await_flight(flight: Any, call: Call, deadline: Deadline) -> Any:
    """The result of another thread's identical metadata request, within ``deadline``."""
    import concurrent.futures

    try:
        return flight.result(timeout=deadline.remaining())
    except concurrent.futures.TimeoutError:
        raise _flight_timeout(call, deadline) from None


async def _await_async_flight(flight: Any, call: Call, deadline: Deadline) -> Any:
    import asyncio

    try:
        return await asyncio.wait_for(asyncio.shield(flight), deadline.remaining())
    except asyncio.TimeoutError:
        raise _flight_timeout(call, deadline) from None


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
    if not (extra_headers or extra_query or extra_body or media is not None or media_mime_type) and isinstance(
        timeout, NotGiven
    ):
        return _NO_OPTIONS  # most calls: one shared (immutable) instance
    return RequestOptions(
        timeout, extra_headers or {}, extra_query or {}, extra_body or {}, media=media, media_mime_type=media_mime_type
    )


_NO_OPTIONS = RequestOptions()


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
