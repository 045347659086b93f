"""Benchmark: an area of at least 1 GiB read tile by tile, the same tiles at the same
concurrency, by eerest and by the patterns people write today, side by side in one run.

    python benchmarks/bench_area.py                       # 1 GiB output, 3 rounds
    python benchmarks/bench_area.py --quick               # a quick look: 64 MiB, one round
    python benchmarks/bench_area.py --only eerest,httpx --concurrency 8 --tile-bytes 16MiB
    python benchmarks/bench_area.py --warm                # imports paid before the clock
    python benchmarks/bench_area.py --size 256 --serve &   # then, to profile one arm:
    py-spy record -o eerest.svg -- python benchmarks/bench_area.py --child eerest --url URL --side SIDE

Arms (each round runs every arm once, each in a fresh process, in a rotated order):

- ``eerest``       ``client.read_area(expr, grid=..., band_dtypes=...)`` into numpy;
- ``eerest-out``   the same into an existing array (``out=``) whose pages were touched before the
                   clock, as a loop of reads reusing one buffer would (no fresh memory to fault in);
- ``eerest-async`` the same with ``eerest.AsyncClient`` (``await client.read_area(...)``);
- ``eerest-npy``   the same into an NPY file (``out="area.npy"``: each tile received into a mapping
                   of its window of the file, fsync'ed and renamed when complete);
- ``eerest-tif``   the same into a GeoTIFF file: the default, a COG (deflate with predictor, tiles
                   compressed as they arrive, overviews and the COG layout at the end);
- ``eerest-tif-none`` / ``eerest-tif-zstd``  the same with ``compress="none"`` (the uncompressed,
                   tiled GeoTIFF written in place as tiles arrive) / ``compress="zstd"``;
- ``main``         ``eerest`` run by another eerest (``--main-src``, as for ``main-tif``);
- ``main-tif``     ``eerest-tif`` run by another eerest (``--main-src``: its ``src`` folder, e.g. a
                   ``git archive main src`` export), for comparison; ``main-npy`` and
                   ``main-tif-none`` likewise for ``eerest-npy`` and ``eerest-tif-none``;
- ``httpx``        raw ``httpx.AsyncClient``, an ``asyncio.Semaphore`` of the same size, each
                   body streamed into a buffer of its Content-Length, then copied once into its
                   window of a preallocated structured array: about the practical ceiling for
                   Python (``.content`` would copy every body twice more);
- ``curl-null`` / ``curl-files``  the physical reference: ``curl --parallel --parallel-max N`` (N the
                   same concurrency) sending exactly the requests eerest sent (their URL, content
                   type and POST body, recorded by the server during an untimed eerest read before
                   the first round; a bearer token), bodies to ``/dev/null`` / each to its own
                   file (no fsync);
- ``curl-files-fsync``  ``curl-files``, then each file fsync'ed (timed): the durability eerest's
                   file outputs have (they are fsync'ed before the rename that makes them appear);
- ``ee``           Google's guide pattern: earthengine-api ``ee.data.computePixels`` (fileFormat
                   NPY) in a ``ThreadPoolExecutor``, ``np.load`` of each tile, assembled into a
                   preallocated array as tiles complete.

The tiles are eerest's own plan (`eerest.tiling.plan_tiles`), so every arm fetches exactly the
same requests. The server (in this process) is a small threaded HTTP server on 127.0.0.1 that
answers computePixels from NPY bodies built before the first round (every tile distinct, so a
misplaced tile changes the checksum), plus the discovery document and algorithm list that
``ee.Initialize`` reads (taken once from the eerest emulator). Throughput is output bytes over
the wall time from the first request to the finished array or closed file; peak memory is the
child's VmHWM (reset just before the read) minus its RSS at that moment, over the output size.

By default each timed read is the first of a fresh process, as in a script: what it imports on
first use (eerest: httpx, the version's messages, pydantic; ~0.2 s here) is inside the clock, while the arms'
setup (client objects, module imports named at the top of each arm) is not. ``--warm`` makes each
arm (but curl) read one small tile first, untimed, so the table compares steady-state throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import _harness

__all__ = ["main"]

BANDS = ("b1", "b2", "b3", "b4")
DTYPE = np.dtype([(b, "<u2") for b in BANDS])  # four uint16 bands, as a Sentinel-2 read
CRS = "EPSG:32633"
SCALE = 10.0
ORIGIN = (500000.0, 5400000.0)  # translateX, translateY of the area's top-left corner
PROJECT = "bench"
EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": [1, 2, 3, 4]}}}}}}
ARMS = ("eerest", "eerest-async", "eerest-npy", "eerest-tif", "curl-null", "curl-files", "httpx", "ee")
CURL_ARMS = ("curl-null", "curl-files", "curl-files-fsync")
MORE_ARMS = ("eerest-out", "eerest-tif-none", "eerest-tif-zstd", "main", "main-tif", "main-npy", "main-tif-none", "curl-files-fsync")
SAMPLE = (slice(None, None, 97), slice(None, None, 89))  # the pixels the checksum covers
#: Pixels as opaque records: assigning a structured window field by field is ~10x slower than
#: this byte copy, so the hand-written arms assemble through it (their fastest path).
RECORD = np.dtype((np.void, DTYPE.itemsize))


# -- the area and its tiles (parent and children compute the same) ---------------------------------

def side_for(size_mib: float) -> int:
    """The side of a square area of at least ``size_mib`` MiB of output, a multiple of 256."""
    pixels = size_mib * 2**20 / DTYPE.itemsize
    return max(256, math.ceil(math.sqrt(pixels) / 256) * 256)


def grid_for(side: int) -> dict[str, Any]:
    return {
        "crsCode": CRS,
        "affineTransform": {"scaleX": SCALE, "shearX": 0, "translateX": ORIGIN[0],
                            "shearY": 0, "scaleY": -SCALE, "translateY": ORIGIN[1]},
        "dimensions": {"width": side, "height": side},
    }


def plan(side: int, tile_bytes: int | None) -> list[tuple[int, int, int, int, dict[str, Any]]]:
    """eerest's tiles for the area: (col_off, row_off, width, height, the tile's API grid)."""
    from eerest import tiling

    kwargs = {} if tile_bytes is None else {"max_tile_bytes": tile_bytes}
    tiles = tiling.plan_tiles(tiling.PixelGrid.from_api(grid_for(side)), [DTYPE[b] for b in BANDS], **kwargs).tiles
    out = []
    for tile in tiles:
        w = tile.window
        out.append((w.col_off, w.row_off, w.width, w.height, tile.grid.to_api()))
    return out


def values(col_off: int, row_off: int, width: int, height: int) -> np.ndarray:
    """The area's pixels in a window: distinct per position and band."""
    rows = np.arange(row_off, row_off + height, dtype=np.uint64)[:, None]
    cols = np.arange(col_off, col_off + width, dtype=np.uint64)[None, :]
    base = rows * np.uint64(7919) + cols * np.uint64(104729)
    arr = np.empty((height, width), dtype=DTYPE)
    for i, band in enumerate(BANDS):
        arr[band] = (base + np.uint64(31 * i)) % np.uint64(65521)
    return arr


