"""The narrow port features built on the client (``read_area``) use instead of its internals.

A feature wraps its client in a :class:`ClientPort` (or :class:`AsyncClientPort`) and
asks it for five things: the client's limiter, cached metadata (and to keep what it
received another way), a method's result, and a method's streamed body consumed inside the
call's attempt loop, so that a body cut off
mid-stream is retried within the call's one retry budget and one deadline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from eerest._core.types import RequestOptions

if TYPE_CHECKING:
    from eerest._core.cancel import CancelScope
    from eerest._core.client import AsyncClientBase, SyncClientBase
    from eerest._core.limiter import Limiter
    from eerest._core.overlay import Fetch
    from eerest._core.spec import MethodSpec
    from eerest._core.streaming import AsyncStreamedResponse, StreamedResponse

__all__ = ["AsyncClientPort", "ClientPort"]

R = TypeVar("R")
_OPTIONS = RequestOptions()


class _PortBase:
    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def limiter(self) -> Limiter:
        """The limiter every request of the client passes through."""
        return self._client.limiter  # type: ignore[no-any-return]

    def remember(self, fetch: Fetch, result: Any) -> None:
        """Keep ``result`` as the client's cached answer to the metadata request ``fetch``,
        unless it has one: a feature that received the same message another way (an image
        of a listing is what ``assets.get`` returns for it) saves the request."""
        self._client._remember(fetch, result)

    def _spec(self, method: str) -> MethodSpec[Any]:
        specs = self._client._api.specs
        assert specs is not None, "a generated client names its methods (ApiInfo.resources)"
        return specs[method]  # type: ignore[no-any-return]


class ClientPort(_PortBase):
    """What a sync feature may ask of a sync client."""

    _client: SyncClientBase

    def lookup(self, fetch: Fetch) -> Any:
        """The result of a metadata request (cached by the client when ``fetch.cache``)."""
        return self._client._perform(fetch, self._client._new_deadline())

    def call(self, method: str, params: Mapping[str, Any], body: Mapping[str, Any] | None) -> Any:
        """The result of the method ``method`` (its id, e.g. ``projects.image.computePixels``)."""
        return self._client._invoke(self._spec(method), params, body, _OPTIONS)

    def warm(
        self,
        method: str,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        extras: Mapping[str, Any] | None,
    ) -> None:
        """Do what the method's first call does before it sends anything (import its
        messages, build the request, make the client's connection pool), sending nothing.
        Any problem is left for the call itself to raise."""
        with contextlib.suppress(Exception):
            self._client._build(self._spec(method), params, body, _OPTIONS, extras)
            self._client._exchange  # noqa: B018 (made on first access)

    def receive(
        self,
        method: str,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        extras: Mapping[str, Any] | None,
        consume: Callable[[StreamedResponse[Any]], R],
        stop: CancelScope | None = None,
    ) -> R:
        """``consume(response)`` of the method's open response, inside its attempt loop: a
        body that breaks off (``TruncatedBody``) is fetched again, counted with the call's
        other retries and within its deadline, and ``consume`` starts over."""
        spec = self._spec(method)
        return self._client._invoke(spec, params, body, _OPTIONS, extras, stop=stop, consume=consume)  # type: ignore[no-any-return]


class AsyncClientPort(_PortBase):
    """What an async feature may ask of an async client (see :class:`ClientPort`)."""

    _client: AsyncClientBase

    def blocking(self) -> ClientPort | None:
        """A sync port for work in threads, sharing this client's credentials, limiter and
        metadata cache (see ``AsyncClientBase._blocking_twin``); ``None`` when the client
        was given an ``http_client`` (only async calls can use its transport)."""
        twin = self._client._blocking_twin()
        return ClientPort(twin) if twin is not None else None

    async def lookup(self, fetch: Fetch) -> Any:
        return await self._client._perform(fetch, self._client._new_deadline())

    async def call(self, method: str, params: Mapping[str, Any], body: Mapping[str, Any] | None) -> Any:
        return await self._client._invoke(self._spec(method), params, body, _OPTIONS)

    async def receive(
        self,
        method: str,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        extras: Mapping[str, Any] | None,
        consume: Callable[[AsyncStreamedResponse[Any]], Awaitable[R]],
    ) -> R:
        spec = self._spec(method)
        return await self._client._invoke(spec, params, body, _OPTIONS, extras, consume=consume)  # type: ignore[no-any-return]
