"""Tiles received straight from the socket into their place (eerest._area.direct over
eerest._core.socket_body.DirectBody): the byte geometry, the socket reads and h11's bookkeeping,
and every broken body still ending in the typed error or retry it gets without the fast path."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from google.auth.credentials import AnonymousCredentials
from scripted_server import Reply, ScriptedServer

import eerest
from eerest._area import engine
from eerest._area.receive import batches, views_of_runs, window_runs
from eerest._core.retry import RetryPolicy
from eerest._core.socket_body import DirectBody
from eerest.tiling import PixelGrid, Window
from tests.client.helpers import EXPRESSION

DTYPE = np.dtype([("a", "<f4"), ("b", "<u2")])


@pytest.fixture
def direct(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The body sizes of the tile attempts that took the direct path."""
    seen: list[int] = []
    real = engine.receive_direct

    def spy(body: DirectBody, *args: Any) -> None:
        seen.append(body.remaining)
        real(body, *args)

    monkeypatch.setattr(engine, "receive_direct", spy)
    return seen


def pixels(width: int, height: int, col: int = 0, row: int = 0) -> np.ndarray:
    arr = np.empty((height, width), DTYPE)
    rows, cols = np.mgrid[row : row + height, col : col + width]
    arr["a"] = rows * 1000.0 + cols
    arr["b"] = (rows * 7 + cols * 3) % 65521
    return arr


def npy(arr: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, arr)
    return out.getvalue()


def grid(width: int, height: int) -> PixelGrid:
    return PixelGrid(width, height, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32633")


def read_area(url: str, width: int, height: int, retries: int = 0, **kw: Any) -> Any:
    with eerest.Client("p", base_url=url, credentials=AnonymousCredentials(), max_retries=retries) as c:
        c._retry = RetryPolicy(max_retries=retries, initial_delay=0.001)
        return c.read_area(EXPRESSION, grid=grid(width, height), band_ids=["a", "b"], band_dtypes=["<f4", "<u2"], **kw)


# -- where the bytes go ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_window_runs_are_the_windows_bytes_in_order(seed: int) -> None:
    rng = random.Random(seed)
    height, width = rng.randint(1, 40), rng.randint(1, 40)
    out = np.frombuffer(rng.randbytes(height * width * DTYPE.itemsize), DTYPE).reshape(height, width)
    col, row = rng.randrange(width), rng.randrange(height)
    window = Window(col, row, rng.randint(1, width - col), rng.randint(1, height - row))
    runs = window_runs(window, width, DTYPE.itemsize)
    flat = out.reshape(-1).view(np.uint8).data
    assert b"".join(bytes(v) for v in views_of_runs(flat, runs)) == out[window.slices].tobytes()
    assert len(runs) == (1 if window.width == width else window.height)


def test_batches_split_views_in_order_within_the_size() -> None:
    data = bytes(range(256)) * 10
    views = [memoryview(data)[i:j] for i, j in ((0, 700), (700, 701), (701, 2000), (2000, 2560))]
    groups = list(batches(views, 512))
    assert b"".join(bytes(v) for g in groups for v in g) == data
    assert [sum(len(v) for v in g) for g in groups] == [512] * 5


# -- reading from the socket ---------------------------------------------------------------------------


def test_scatter_read_then_the_connection_is_reused(server: ScriptedServer) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    server.default = Reply(body)
    with httpx.Client() as http:
        for _ in range(2):
            with http.stream("GET", server.url + "/x") as response:
                direct = DirectBody.open(response)
                assert direct is not None and direct.remaining == len(body)
                parts = [bytearray(n) for n in (10, 70000, 1, len(body) - 70011)]
                assert direct.read_into([memoryview(p) for p in parts]) == len(body)
                assert b"".join(parts) == body and direct.remaining == 0
                assert list(response.iter_raw()) == []  # h11 ends the message
        assert len(http._transport._pool.connections) == 1  # type: ignore[attr-defined]


def test_partial_direct_read_then_the_chunk_iterator_carries_on(server: ScriptedServer) -> None:
    body = bytes(range(256)) * 1000
    server.default = Reply(body)
    with httpx.Client() as http, http.stream("GET", server.url + "/x") as response:
        direct = DirectBody.open(response)
        assert direct is not None
        head = bytearray(1000)
        assert direct.read_into([memoryview(head)]) == 1000
        assert bytes(head) + b"".join(response.iter_raw()) == body


def test_peer_closing_early_gives_a_short_read(server: ScriptedServer) -> None:
    server.default = Reply(b"x" * 5000, content_length=9000)
    with httpx.Client() as http, http.stream("GET", server.url + "/x") as response:
        direct = DirectBody.open(response)
        assert direct is not None
        assert direct.read_into([memoryview(bytearray(9000))]) == 5000 and direct.remaining == 4000


def test_no_direct_body_without_a_socket() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"abc"))
    with httpx.Client(transport=transport) as http, http.stream("GET", "http://x/") as response:
        assert DirectBody.open(response) is None


# -- read_area over the direct path ----------------------------------------------------------------------