def npy_body(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def checksum(arr: np.ndarray) -> str:
    """A digest of a strided sample of every band (position-sensitive, cheap for 1 GiB)."""
    digest = hashlib.sha256()
    for band in BANDS:
        digest.update(np.ascontiguousarray(arr[band][SAMPLE], dtype="<u2").tobytes())
    return digest.hexdigest()


def expected_checksum(side: int) -> str:
    rows = np.arange(side)[SAMPLE[0]]
    cols = np.arange(side)[SAMPLE[1]]
    sample = np.empty((len(rows), len(cols)), dtype=DTYPE)
    base = rows.astype(np.uint64)[:, None] * np.uint64(7919) + cols.astype(np.uint64)[None, :] * np.uint64(104729)
    for i, band in enumerate(BANDS):
        sample[band] = (base + np.uint64(31 * i)) % np.uint64(65521)
    return checksum_of_sample(sample)


def checksum_of_sample(sample: np.ndarray) -> str:
    digest = hashlib.sha256()
    for band in BANDS:
        digest.update(np.ascontiguousarray(sample[band], dtype="<u2").tobytes())
    return digest.hexdigest()


# -- the loopback server (parent process) ----------------------------------------------------------

class TileServer:
    """HTTP/1.1 (keep-alive) on 127.0.0.1: computePixels answers the tile whose grid the request
    names, from bodies built beforehand; GET answers come from ``statics`` (path → JSON bytes)."""

    def __init__(self, bodies: dict[tuple[int, int, int, int], bytes]) -> None:
        self.bodies = bodies
        self.statics: dict[str, bytes] = {}
        #: computePixels requests as received: tile key → (path, content type, body), for the curl arms
        self.recorded: dict[tuple[int, int, int, int], tuple[str, str, bytes]] = {}
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._closing = False

    def start(self) -> TileServer:
        thread = threading.Thread(target=self._accept, name="tile-server", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def close(self) -> None:
        self._closing = True
        self._sock.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while True:
                line = reader.readline(65536)
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while (header := reader.readline(65536)) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", 0) or 0))
                status, content_type, payload = self._answer(method, target, body, headers)
                head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                        f"Content-Length: {len(payload)}\r\n\r\n").encode("latin-1")
                conn.sendall(head)
                conn.sendall(memoryview(payload))
                if headers.get("connection", "").lower() == "close":
                    return
        except (OSError, ValueError):
            return
        finally:
            reader.close()
            conn.close()

    def _answer(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> tuple[str, str, bytes]:
        path = target.split("?", 1)[0]
        if method == "POST" and path.endswith("/image:computePixels"):
            at = json.loads(body)["grid"]
            transform, dims = at["affineTransform"], at["dimensions"]
            key = (round((transform["translateX"] - ORIGIN[0]) / SCALE), round((ORIGIN[1] - transform["translateY"]) / SCALE),
                   int(dims["width"]), int(dims["height"]))
            payload = self.bodies.get(key)
            if payload is not None:
                self.recorded[key] = (target, headers.get("content-type", "application/json"), body)
            if payload is None:  # not a planned tile (e.g. a 1x1 probe): made now
                payload = npy_body(values(*key))
            return "200 OK", "application/octet-stream", payload
        if method == "GET" and path == "/$discovery/rest":
            version = urllib.parse.parse_qs(target.partition("?")[2]).get("version", ["v1"])[0]
            key = f"discovery {version}"
        else:
            key = "algorithms" if method == "GET" and path.endswith("/algorithms") else ""
        if key in self.statics:
            return "200 OK", "application/json", self.statics[key]
        return "404 Not Found", "application/json", _error(404, f"{method} {path} is not served here")


def _error(code: int, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "status": "INVALID_ARGUMENT"}}).encode()


