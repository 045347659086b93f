"""Hostile servers and impossible requests, over real sockets: every case ends in a correct
result or a typed eerest error, with bounded memory and no credential in any message,
log or pickle; nothing leaves the API's path."""

from __future__ import annotations

import asyncio
import functools
import gzip
import io
import json
import logging
import pickle
import tracemalloc
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from google.oauth2.credentials import Credentials
from scripted_server import Reply, ScriptedServer

import eerest
from eerest._core import client as client_module
from eerest._core import exchange as exchange_module
from tests.client.helpers import EXPRESSION, async_client, client

TOKEN = "ya29.secret-token-that-must-never-leak-0123456789"
KINDS = ("sync", "async")
ASSET = "projects/p/assets/a"


def call(kind: str, url: str, fn: Callable[[Any], Any], **kw: Any) -> Any:
    """``fn(client)`` on a fresh sync or async v1 client with a bearer token."""
    kw.setdefault("credentials", Credentials(token=TOKEN))
    if kind == "sync":
        with client("v1", url, **kw) as c:
            return fn(c)

    async def main() -> Any:
        async with async_client("v1", url, **kw) as c:
            return await fn(c)

    return asyncio.run(main())


def get_asset(c: Any) -> Any:
    return c.projects.assets.get(name=ASSET)


def compute_npy(c: Any, **kw: Any) -> Any:
    return c.projects.image.compute_pixels(expression=EXPRESSION, file_format="NPY", **kw)


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(exchange_module.time, "sleep", slept.append)
    monkeypatch.setattr(exchange_module, "_async_sleep", asleep)
    return slept


# -- every failure is typed --------------------------------------------------------------------

