"""Replies that httpx has already read and closed (``httpx.MockTransport``) give their
limiter slot back at once: a client keeps working past ``max_concurrency`` calls."""

from __future__ import annotations

import asyncio

import httpx
from google.auth.credentials import AnonymousCredentials

import eerest

NAME = "projects/p/assets/x"


def _reply(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"name": NAME})


def test_sync_calls_past_the_concurrency_cap() -> None:
    http = httpx.Client(transport=httpx.MockTransport(_reply))
    with eerest.Client("p", credentials=AnonymousCredentials(), http_client=http, max_concurrency=2) as client:
        names = [client.projects.assets.get(name=NAME).name for _ in range(5)]
        assert client.limiter.in_flight == 0
    assert names == [NAME] * 5


def test_async_calls_past_the_concurrency_cap() -> None:
    async def main() -> tuple[list[str | None], int]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(_reply))
        async with eerest.AsyncClient("p", credentials=AnonymousCredentials(), http_client=http, max_concurrency=2) as c:
            names = [(await c.projects.assets.get(name=NAME)).name for _ in range(5)]
            return names, c.limiter.in_flight

    names, in_flight = asyncio.run(main())
    assert names == [NAME] * 5 and in_flight == 0