def add_ee_metadata(server: TileServer) -> None:
    """The discovery document and algorithm list ``ee.Initialize`` fetches, taken from the eerest
    emulator once, with the root URL of ``server``."""
    try:
        from eerest_emulator import Emulator
    except ImportError:
        from eerest.emulator import Emulator  # before the emulator became its own distribution

    host = server.url.removeprefix("http://")
    with Emulator(require_auth=False) as emulator:
        def get(path: str) -> bytes:
            request = urllib.request.Request(emulator.url + path, headers={"Host": host})
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.read()

        for version in ("v1", "v1alpha", "v1beta"):
            server.statics[f"discovery {version}"] = get(f"/$discovery/rest?version={version}")
        server.statics["algorithms"] = get(f"/v1/projects/{PROJECT}/algorithms")


# -- the arms (one fresh child process each) ------------------------------------------------------

def _eerest_client(url: str, concurrency: int) -> Any:
    import google.auth.credentials

    import eerest

    # The client's throughput, not its quota policy: at the default 50 requests a second (half
    # the project's quota) a server answering at memory speed would be waited for, 138 tiles
    # taking at least 1.8 s whatever the client does; the other arms have no rate cap either.
    # Earth Engine takes seconds per computed tile, so the cap does not bind there.
    return eerest.Client(PROJECT, credentials=google.auth.credentials.AnonymousCredentials(), base_url=url,
                         max_concurrency=concurrency, max_requests_per_second=None)