HOSTILE: dict[str, tuple[Reply, type[Exception], str]] = {
    "announces 1 GiB, sends 160 bytes": (
        Reply(b"x" * 160, content_length=1 << 30),
        eerest.ResponseDecodeError,
        "announces 1073741824 bytes",
    ),
    "announces 50 MiB, sends 160 bytes": (
        Reply(b"{" + b" " * 159, content_length=50 << 20),
        eerest.ResponseDecodeError,
        "after 160 bytes",
    ),
    "announces 2**70 bytes": (Reply(b"{}", content_length=1 << 70), eerest.APIError, ""),
    "deeply nested JSON": (Reply(nested(100_000)), eerest.ResponseDecodeError, "nested too deeply"),
    "deeply nested error": (Reply(nested(100_000), status=400), eerest.BadRequestError, ""),
    "claims gzip, is not": (
        Reply(b"not gzip at all", headers={"content-encoding": "gzip"}),
        eerest.ResponseDecodeError,
        "decompress",
    ),
    "unasked-for brotli": (Reply(b"abc", headers={"content-encoding": "br"}), eerest.ResponseDecodeError, "'br'"),
    "redirect": (Reply(b"", status=302, headers={"location": "http://elsewhere/"}), eerest.APIStatusError, "redirect"),
    "empty 200": (Reply(b""), eerest.ResponseDecodeError, "empty body"),
    "204 no content": (Reply(b"", status=204), eerest.ResponseDecodeError, "empty body"),
    "JSON list": (Reply(b"[1, 2]"), eerest.ResponseDecodeError, "does not match"),
    "JSON with invalid UTF-8": (Reply(b'{"name": "\xff\xfe"}'), eerest.ResponseDecodeError, "not valid JSON"),
    "wrong field types": (Reply(b'{"bands": "many"}'), eerest.ResponseDecodeError, "does not match"),
    "not HTTP": (Reply(raw=b"SSH-2.0-OpenSSH\r\n\r\n"), eerest.APIConnectionError, ""),
    "status line only": (Reply(raw=b"HTTP/1.1 200 OK\r\n"), eerest.APIConnectionError, ""),
    "bad header line": (Reply(raw=b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n{}"), eerest.APIConnectionError, ""),
    "cut mid-body": (Reply(b'{"name": "' + b"x" * 5000 + b'"}', cut_after=100), eerest.ResponseDecodeError, "broke"),
    "longer than announced": (Reply(b'{"name": "abc"}', content_length=3), eerest.ResponseDecodeError, ""),
    "negative length": (Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}"), eerest.APIConnectionError, ""),
    "error echoes the token": (
        Reply(
            json.dumps(
                {
                    "error": {
                        "code": 403,
                        "message": f"bad token {TOKEN}",
                        "status": "PERMISSION_DENIED",
                        "details": [{"echo": f"Bearer {TOKEN}"}],
                    }
                }
            ).encode(),
            status=403,
        ),
        eerest.PermissionDeniedError,
        "[REDACTED]",
    ),
    "error status of another type": (
        Reply(b'{"error": {"code": 400, "message": ["x"], "status": 7, "details": "no"}}', status=400),
        eerest.BadRequestError,
        "",
    ),
    "error body on a 200": (
        Reply(b'{"error": {"code": 400, "message": "Asset not ready.", "status": "FAILED_PRECONDITION"}}'),
        eerest.ResponseDecodeError,
        "Asset not ready.",
    ),
    "HTTP 600": (Reply(raw=b"HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\n{}"), eerest.APIError, ""),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_json_answer_is_a_typed_error(case: str, kind: str, server: ScriptedServer) -> None:
    reply, expected, match = HOSTILE[case]
    server.default = reply
    with pytest.raises(eerest.EERestError) as info:
        call(kind, server.url, get_asset).to_dict()  # responses convert lazily: to_dict reads every field
    err = info.value
    assert isinstance(err, expected), repr(err)
    assert match in str(err)
    assert TOKEN not in str(err) and TOKEN not in repr(err)
    restored = pickle.loads(pickle.dumps(err))
    assert type(restored) is type(err) and str(restored) == str(err)
    assert TOKEN.encode() not in pickle.dumps(err)


def test_preallocation_is_bounded_by_what_arrives(server: ScriptedServer) -> None:
    server.default = Reply(b"{" + b" " * 159, content_length=100 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(eerest.ResponseDecodeError):
            call("sync", server.url, get_asset)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


@functools.cache
def _gzip_bomb() -> bytes:
    """64 MiB of JSON in 64 KiB of gzip (compressed once: that takes a third of a second)."""
    return gzip.compress(b'{"name": "' + b" " * (64 << 20) + b'"}', compresslevel=9)


@pytest.mark.parametrize("kind", KINDS)
def test_gzip_bomb_is_refused_at_the_cap(kind: str, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange_module, "MAX_JSON_BYTES", 4 << 20)
    server.default = Reply(_gzip_bomb(), headers={"content-encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(eerest.ResponseDecodeError, match="exceeds 4194304 bytes"):
            call(kind, server.url, get_asset)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20


@pytest.mark.parametrize("kind", KINDS)
def test_gzip_json_is_decoded(kind: str, server: ScriptedServer) -> None:
    server.default = Reply(
        gzip.compress(b'{"name": "projects/p/assets/a"}'),
        headers={"content-encoding": "gzip"},
        content_type="application/json",
    )
    assert call(kind, server.url, get_asset).name == ASSET
    assert server.requests[0].headers["accept-encoding"] == "gzip"


@pytest.mark.parametrize("kind", KINDS)
def test_pixel_body_larger_than_the_request_can_produce(kind: str, server: ScriptedServer) -> None:
    body = io.BytesIO()
    np.save(body, np.zeros((4, 4), dtype=[("a", "<f4")]))
    server.default = Reply(body.getvalue(), content_length=len(body.getvalue()) + 1)
    grid = {"dimensions": {"width": 4, "height": 4}}
    with pytest.raises(eerest.ResponseDecodeError, match="more than the"):
        call(kind, server.url, lambda c: compute_npy(c, grid=grid, band_ids=["a"], band_dtypes=["float32"]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("array", "kw", "match"),
    [
        (np.zeros((4, 4), dtype=[("a", "<f4")]), {"band_ids": ["b"]}, r"bands are \['a'\]"),
        (np.zeros((4, 5), dtype=[("a", "<f4")]), {}, "shape"),
        (np.zeros((4, 4), dtype=[("a", "<i4")]), {"band_dtypes": ["float32"]}, "expects float32"),
        (np.zeros((4, 4), dtype=[("a", "<f4"), ("b", "<f4")]), {"band_ids": ["a"]}, "2 band"),
    ],
)
def test_npy_answer_must_match_the_request(kind: str, array: Any, kw: Any, match: str, server: ScriptedServer) -> None:
    body = io.BytesIO()
    np.save(body, array)
    server.default = Reply(body.getvalue())
    with pytest.raises(eerest.ResponseDecodeError, match=match):
        call(kind, server.url, lambda c: compute_npy(c, grid={"dimensions": {"width": 4, "height": 4}}, **kw))


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_200_is_retried(kind: str, server: ScriptedServer, no_sleep: list[float]) -> None:
    good = json.dumps({"name": ASSET, "id": "x" * 4000}).encode()
    server.reply(body=good, cut_after=50)
    server.reply(body=good, content_length=len(good) + 10)
    server.reply(body=good)
    assert call(kind, server.url, get_asset, max_retries=2).name == ASSET
    assert len(server.requests) == 3 and len(no_sleep) == 2


def test_truncated_200_exhausts_the_same_budget(server: ScriptedServer, no_sleep: list[float]) -> None:
    server.default = Reply(b'{"name": "' + b"x" * 4000 + b'"}', cut_after=50)
    with pytest.raises(eerest.ResponseDecodeError, match="incomplete"):
        call("sync", server.url, get_asset, max_retries=1)
    assert len(server.requests) == 2


@pytest.mark.parametrize("value", ["NaN", "inf", "-1", "1e400", "Wed, 99 Foo 2015 07:28:00 GMT", "\x00"])
def test_odd_retry_after_falls_back_to_backoff(value: str, server: ScriptedServer, no_sleep: list[float]) -> None:
    server.reply(body=b'{"error": {}}', status=503, headers={"retry-after": value})
    server.reply(body=b"{}")
    call("sync", server.url, get_asset, max_retries=1)
    assert len(no_sleep) == 1 and 0 <= no_sleep[0] <= 1.0


# -- the deadline ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_deadline_stops_a_trickling_body(kind: str, server: ScriptedServer) -> None:
    server.default = Reply(b'{"name": "' + b"x" * 200 + b'"}', trickle=0.02)
    with pytest.raises(eerest.APITimeoutError, match="deadline"):
        call(kind, server.url, get_asset, deadline=0.3, timeout=5)


@pytest.mark.parametrize("kind", KINDS)
def test_deadline_covers_retries(kind: str, server: ScriptedServer) -> None:
    server.default = Reply(b'{"error": {}}', status=503, headers={"retry-after": "30"})
    with pytest.raises(eerest.InternalServerError):
        call(kind, server.url, get_asset, deadline=1.0, max_retries=5)
    assert len(server.requests) == 1  # a 30 s wait does not fit in the deadline


def test_with_options_changes_the_deadline_only_for_its_calls(server: ScriptedServer) -> None:
    server.default = Reply(b'{"name": "' + b"x" * 100 + b'"}', trickle=0.02)
    with client("v1", server.url, credentials=Credentials(token=TOKEN)) as c:
        quick = c.with_options(deadline=0.2)
        with pytest.raises(eerest.APITimeoutError):
            quick.projects.assets.get(name=ASSET)
        assert c.deadline == client_module.DEFAULT_DEADLINE and quick.deadline == 0.2
        assert quick.projects._client is quick


# -- pagers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_repeated_page_token_stops(kind: str, server: ScriptedServer) -> None:
    server.reply(json_body={"images": [{"name": "a"}], "nextPageToken": "t1"})
    server.reply(json_body={"images": [{"name": "b"}], "nextPageToken": "t2"})
    server.default = Reply(json.dumps({"images": [{"name": "c"}], "nextPageToken": "t1"}).encode())

    def walk(c: Any) -> Any:
        pager = c.projects.image_collection.compute_images(expression=EXPRESSION)
        if kind == "sync":
            return [i.name for i in pager]

        async def collect() -> list[str]:
            return [i.name async for i in pager]

        return collect()

    with pytest.raises(eerest.PaginationError, match="'t1' a second time"):
        call(kind, server.url, walk)
    assert len(server.requests) == 3


def test_max_pages(server: ScriptedServer) -> None:
    for i in range(5):
        server.reply(json_body={"images": [{"name": str(i)}], "nextPageToken": f"t{i}"})
    with client("v1", server.url) as c:
        pager = c.projects.image_collection.compute_images(expression=EXPRESSION)
        pager.max_pages = 3
        with pytest.raises(eerest.PaginationError, match="max_pages=3"):
            list(pager)
    assert len(server.requests) == 3


# -- refused before sending ------------------------------------------------------------------

ESCAPES = [
    "projects/p/assets/../../../../etc/passwd",
    "projects/p/assets/..",
    "projects/p/assets/./a",
    "../x",
    "..",
    "projects/p/assets/a\\..\\..\\x",
    "projects/p/assets/%2e%2e/x",
    "projects/p/assets/.%2E/x",
    "projects/p/assets/a\r\nHost: evil",
    "projects/p/assets/a\x00",
    "",
    "projects/p/assets/\ud800",
]


@pytest.mark.parametrize("name", ESCAPES)
def test_path_escapes_are_refused_before_sending(name: str, server: ScriptedServer) -> None:
    with client("v1", server.url) as c, pytest.raises(eerest.InvalidRequestError):
        c.projects.assets.get(name=name)
    assert server.requests == []


@pytest.mark.parametrize("project", ["..", ".", "p/../..", "p/.."])
def test_project_escapes_are_refused(project: str, server: ScriptedServer) -> None:
    with client("v1", server.url) as c, pytest.raises(eerest.InvalidRequestError):
        c.projects.image_collection.compute_images(project=project, expression=EXPRESSION).pages.__next__()
    assert server.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        {"x-a": "v\r\nInjected: 1"},
        {"x-a": "v\n"},
        {"bad name": "v"},
        {"x-a\r\n": "v"},
        {"x-a": "caf\u00e9"},
        {"x-a": "\ud800"},
        {"": "v"},
        {"x-a": 5},
    ],
)
def test_invalid_headers_are_refused_before_sending(
    headers: Any, server: ScriptedServer, no_sleep: list[float]
) -> None:
    with client("v1", server.url, max_retries=3) as c, pytest.raises(eerest.InvalidRequestError):
        c.projects.assets.get(name=ASSET, extra_headers=headers)
    assert server.requests == [] and no_sleep == []


@pytest.mark.parametrize("extra", [{"bad": float("nan")}, {"bad": float("inf")}, {"bad": "\ud800"}, {"bad": object()}])
def test_unencodable_bodies_are_refused(extra: Any, server: ScriptedServer) -> None:
    with client("v1", server.url) as c, pytest.raises(eerest.InvalidRequestError):
        c.projects.image.compute_pixels(expression=EXPRESSION, extra_body=extra)
    assert server.requests == []


def test_query_values_that_cannot_be_encoded(server: ScriptedServer) -> None:
    with client("v1", server.url) as c, pytest.raises(eerest.InvalidRequestError):
        c.projects.assets.get(name=ASSET, extra_query={"q": "\ud800"})
    assert server.requests == []


# -- credentials never leak ------------------------------------------------------------------


def test_error_pickles_without_credentials(server: ScriptedServer) -> None:
    server.default = Reply(
        json.dumps(
            {
                "error": {
                    "code": 404,
                    "message": "no such asset",
                    "status": "NOT_FOUND",
                    "details": [{"@type": "x", "reason": "gone"}],
                }
            }
        ).encode(),
        status=404,
    )
    with pytest.raises(eerest.NotFoundError) as info:
        call("sync", server.url, get_asset)
    err = info.value
    # The request stays on the error for debugging, its credential blanked once it was sent:
    # exceptions travel (logs, dask's tblib pickling of __cause__ chains) where a token must not.
    assert err.request is not None and err.request.headers["authorization"] == "[redacted]"
    data = pickle.dumps(err)
    assert TOKEN.encode() not in data and b"authorization" not in data.lower()
    back = pickle.loads(data)
    assert type(back) is eerest.NotFoundError
    assert (back.status_code, back.status, back.message, back.details) == (
        404,
        "NOT_FOUND",
        "no such asset",
        [{"@type": "x", "reason": "gone"}],
    )
    assert back.request is None and back.response is None and str(back) == str(err)


def test_request_limit_error_pickles() -> None:
    err = eerest.RequestLimitError("too big", size=10, limit=5, unit="bytes", suggested_tile=(2, 2))
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), back.size, back.limit, back.unit, back.suggested_tile, str(back)) == (
        eerest.RequestLimitError,
        10,
        5,
        "bytes",
        (2, 2),
        "too big",
    )


def test_no_token_in_logs(server: ScriptedServer, caplog: pytest.LogCaptureFixture, no_sleep: list[float]) -> None:
    server.reply(body=b'{"error": {}}', status=503)
    server.reply(body=b"{}")
    with caplog.at_level(logging.DEBUG):
        call("sync", server.url, get_asset, max_retries=1)
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)


def test_failing_credentials_are_a_typed_error(server: ScriptedServer) -> None:
    class Broken(Credentials):
        @property
        def valid(self) -> bool:
            return False

        def refresh(self, request: Any) -> None:
            import google.auth.exceptions

            raise google.auth.exceptions.RefreshError("token endpoint said no")

    with pytest.raises(eerest.CredentialsError, match="token endpoint said no"):
        call("sync", server.url, get_asset, credentials=Broken(token=None))
    assert server.requests == []


# -- large bodies: received straight into their buffer (eerest._core.socket_body) ------------------

BIG = np.arange(768 * 512, dtype="<f4").reshape(768, 512).view([("a", "<f4")])
BIG_GRID = {"dimensions": {"width": 512, "height": 768}}


def _big_body() -> bytes:
    out = io.BytesIO()
    np.save(out, BIG)
    return out.getvalue()


@pytest.fixture
def direct_reads(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    from eerest._core import body, socket_body

    seen: list[int | None] = []

    def spy(*args: Any) -> int | None:
        seen.append(socket_body.recv_body_into(*args))
        return seen[-1]

    monkeypatch.setattr(body, "recv_body_into", spy)
    return seen


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtypes", [None, ["float32"]])
def test_large_body_read_directly_and_connection_reused(
    kind: str, dtypes: Any, server: ScriptedServer, direct_reads: list[int | None]
) -> None:
    server.default = Reply(_big_body())

    def twice(c: Any) -> Any:
        kw = {"grid": BIG_GRID, "band_ids": ["a"], "band_dtypes": dtypes}
        if kind == "sync":
            return [compute_npy(c, **kw).to_numpy() for _ in range(2)]

        async def both() -> list[Any]:
            return [(await compute_npy(c, **kw)).to_numpy() for _ in range(2)]

        return both()

    for array in call(kind, server.url, twice):
        np.testing.assert_array_equal(array, BIG)
    assert direct_reads == ([len(_big_body())] * 2 if kind == "sync" else [])


@pytest.mark.parametrize("cut", [1 << 20, len(_big_body()) - 1])
def test_large_body_cut_is_retried(
    cut: int, server: ScriptedServer, no_sleep: list[float], direct_reads: list[int | None]
) -> None:
    server.reply(body=_big_body(), cut_after=cut)
    server.reply(body=_big_body())
    px = call("sync", server.url, lambda c: compute_npy(c, grid=BIG_GRID, band_ids=["a"]), max_retries=1)
    np.testing.assert_array_equal(px.to_numpy(), BIG)
    assert len(server.requests) == 2 and direct_reads[-1] == len(_big_body())  # the cut one raised


def test_large_body_shorter_than_announced(server: ScriptedServer, direct_reads: list[int | None]) -> None:
    body = _big_body()
    server.default = Reply(body[:-10], content_length=len(body))
    with pytest.raises(eerest.ResponseDecodeError, match="incomplete"):
        call("sync", server.url, lambda c: compute_npy(c, grid=BIG_GRID))


@pytest.mark.parametrize("kind", KINDS)
def test_a_closed_client_raises_a_typed_error(kind: str, server: ScriptedServer) -> None:
    def closed(c: Any) -> Any:
        if kind == "sync":
            c.projects.assets.get(name=ASSET)
            c.close()
            return c.projects.assets.get(name=ASSET)

        async def run() -> Any:
            await c.projects.assets.get(name=ASSET)
            await c.close()
            return await c.projects.assets.get(name=ASSET)

        return run()

    server.default = Reply(b'{"name": "projects/p/assets/a"}')
    with pytest.raises(eerest.InvalidRequestError, match="closed"):
        call(kind, server.url, closed)


@pytest.mark.parametrize("status", [200, 404])
def test_mock_transport_responses_already_read(status: int) -> None:
    """httpx reads a Response built with content= at once (MockTransport's): still one read."""

    def reply(request: httpx.Request) -> httpx.Response:
        body = {"name": ASSET} if status == 200 else {"error": {"code": 404, "message": "gone", "status": "NOT_FOUND"}}
        return httpx.Response(status, json=body)

    http = httpx.Client(transport=httpx.MockTransport(reply))
    with client("v1", "https://example.invalid", http_client=http) as c:
        if status == 200:
            assert c.projects.assets.get(name=ASSET).name == ASSET
        else:
            with pytest.raises(eerest.NotFoundError, match="gone"):
                c.projects.assets.get(name=ASSET)


def test_no_credentials_in_pickles_even_with_tblib(server: ScriptedServer) -> None:
    """dask's distributed installs tblib, which pickles __cause__/__context__ and tracebacks:
    eerest raises its errors unchained, so no httpx exception (holding the request) rides along."""
    tblib = pytest.importorskip("tblib.pickling_support")
    tblib.install()
    server.default = Reply(raw=b"SSH-2.0-OpenSSH\r\n\r\n")
    with pytest.raises(eerest.APIConnectionError) as info:
        call("sync", server.url, get_asset)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert TOKEN.encode() not in pickle.dumps(info.value)