@pytest.mark.parametrize("out", ["array", "npy", "tif"])
def test_tiles_land_in_place(server: ScriptedServer, direct: list[int], tmp_path: Path, out: str) -> None:
    whole = pixels(48, 20)
    for col, row, w, h in ((0, 0, 32, 16), (32, 0, 16, 16), (0, 16, 32, 4), (32, 16, 16, 4)):
        server.reply(body=npy(whole[row : row + h, col : col + w]))
    target = {"array": None, "npy": tmp_path / "a.npy", "tif": str(tmp_path / "a.tif")}[out]
    result = read_area(server.url, 48, 20, out=target, max_tile_bytes=32 * 16 * 8, block_size=16, max_concurrency=1)
    if out == "array":
        got = result
    elif out == "npy":
        got = np.load(result)
    else:
        plain = eerest.Pixels.from_file(result, file_format="GEO_TIFF").to_geoarray().array
        got = np.empty_like(whole)
        got["a"], got["b"] = plain[..., 0], plain[..., 1]
    assert got.tobytes() == whole.tobytes()
    assert len(direct) == 4
    assert [
        (r.json["grid"]["dimensions"]["width"], r.json["grid"]["dimensions"]["height"]) for r in server.pixel_requests
    ] == [(32, 16), (16, 16), (32, 4), (16, 4)]


def test_full_width_tile_in_one_run(server: ScriptedServer, direct: list[int]) -> None:
    whole = pixels(300, 500)  # 3 MiB: read in several batches
    server.reply(body=npy(whole))
    assert read_area(server.url, 300, 500).tobytes() == whole.tobytes() and direct == [len(npy(whole))]


@pytest.mark.parametrize("out", ["array", "npy"])
@pytest.mark.parametrize("cut", [20, 128, 3000])  # inside the header, at its end, inside the data
def test_a_cut_body_is_retried(server: ScriptedServer, direct: list[int], tmp_path: Path, out: str, cut: int) -> None:
    whole = pixels(40, 30)
    server.reply(body=npy(whole), cut_after=cut)
    server.reply(body=npy(whole), content_length=len(npy(whole)) + 100)  # then closes: short
    server.reply(body=npy(whole))
    target = None if out == "array" else tmp_path / "a.npy"
    result = read_area(server.url, 40, 30, retries=2, out=target)
    assert (result if out == "array" else np.load(result)).tobytes() == whole.tobytes()
    assert len(server.pixel_requests) == 3 and direct[-1] == len(npy(whole))


def test_a_cut_body_raises_once_retries_are_spent(server: ScriptedServer, tmp_path: Path) -> None:
    server.default = Reply(npy(pixels(40, 30)), cut_after=3000)
    with pytest.raises(eerest.ResponseDecodeError, match=r"connection broke after .* incomplete, retry"):
        read_area(server.url, 40, 30, retries=1, out=tmp_path / "a.npy")
    assert len(server.pixel_requests) == 2 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (npy(pixels(40, 31)), "shape \\(31, 40\\) instead of \\(30, 40\\)"),
        (npy(pixels(40, 30).astype([("a", "<f8"), ("b", "<u2")])), "dtype"),
        (npy(pixels(40, 30)) + b"\0" * 16, "more than the 7200 data bytes"),
        (npy(pixels(40, 30))[:-16], "ended after 7184 of 7200 data bytes"),
        (npy(pixels(40, 30))[:100], "ended inside the NPY header"),
        (b"\0" * 7400, "NPY"),
    ],
)
@pytest.mark.parametrize("out", ["array", "tif"])
def test_a_body_that_disagrees_is_a_decode_error(
    server: ScriptedServer, direct: list[int], tmp_path: Path, body: bytes, match: str, out: str
) -> None:
    server.default = Reply(body)
    with pytest.raises(eerest.ResponseDecodeError, match=match):
        read_area(server.url, 40, 30, retries=2, out=None if out == "array" else str(tmp_path / "a.tif"))
    assert len(server.pixel_requests) == 1 and direct == [len(body)]  # not retried: the same answer would come back


def test_a_trickled_body_ends_with_the_deadline(server: ScriptedServer, direct: list[int]) -> None:
    server.default = Reply(npy(pixels(40, 30)), trickle=0.01)
    with eerest.Client("p", base_url=server.url, credentials=AnonymousCredentials(), deadline=0.5) as c:
        with pytest.raises(eerest.APITimeoutError, match="deadline"):
            c.read_area(EXPRESSION, grid=grid(40, 30), band_ids=["a", "b"], band_dtypes=["<f4", "<u2"])
        assert c.limiter.in_flight == 0
    assert len(direct) == 1


def test_an_encoded_body_goes_through_the_chunks(server: ScriptedServer, direct: list[int]) -> None:
    import gzip

    whole = pixels(40, 30)
    server.default = Reply(gzip.compress(npy(whole)), headers={"Content-Encoding": "gzip"})
    assert read_area(server.url, 40, 30).tobytes() == whole.tobytes() and direct == []


def test_without_a_socket_the_chunks_are_used(direct: list[int]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        import json

        dims = json.loads(request.content)["grid"]["dimensions"]
        at = json.loads(request.content)["grid"]["affineTransform"]
        tile = pixels(dims["width"], dims["height"], round(at["translateX"] / 10), round(-at["translateY"] / 10))
        return httpx.Response(200, content=npy(tile))

    http = httpx.Client(transport=httpx.MockTransport(answer))
    with eerest.Client("p", base_url="http://x", credentials=AnonymousCredentials(), http_client=http) as c:
        arr = c.read_area(
            EXPRESSION,
            grid=grid(50, 40),
            band_ids=["a", "b"],
            band_dtypes=["<f4", "<u2"],
            max_tile_bytes=2000,
            block_size=16,
        )
    assert arr.tobytes() == pixels(50, 40).tobytes() and direct == []