def arm_eerest(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    client = _eerest_client(url, concurrency)
    dtypes = [DTYPE[b] for b in BANDS]

    def read() -> Any:
        return client.read_area(EXPRESSION, grid=grid_for(side), band_ids=list(BANDS), band_dtypes=dtypes,
                                max_concurrency=concurrency, max_tile_bytes=tile_bytes)

    return read


def arm_eerest_out(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    """``arm_eerest`` into an existing array (``out=``), its pages already touched (as in a loop
    of reads reusing one buffer): the read without the kernel's cost of fresh memory."""
    client = _eerest_client(url, concurrency)
    dtypes = [DTYPE[b] for b in BANDS]
    out = np.empty((side, side), dtype=DTYPE)
    out.view(np.uint8).fill(0)  # every page touched (np.zeros would leave them to the read)

    def read() -> Any:
        return client.read_area(EXPRESSION, grid=grid_for(side), band_ids=list(BANDS), band_dtypes=dtypes,
                                max_concurrency=concurrency, max_tile_bytes=tile_bytes, out=out)

    return read


def arm_eerest_async(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    import google.auth.credentials

    import eerest

    dtypes = [DTYPE[b] for b in BANDS]
    # Made outside the clock, as the sync arm's client is (and asyncio imported): the two
    # arms then time the same thing, the read (an event loop's start included here).
    client = eerest.AsyncClient(PROJECT, credentials=google.auth.credentials.AnonymousCredentials(), base_url=url,
                                max_concurrency=concurrency, max_requests_per_second=None)

    async def read_async() -> Any:
        return await client.read_area(EXPRESSION, grid=grid_for(side), band_ids=list(BANDS), band_dtypes=dtypes,
                                      max_concurrency=concurrency, max_tile_bytes=tile_bytes)

    return lambda: asyncio.run(read_async())


def arm_eerest_tif(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path,
                   **options: Any) -> Callable[[], Any]:
    client = _eerest_client(url, concurrency)
    dtypes = [DTYPE[b] for b in BANDS]

    def read() -> Any:
        client.read_area(EXPRESSION, grid=grid_for(side), band_ids=list(BANDS), band_dtypes=dtypes,
                         max_concurrency=concurrency, max_tile_bytes=tile_bytes, out=str(target), **options)
        return target

    return read


def arm_eerest_npy(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    return arm_eerest_tif(url, side, concurrency, tile_bytes, target.with_suffix(".npy"))


def arm_eerest_tif_none(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    return arm_eerest_tif(url, side, concurrency, tile_bytes, target, compress="none")


def arm_eerest_tif_zstd(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    return arm_eerest_tif(url, side, concurrency, tile_bytes, target, compress="zstd")

def arm_httpx(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    import httpx

    tiles = plan(side, tile_bytes)
    endpoint = f"{url}/v1/projects/{PROJECT}/image:computePixels"
    headers = {"authorization": "Bearer bench"}

    async def fetch_all() -> np.ndarray:
        out = np.empty((side, side), dtype=DTYPE)
        records = out.view(RECORD)
        gate = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=600, limits=limits) as http:
            async def one(col: int, row: int, w: int, h: int, grid: dict[str, Any]) -> None:
                request = {"expression": EXPRESSION, "fileFormat": "NPY", "grid": grid}
                async with gate, http.stream("POST", endpoint, json=request, headers=headers) as response:
                    response.raise_for_status()
                    body = bytearray(int(response.headers["content-length"]))
                    view, pos = memoryview(body), 0
                    async for chunk in response.aiter_raw():
                        view[pos:pos + len(chunk)] = chunk
                        pos += len(chunk)
                header_len = _npy_header_length(body)
                records[row:row + h, col:col + w] = np.frombuffer(body, RECORD, w * h, header_len).reshape(h, w)

            await asyncio.gather(*(one(*tile) for tile in tiles))
        return out

    return lambda: asyncio.run(fetch_all())


def write_curl_config(server: TileServer, folder: Path, files: bool) -> Path:
    """A curl config (``-K``) with one transfer per recorded tile request: the same URL, content
    type, authorization and POST body (from a file) eerest sent; the body to /dev/null or to
    ``tile-COL-ROW-W-H.npy`` in the child's own folder (``{OUT}``, substituted when it runs)."""
    lines = []
    for (col, row, w, h), (target, content_type, body) in sorted(server.recorded.items()):
        request = folder / f"request-{col}-{row}-{w}-{h}.json"
        request.write_bytes(body)
        output = f"{{OUT}}/tile-{col}-{row}-{w}-{h}.npy" if files else "/dev/null"
        lines += [f'url = "{server.url}{target}"', 'request = "POST"', f'data-binary = "@{request}"',
                  f'header = "Content-Type: {content_type}"', 'header = "Authorization: Bearer bench"',
                  "fail", f'output = "{output}"', "next"]
    config = folder / ("curl-files.cfg" if files else "curl-null.cfg")
    config.write_text("\n".join(lines[:-1]) + "\n")
    return config


def arm_curl(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    """``curl --parallel`` over the recorded requests (the config the parent wrote, named by
    ``BENCH_CURL_CONFIG``); not timed: reading the tile files back for the checksum."""
    files = target.name != "curl-null"
    sync = target.name == "curl-files-fsync"
    config = Path(os.environ["BENCH_CURL_CONFIG"])
    text = config.read_text().replace("{OUT}", str(target.parent))
    mine = target.parent / config.name
    mine.write_text(text)

    def read() -> Any:
        subprocess.run([CURL, "--silent", "--show-error", "--parallel", "--parallel-max", str(concurrency),
                        "--config", str(mine)], check=True)
        for path in target.parent.glob("tile-*.npy") if sync else ():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return CurlFiles(target.parent) if files else None

    return read


CURL = os.environ.get("CURL") or shutil.which("curl") or "/usr/bin/curl"


class CurlFiles:
    """The tile files curl wrote into ``folder`` (checked after the timing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def checksum(self, side: int) -> str:
        rows, cols = np.arange(side)[SAMPLE[0]], np.arange(side)[SAMPLE[1]]
        sample = np.zeros((len(rows), len(cols)), DTYPE)
        for path in self.folder.glob("tile-*.npy"):
            col, row, w, h = (int(v) for v in path.stem.split("-")[1:])
            tile = np.load(path, mmap_mode="r")
            ri = np.flatnonzero((rows >= row) & (rows < row + h))
            ci = np.flatnonzero((cols >= col) & (cols < col + w))
            sample[np.ix_(ri, ci)] = tile[np.ix_(rows[ri] - row, cols[ci] - col)]
        return checksum_of_sample(sample)


def _npy_header_length(body: bytes) -> int:
    major = body[6]
    if major == 1:
        return 10 + int.from_bytes(body[8:10], "little")
    return 12 + int.from_bytes(body[8:12], "little")


def arm_ee(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    import ee
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="bench"), project=PROJECT, opt_url=url)
    image = ee.Image.constant([1, 2, 3, 4])
    tiles = plan(side, tile_bytes)

    def get_tile(grid: dict[str, Any]) -> np.ndarray:
        raw = ee.data.computePixels({"expression": image, "fileFormat": "NPY", "grid": grid})
        return np.load(io.BytesIO(raw))

    def read() -> np.ndarray:
        out = np.empty((side, side), dtype=DTYPE)
        records = out.view(RECORD)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = {pool.submit(get_tile, grid): (col, row, w, h) for col, row, w, h, grid in tiles}
            for future in as_completed(futures):
                col, row, w, h = futures[future]
                records[row:row + h, col:col + w] = future.result().view(RECORD)
        return out

    return read


def arm_touch(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    """Not a client: the cost of allocating the output and touching each of its pages once, a
    floor under every arm that returns an array (first touches are slow in some VMs)."""

    def read() -> np.ndarray:
        out = np.empty((side, side), dtype=DTYPE)
        out.view(np.uint8).reshape(-1)[::4096] = 0
        return out

    return read


def arm_touch_eerest(url: str, side: int, concurrency: int, tile_bytes: int | None, target: Path) -> Callable[[], Any]:
    """``arm_touch`` with the allocation of eerest's array outputs (``eerest._area.pages``:
    normal pages, faulted in at once)."""
    from eerest._area.pages import new_array

    def read() -> np.ndarray:
        out = new_array((side, side), DTYPE)
        out.view(np.uint8).reshape(-1)[::4096] = 0
        return out

    return read


ARM_FUNCTIONS = {"eerest": arm_eerest, "eerest-out": arm_eerest_out, "eerest-async": arm_eerest_async, "eerest-npy": arm_eerest_npy,
                 "curl-null": arm_curl, "curl-files": arm_curl, "curl-files-fsync": arm_curl, "eerest-tif": arm_eerest_tif, "httpx": arm_httpx, "ee": arm_ee,
                 "touch": arm_touch, "touch-eerest": arm_touch_eerest, "main": arm_eerest, "eerest-tif-none": arm_eerest_tif_none,
                 "eerest-tif-zstd": arm_eerest_tif_zstd, "main-tif": arm_eerest_tif, "main-npy": arm_eerest_npy,
                 "main-tif-none": arm_eerest_tif_none}
MAIN_ARMS = ("main", "main-tif", "main-npy", "main-tif-none")  # run by the eerest of --main-src


def _checksum_of_file(path: Path) -> str:
    try:  # GDAL reads every compression (tifffile needs imagecodecs for zstd)
        import rasterio

        with rasterio.open(path) as ds:
            data = ds.read()
    except ImportError:
        import tifffile

        data = tifffile.imread(path)
    if data.ndim == 2:
        data = data[None]
    if data.shape[0] != len(BANDS):  # (height, width, bands) → (bands, height, width)
        data = np.moveaxis(data, -1, 0)
    sample = np.empty(data[0][SAMPLE].shape, dtype=DTYPE)
    for i, band in enumerate(BANDS):
        sample[band] = data[i][SAMPLE]
    return checksum_of_sample(sample)


def _digest(arm: str, result: Any, side: int) -> str:
    if arm in ("touch", "touch-eerest", "curl-null"):
        return ""
    if isinstance(result, CurlFiles):
        return result.checksum(side)
    if isinstance(result, Path):
        if result.suffix == ".npy":
            return checksum(np.load(result, mmap_mode="r"))
        return _checksum_of_file(result)
    return checksum(result)


def child(arm: str, url: str, side: int, concurrency: int, tile_bytes: int | None, warm: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-area-") as tmp:
        target = Path(tmp) / (arm if arm in CURL_ARMS else "area.tif")
        if warm and arm not in CURL_ARMS:
            warm_up(arm, url, concurrency, Path(tmp) / "warm" / target.name)
        read = ARM_FUNCTIONS[arm](url, side, concurrency, tile_bytes, target)
        _harness.reset_peak()
        before = _harness.rss()
        import resource

        usage = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = read()
        elapsed = time.perf_counter() - started
        cpu = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - usage  # curl's, for its arms
        peak = _harness.peak() - before
        digest = _digest(arm, result, side)
        file_size = result.stat().st_size if isinstance(result, Path) else None
        if arm in CURL_ARMS:  # curl's own peak (the only child), not this process's
            import resource

            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"arm": arm, "seconds": elapsed, "cpu": cpu, "peak": peak, "checksum": digest,
                      "file_size": file_size}))


def warm_up(arm: str, url: str, concurrency: int, target: Path) -> None:
    """``--warm``: the arm, made anew, reads one 256 x 256 tile into a scratch output before the
    clock, so its imports and other once-per-process costs are paid; the timed read still makes
    its own client and opens its own connections."""
    target.parent.mkdir()
    ARM_FUNCTIONS[arm](url, 256, concurrency, None, target)()
    shutil.rmtree(target.parent)


def _cpu(who: int) -> float:
    """User + system CPU seconds of this process (``RUSAGE_SELF``) or its waited-for children."""
    import resource

    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# -- the driver ------------------------------------------------------------------------------------

def parse_size(text: str) -> int:
    units = {"": 1, "k": 2**10, "kib": 2**10, "m": 2**20, "mib": 2**20, "g": 2**30, "gib": 2**30}
    number = text.rstrip("kKmMgGiIbB")
    return int(float(number) * units[text[len(number):].lower()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1024, help="output size in MiB (default 1024: 1 GiB)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds; each runs every arm once (default 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 64 MiB, one round")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="requests in flight for every arm (default: eerest's default)")
    parser.add_argument("--tile-bytes", default=None, help="eerest's max_tile_bytes, e.g. 16MiB (default: eerest's)")
    parser.add_argument("--only", default=",".join(ARMS), help=f"arms to run (default {','.join(ARMS)})")
    parser.add_argument("--main-src", default=None,
                        help="the src folder of another eerest, for the main-tif arm (e.g. git archive main src)")
    parser.add_argument("--warm", action="store_true",
                        help="each arm first reads one small tile, untimed, in the same process (imports paid "
                             "before the clock; by default they are part of the first read, as in a script)")
    parser.add_argument("--serve", action="store_true",
                        help="only serve the area (prints its URL and --side; for profiling a --child by hand)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--side", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.size = min(args.size, 64)
    args.rounds = args.rounds or (1 if args.quick else 3)
    tile_bytes = parse_size(args.tile_bytes) if args.tile_bytes else None
    concurrency = args.concurrency or default_concurrency()
    if args.child:
        child(args.child, args.url, args.side, concurrency, tile_bytes, args.warm)
        return

    arms = [a for a in args.only.split(",") if a]
    unknown = set(arms) - set(ARMS) - set(MORE_ARMS)
    if unknown:
        parser.error(f"unknown arm(s) {', '.join(sorted(unknown))}; choose from {', '.join(ARMS + MORE_ARMS)}")
    if set(MAIN_ARMS) & set(arms) and not args.main_src:
        parser.error(f"the {', '.join(MAIN_ARMS)} arms need --main-src")
    _harness.byte_compile(args.main_src)
    side = side_for(args.size)
    output = side * side * DTYPE.itemsize
    tiles = plan(side, tile_bytes)
    largest = max(w * h for _, _, w, h, _ in tiles) * DTYPE.itemsize
    print(f"area: {side} x {side} px, {len(BANDS)} uint16 bands, {output / 2**20:.0f} MiB; {len(tiles)} tiles "
          f"(largest {largest / 2**20:.1f} MiB of output); concurrency {concurrency}; {args.rounds} round(s)", flush=True)
    bodies = {(c, r, w, h): npy_body(values(c, r, w, h)) for c, r, w, h, _ in tiles}
    server = TileServer(bodies).start()
    if args.serve:
        add_ee_metadata(server)
        print(f"serving at {server.url} (--side {side}); Ctrl-C stops", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return
        finally:
            server.close()
    results: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
    touches: dict[str, list[float]] = {"touch": [], "touch-eerest": []}
    configs: dict[str, str] = {}
    scratch = tempfile.TemporaryDirectory(prefix="bench-area-curl-")
    try:
        if "ee" in arms:
            add_ee_metadata(server)
        if set(arms) & set(CURL_ARMS):  # an untimed eerest read records the requests curl repeats
            subprocess.run([sys.executable, __file__, "--child", "eerest", "--url", server.url, "--side", str(side),
                            "--concurrency", str(concurrency), *(["--tile-bytes", args.tile_bytes] if args.tile_bytes else [])],
                           capture_output=True, check=True)
            if len(server.recorded) != len(tiles):
                raise SystemExit(f"recorded {len(server.recorded)} of {len(tiles)} tile requests")
            for arm in CURL_ARMS:
                configs[arm] = str(write_curl_config(server, Path(scratch.name), files=arm != "curl-null"))
        for round_no in range(args.rounds):
            order = arms[round_no % len(arms):] + arms[:round_no % len(arms)]
            for arm in ["touch", "touch-eerest", *order]:
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", arm, "--url", server.url, "--side", str(side),
                     "--concurrency", str(concurrency), *(["--tile-bytes", args.tile_bytes] if args.tile_bytes else []),
                     *(["--warm"] if args.warm else [])],
                    capture_output=True, text=True, env={
                        **os.environ, "PYTHONWARNINGS": "ignore",
                        **({"PYTHONPATH": os.path.abspath(args.main_src)} if arm in MAIN_ARMS else {}),
                        **({"BENCH_CURL_CONFIG": configs[arm]} if arm in configs else {}),
                    },
                )
                if proc.returncode != 0:
                    print(f"{arm}: failed\n{proc.stderr[-3000:]}", file=sys.stderr)
                    continue
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                if arm in touches:
                    touches[arm].append(result["seconds"])
                    continue
                results[arm].append({**result, "round": round_no})
                print(f"  round {round_no + 1}: {arm:<11} {result['seconds']:6.2f} s "
                      f"{output / 2**20 / result['seconds']:7.0f} MiB/s  peak {result['peak'] / output:.2f} x output  "
                      f"client CPU {result['cpu']:.2f} s  (load average {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        server.close()
        scratch.cleanup()
    report(results, output, expected_checksum(side), args, concurrency, len(tiles))
    for arm, how in (("touch", "numpy.empty"), ("touch-eerest", "eerest (eerest._area.pages)")):
        if touches[arm]:
            touch = statistics.median(touches[arm])
            print(f"allocating the {output / 2**20:.0f} MiB output with {how} and touching each page once, in a fresh "
                  f"process: {touch:.2f} s (median), a ceiling of {output / 2**20 / touch:.0f} MiB/s into memory")


def default_concurrency() -> int:
    """eerest's default number of requests in flight (the other arms use the same)."""
    from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY

    return int(DEFAULT_MAX_CONCURRENCY)


def report(results: dict[str, list[dict[str, Any]]], output: int, expected: str, args: argparse.Namespace,
           concurrency: int, n_tiles: int) -> None:
    """The Markdown table: median throughput over the rounds, the largest peak memory."""
    labels = {
        "eerest": "eerest `read_area` → numpy",
        "eerest-async": "eerest `AsyncClient.read_area` → numpy",
        "eerest-out": "eerest `read_area` → an existing numpy array (`out=`, pages touched)",
        "eerest-tif": "eerest `read_area` → GeoTIFF file (default: deflate COG with overviews)",
        "eerest-tif-none": "eerest `read_area` → GeoTIFF file, `compress=\"none\"`",
        "eerest-tif-zstd": "eerest `read_area` → GeoTIFF file, `compress=\"zstd\"` (COG)",
        "main": "main's `read_area` → numpy",
        "main-tif": "main's `read_area` → GeoTIFF file (its default)",
        "main-npy": "main's `read_area` → NPY file",
        "main-tif-none": "main's `read_area` → GeoTIFF file, `compress=\"none\"`",
        "eerest-npy": "eerest `read_area` → NPY file",
        "curl-null": "`curl --parallel` → /dev/null",
        "curl-files": "`curl --parallel` → one file per tile",
        "curl-files-fsync": "`curl --parallel` → one file per tile, each fsync'ed",
        "httpx": "raw `httpx.AsyncClient` → preallocated array",
        "ee": "earthengine-api `computePixels` + `ThreadPoolExecutor` + `np.load`",
    }
    median = {arm: statistics.median(r["seconds"] for r in rs) for arm, rs in results.items() if rs}

    def ratio(arm: str, ref: str) -> str:
        """Throughput of ``arm`` over ``ref``'s: of the medians, and (paired) the median of the
        rounds' own ratios (the two ran seconds apart, so passing load disturbs it less)."""
        if ref not in median or arm not in median:
            return ""
        by_round = {r["round"]: r["seconds"] for r in results[ref]}
        paired = [by_round[r["round"]] / r["seconds"] for r in results[arm] if r["round"] in by_round]
        return f"{median[ref] / median[arm]:.2f}x ({statistics.median(paired):.2f}x)"

    print()
    print(f"{output / 2**20:.0f} MiB output ({n_tiles} tiles, concurrency {concurrency}), "
          f"median of {args.rounds} round(s), {'warm (--warm: each arm read a small tile first, untimed)' if args.warm else 'cold (the first read of a fresh process, imports included)'}; "
          "ratios of throughput, of the medians (paired):")
    print()
    refs = [ref for ref in ("curl-null", "curl-files", "curl-files-fsync", "httpx") if ref in median]
    print("| " + " | ".join(["arm", "MiB/s", *(f"vs {labels[ref]}" for ref in refs), "client CPU s per GiB",
                              "peak memory", "peak / output", "checksum"]) + " |")
    print("|---|---:|" + "---:|" * len(refs) + "---:|---:|---:|---|")
    for arm, rs in results.items():
        if not rs:
            print(f"| {labels[arm]} | failed |" + " |" * len(refs) + " | | | |")
            continue
        peak = max(r["peak"] for r in rs)
        ok = "n/a" if arm == "curl-null" else "ok" if all(r["checksum"] == expected for r in rs) else "WRONG"
        cpu = statistics.median(r.get("cpu", math.nan) for r in rs) / (output / 2**30)
        print("| " + " | ".join([labels[arm], f"{output / 2**20 / median[arm]:.0f}", *(ratio(arm, ref) for ref in refs),
                                  f"{cpu:.2f}", f"{peak / 2**20:.0f} MiB", f"{peak / output:.2f}", ok]) + " |")
    print()
    for arm, ref in (("eerest", "curl-null"), ("eerest-out", "curl-null"), ("eerest-npy", "curl-files"), ("eerest-npy", "curl-files-fsync"), ("eerest-async", "eerest"),
                     ("eerest-async", "httpx"), ("eerest", "ee")):
        if arm in median and ref in median:
            print(f"{labels[arm]}: {ratio(arm, ref)} the throughput of {labels[ref]}")

if __name__ == "__main__":
    main()
