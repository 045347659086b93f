"""The deadline covers everything: a server trickling its headers or its body one byte at a
time (each byte well within the read timeout) cannot keep a call, a streamed call or a
``read_area`` alive past its deadline, sync or async. The only timing bound asserted is
"never more than a second past the deadline"."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from google.auth.credentials import AnonymousCredentials
from scripted_server import Reply, ScriptedServer

import eerest
from eerest._core.retry import RetryPolicy
from eerest.tiling import PixelGrid
from tests.client.helpers import EXPRESSION

DEADLINE = 0.5  # short: 16 calls here wait it out; the slack below is what the issue allows
SLACK = 1.0  # how far past its deadline a call may end
ASSET = "projects/p/assets/a"
BODY = b'{"name": "projects/p/assets/a", "id": "' + b"x" * 400 + b'"}'


def npy(arr: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, arr)
    return out.getvalue()


PIXELS = np.zeros((30, 40), [("a", "<f4")])
GRID = PixelGrid(40, 30, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32633")


def _kw(url: str) -> dict[str, Any]:
    # a read timeout far longer than the deadline: only the deadline can end the call
    return {"base_url": url, "credentials": AnonymousCredentials(), "deadline": DEADLINE, "timeout": 30.0}


def timed(kind: str, url: str, fn: Callable[[Any], Any]) -> float:
    """Seconds ``fn(client)`` took to raise the deadline's APITimeoutError (from the call,
    not counting the client's first imports)."""
    took: list[float] = []

    def run(c: Any) -> Any:
        start = time.monotonic()
        try:
            return fn(c)
        finally:
            took.append(time.monotonic() - start)

    async def arun(c: Any) -> Any:
        start = time.monotonic()
        try:
            return await fn(c)
        finally:
            took.append(time.monotonic() - start)

    with pytest.raises(eerest.APITimeoutError, match="deadline"):
        if kind == "sync":
            with eerest.Client("p", **_kw(url)) as c:
                try:
                    run(c)
                finally:
                    assert c.limiter.in_flight == 0
        else:

            async def main() -> None:
                async with eerest.AsyncClient("p", **_kw(url)) as c:
                    try:
                        await arun(c)
                    finally:
                        assert c.limiter.in_flight == 0

            asyncio.run(main())
    return took[0]


def plain(c: Any) -> Any:
    return c.projects.assets.get(name=ASSET)


def streamed(kind: str) -> Callable[[Any], Any]:
    if kind == "sync":

        def read(c: Any) -> Any:
            with c.projects.assets.with_streaming_response.get(name=ASSET) as r:
                return b"".join(r.iter_bytes())

        return read

    async def aread(c: Any) -> Any:
        async with c.projects.assets.with_streaming_response.get(name=ASSET) as r:
            return b"".join([chunk async for chunk in r.iter_bytes()])

    return aread


def streamed_read(kind: str) -> Callable[[Any], Any]:
    if kind == "sync":

        def read(c: Any) -> Any:
            with c.projects.assets.with_streaming_response.get(name=ASSET) as r:
                return r.read()

        return read

    async def aread(c: Any) -> Any:
        async with c.projects.assets.with_streaming_response.get(name=ASSET) as r:
            return await r.read()

    return aread


def area(c: Any) -> Any:
    return c.read_area(EXPRESSION, grid=GRID, band_ids=["a"], band_dtypes=["<f4"])


KINDS = ("sync", "async")
TRICKLES = {
    "headers": {"trickle_headers": 0.05},
    "body": {"trickle": 0.05},
}


@pytest.mark.parametrize("where", TRICKLES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_call_ends_with_its_deadline(server: ScriptedServer, kind: str, where: str) -> None:
    server.default = Reply(BODY, **TRICKLES[where])
    assert timed(kind, server.url, plain) < DEADLINE + SLACK


@pytest.mark.parametrize("where", TRICKLES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_streamed_call_ends_with_its_deadline(server: ScriptedServer, kind: str, where: str) -> None:
    server.default = Reply(BODY, **TRICKLES[where])
    assert timed(kind, server.url, streamed(kind)) < DEADLINE + SLACK


@pytest.mark.parametrize("kind", KINDS)
def test_reading_a_streamed_response_whole_ends_with_its_deadline(server: ScriptedServer, kind: str) -> None:
    server.default = Reply(BODY, trickle=0.05)
    assert timed(kind, server.url, streamed_read(kind)) < DEADLINE + SLACK


@pytest.mark.parametrize("where", TRICKLES)
@pytest.mark.parametrize("kind", KINDS)
def test_read_area_ends_with_its_deadline(server: ScriptedServer, kind: str, where: str) -> None:
    server.default = Reply(npy(PIXELS), **TRICKLES[where])
    assert timed(kind, server.url, area) < DEADLINE + SLACK


@pytest.mark.parametrize("kind", KINDS)
def test_the_deadline_covers_retries_after_trickled_answers(server: ScriptedServer, kind: str) -> None:
    """A retry after a cut body starts within the same deadline, which still ends the call."""
    server.reply(body=BODY, cut_after=10)
    server.default = Reply(BODY, trickle_headers=0.05)

    def fn(c: Any) -> Any:
        quick = c.with_options(max_retries=3)
        # a backoff that always fits the deadline (the default's first wait, 0.75-1 s, may not:
        # then the cut body is raised at once, which is right, but not what this test is about)
        quick._retry = RetryPolicy(max_retries=3, initial_delay=0.05)
        return plain(quick)

    assert timed(kind, server.url, fn) < DEADLINE + SLACK
    assert len(server.requests) >= 2  # the cut body was retried


def test_a_pooled_connection_is_not_shut_after_its_call(server: ScriptedServer) -> None:
    """The guard of a finished call is disarmed before its connection goes back to the pool:
    later calls on the same kept-alive connection, after the first call's deadline, work."""
    server.default = Reply(BODY)
    with eerest.Client("p", base_url=server.url, credentials=AnonymousCredentials(), deadline=0.2) as c:
        for _ in range(3):
            assert plain(c).name == ASSET
            time.sleep(0.25)
        assert plain(c).name == ASSET
