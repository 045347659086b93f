"""The httpx side of a client: default timeout and pool limits, the headers every request
carries, and the :class:`Sender` that builds and sends its requests. Imported by a client's
first request, not by constructing it: httpx (with its command line's dependencies, when
installed) costs tens of milliseconds."""

from __future__ import annotations

import datetime
import logging
import platform
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, cast

import httpx

from eerest._version import __version__

__all__ = [
    "DEFAULT_CONNECTION_LIMITS",
    "DEFAULT_TIMEOUT",
    "STATIC_HEADERS",
    "USE_CLIENT_DEFAULT",
    "Sender",
]

# Stainless clients (openai-python) wait up to 10 minutes for an answer and 5 s to
# connect; pixel computations can take minutes, so we keep the 10 minutes.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
DEFAULT_CONNECTION_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
USE_CLIENT_DEFAULT = httpx.USE_CLIENT_DEFAULT

_USER_AGENT = f"eerest/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
_API_CLIENT = f"gl-python/{platform.python_version()} eerest/{__version__} httpx/{httpx.__version__}"
# gzip only: eerest decodes it itself, with a cap on the decompressed size (_core/body.py).
STATIC_HEADERS = {"user-agent": _USER_AGENT, "x-goog-api-client": _API_CLIENT, "accept-encoding": "gzip"}

# httpx.Client.send logs every request here; requests sent straight to the transport too.
_httpx_log = logging.getLogger("httpx")

#: Parsed URLs a sender keeps (a client's calls go to a handful of URLs, e.g. one per
#: asset's ``getPixels``); beyond this many, the memo starts over.
_MAX_URLS = 1024


class Sender:
    """Builds a client's httpx requests and opens their responses.

    An httpx client that eerest made itself, with no proxy in the environment, has nothing
    for ``httpx.Client.build_request`` to merge or for ``send`` to apply (no auth, event
    hooks, redirects, cookies or proxy mounts): requests then go straight to its transport,
    which halves what a small call costs the client (``benchmarks/bench_small.py``). An
    httpx client passed in (or one that must use a proxy) gets everything httpx does."""

    def __init__(
        self,
        http: httpx.Client | httpx.AsyncClient,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] = STATIC_HEADERS,
    ) -> None:
        """``transport``: ``http``'s only transport, to send to directly (``None``: send
        through ``http``); ``headers``: what to add to every request's own."""
        self.http = http
        self._transport = transport
        self._headers = dict(headers)
        self._timeout = http.timeout.as_dict()
        self._urls: dict[str, httpx.URL] = {}

    @classmethod
    def own(cls, asynchronous: bool, timeout: float | httpx.Timeout | None, *, tls: bool = True) -> Sender:
        """A pool of eerest's own, holding the static headers and the default timeout.

        ``tls=False`` (a plain ``http://`` endpoint, e.g. an emulator) skips loading the CA
        bundle, 20-35 ms of a first request: its TLS context verifies against no CA at all,
        so an ``https://`` URL sent through it fails its handshake rather than going
        unverified."""
        direct = not _environment_proxies()  # else httpx mounts a proxy's transport for some URLs
        limits, headers = DEFAULT_CONNECTION_LIMITS, STATIC_HEADERS
        verify: ssl.SSLContext | bool = True if tls else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        http: httpx.Client | httpx.AsyncClient
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None
        if asynchronous:
            transport = atransport = httpx.AsyncHTTPTransport(limits=limits, verify=verify) if direct else None
            http = httpx.AsyncClient(timeout=timeout, limits=limits, headers=headers, transport=atransport)
        else:
            transport = stransport = httpx.HTTPTransport(limits=limits, verify=verify) if direct else None
            http = httpx.Client(timeout=timeout, limits=limits, headers=headers, transport=stransport)
        # sent directly, requests carry all of the client's headers; through it, httpx adds them
        return cls(http, transport, dict(http.headers.items()) if transport is not None else {})

    def url(self, url: str) -> httpx.URL:
        """``httpx.URL(url)``, parsed once per sender (httpx URLs are immutable)."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _MAX_URLS:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    def request(
        self,
        method: str,
        url: httpx.URL,
        *,
        params: tuple[tuple[str, str], ...] | None,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str],
        timeout: Any,
    ) -> httpx.Request:
        """The request, as ``http.build_request`` would make it; ``headers`` (lower-case
        names) override the client's, ``timeout`` may be ``USE_CLIENT_DEFAULT``."""
        headers = {**self._headers, **headers}
        if self._transport is None:
            return self.http.build_request(
                method, url, params=params, json=json, content=content, headers=headers, timeout=timeout
            )
        timeouts = dict(self._timeout) if timeout is USE_CLIENT_DEFAULT else httpx.Timeout(timeout).as_dict()
        return httpx.Request(
            method, url, params=params, json=json, content=content, headers=headers, extensions={"timeout": timeouts}
        )

    def open(self, request: httpx.Request) -> httpx.Response:
        """``http.send(request, stream=True)``: the response, its body not read yet."""
        if self._transport is None:
            return self.http.send(request, stream=True)  # type: ignore[return-value]
        if self.http.is_closed:  # as httpx says it
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        start = time.perf_counter()
        response = cast(httpx.BaseTransport, self._transport).handle_request(request)
        response.request = request
        response.stream = _TimedStream(response.stream, response, start)
        _log(request, response)
        return response

    async def aopen(self, request: httpx.Request) -> httpx.Response:
        """As :meth:`open`, for an ``httpx.AsyncClient``."""
        if self._transport is None:
            return await self.http.send(request, stream=True)  # type: ignore[no-any-return,misc]
        if self.http.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        start = time.perf_counter()
        response = await cast(httpx.AsyncBaseTransport, self._transport).handle_async_request(request)
        response.request = request
        response.stream = _AsyncTimedStream(response.stream, response, start)
        _log(request, response)
        return response


def _log(request: httpx.Request, response: httpx.Response) -> None:
    """The line ``httpx.Client.send`` logs for each request."""
    if _httpx_log.isEnabledFor(logging.INFO):
        _httpx_log.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )


class _TimedStream(httpx.SyncByteStream):
    """A transport's response body that sets ``response.elapsed`` when closed, as
    ``httpx.Client.send`` arranges (the wrapped stream is ``_stream``, as there)."""

    def __init__(self, stream: Any, response: httpx.Response, start: float) -> None:
        self._stream = stream
        self._response = response
        self._start = start

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        self._response.elapsed = datetime.timedelta(seconds=time.perf_counter() - self._start)
        self._stream.close()


class _AsyncTimedStream(httpx.AsyncByteStream):
    """As :class:`_TimedStream`, for an async transport's body."""

    def __init__(self, stream: Any, response: httpx.Response, start: float) -> None:
        self._stream = stream
        self._response = response
        self._start = start

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        self._response.elapsed = datetime.timedelta(seconds=time.perf_counter() - self._start)
        await self._stream.aclose()


def _environment_proxies() -> bool:
    """Whether httpx would route some requests through a proxy from the environment
    (``HTTPS_PROXY`` and the like, read as httpx reads them)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))
