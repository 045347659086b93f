"""Benchmark: a (time, y, x) cube of at least 1 GiB read through eerest's xarray backend with
dask (threaded scheduler, and a LocalCluster of 2 worker processes) against ``read_area`` of
the same images, side by side in one run.

    python benchmarks/bench_xarray.py                        # 1 GiB cube, 3 rounds
    python benchmarks/bench_xarray.py --size 128 --rounds 1  # a quick look

Arms (each round runs every arm once, each in a fresh process, in a rotated order):

- ``read_area``     ``client.read_area(image, grid=..., out=cube[t])`` for every image, the
                    images in threads sharing the client (and its limiter);
- ``dask-store``    ``eerest.xarray.open_dataset`` + ``dask.array.store`` of the variable into a
                    preallocated array (threaded scheduler, one dask thread per request allowed);
- ``dask-compute``  the same, ``.compute()`` (dask concatenates the chunks: one more copy);
- ``dask-zarr``     the same, ``ds.to_zarr(...)`` into a temporary directory: memory is the
                    chunks in flight, not the cube;
- ``dask-cluster``  ``distributed.LocalCluster(n_workers=2, processes=True)``, each worker
                    limited to half the concurrency (the limit is per process), the chunks
                    gathered into one array in this process as they complete;
- ``dask-cluster-persist``  the same cluster, ``persist()``: the cube read into the workers'
                    memory, where a cluster keeps it (no gather; the checksum is computed there).

With ``--emulator``, the peers instead, on the eerest emulator (``eerest_emulator.Emulator`` in the
parent, serving a collection of the same images as NPY files it computes from), the same dask
chunks (the tile planner's) and the same concurrency (dask threads), each ``.compute()`` into
numpy; besides time and client CPU, the requests each made, by method, from the emulator's
request log (``GET /_emulator/requests``), and ``assets.get`` per image per open:

- ``eerest-emu``    ``eerest.xarray.open_dataset(collection)`` (getPixels of each chunk);
- ``xee-emu``       Xee: ``xarray.open_dataset(collection, engine="ee", crs=..., crs_transform=...,
                    shape_2d=..., io_chunks=<the same chunks>, chunks={})`` after
                    ``ee.Initialize(opt_url=...)`` (computePixels of an expression per chunk).

Every arm asks for the same requests at the same total concurrency: dask chunks are the
tile planner's tiles, as are read_area's (one uint16 band, so both plan the same windows).
The server (the parent process) is bench_area.py's loopback tile server answering getPixels,
assets.get and computeImages from NPY bodies built before the first round (every tile
distinct, so a misplaced chunk changes the checksum). Throughput is output bytes over the wall
time from open (or the first read_area) to the finished array; peak memory is the process's
VmHWM (reset just before) minus its RSS then, over the output size; for the cluster, the
driver's and the largest worker's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import byte_compile
from _harness import peak as _peak
from _harness import reset_peak as _reset_peak
from _harness import rss as _rss
from bench_area import SAMPLE, TileServer, _error, npy_body

__all__ = ["main"]

BAND = "b1"
DTYPE = np.dtype([(BAND, "<u2")])
CRS = "EPSG:32633"
SCALE = 10.0
ORIGIN = (500000.0, 5400000.0)
PROJECT = "bench"
COLLECTION = f"projects/{PROJECT}/assets/cube"
ARMS = ("read_area", "dask-store", "dask-compute", "dask-zarr", "dask-cluster", "dask-cluster-persist")
EMULATOR_ARMS = ("eerest-emu", "xee-emu")


def image_name(t: int) -> str:
    return f"{COLLECTION}/t{t:03d}"


def grid_for(side: int) -> dict[str, Any]:
    return {
        "crsCode": CRS,
        "affineTransform": {"scaleX": SCALE, "shearX": 0, "translateX": ORIGIN[0],
                            "shearY": 0, "scaleY": -SCALE, "translateY": ORIGIN[1]},
        "dimensions": {"width": side, "height": side},
    }


def cube_shape(size_mib: float, times: int) -> int:
    """The side (a multiple of 256) of ``times`` square images of at least ``size_mib`` MiB in all."""
    pixels = size_mib * 2**20 / DTYPE.itemsize / times
    return max(256, int(np.ceil(np.sqrt(pixels) / 256)) * 256)


def tiles(side: int, tile_bytes: int | None) -> list[tuple[int, int, int, int]]:
    from eerest import tiling

    kwargs = {} if tile_bytes is None else {"max_tile_bytes": tile_bytes}
    plan = tiling.plan_tiles(tiling.PixelGrid.from_api(grid_for(side)), [DTYPE[BAND]], **kwargs)
    return [(t.window.col_off, t.window.row_off, t.window.width, t.window.height) for t in plan.tiles]


def values(t: int, col_off: int, row_off: int, width: int, height: int) -> np.ndarray:
    """Image ``t``'s pixels in a window: distinct per image and position."""
    rows = np.arange(row_off, row_off + height, dtype=np.uint64)[:, None]
    cols = np.arange(col_off, col_off + width, dtype=np.uint64)[None, :]
    arr = np.empty((height, width), dtype=DTYPE)
    arr[BAND] = (rows * np.uint64(7919) + cols * np.uint64(104729) + np.uint64(31 * t)) % np.uint64(65521)
    return arr


def checksum(cube: Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    for t in range(cube.shape[0]):
        plane = cube.sample[t] if hasattr(cube, "sample") else cube[t][SAMPLE]
        digest.update(np.ascontiguousarray(plane, dtype="<u2").tobytes())
    return digest.hexdigest()


def expected_checksum(side: int, times: int) -> str:
    rows, cols = np.arange(side)[SAMPLE[0]], np.arange(side)[SAMPLE[1]]
    cube = np.empty((times, len(rows), len(cols)), dtype="<u2")
    for t in range(times):
        cube[t] = (rows.astype(np.uint64)[:, None] * np.uint64(7919) + cols.astype(np.uint64)[None, :] * np.uint64(104729)
                   + np.uint64(31 * t)) % np.uint64(65521)
    import hashlib

    digest = hashlib.sha256()
    for t in range(times):
        digest.update(cube[t].tobytes())
    return digest.hexdigest()


# -- the server (parent process) ----------------------------------------------------------------

class CubeServer(TileServer):
    """bench_area's loopback server, answering what the xarray backend and read_area ask:
    assets.get of the collection and its images, computeImages, and getPixels of a tile."""

    def __init__(self, bodies: dict[tuple[int, int, int, int, int], bytes], side: int, times: int) -> None:
        super().__init__({})
        self.cube_bodies = bodies
        self.side, self.times = side, times
        self.misses = 0

    def image_json(self, t: int) -> dict[str, Any]:
        return {
            "type": "IMAGE",
            "name": image_name(t),
            "id": image_name(t).split("/assets/", 1)[1],
            "startTime": f"2024-01-{t + 1:02d}T00:00:00Z" if t < 28 else f"2024-02-{t - 27:02d}T00:00:00Z",
            "properties": {"INDEX": t},
            "bands": [{"id": BAND, "dataType": {"precision": "INT", "range": {"min": 0, "max": 65535}},
                       "grid": grid_for(self.side)}],
        }

    def _answer(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> tuple[str, str, bytes]:
        path = target.split("?", 1)[0]
        prefix = f"/v1/{COLLECTION}"
        if method == "POST" and path.startswith(prefix + "/t") and path.endswith(":getPixels"):
            t = int(path[len(prefix) + 2 : -len(":getPixels")])
            request = json.loads(body)
            if request.get("bandIds") not in (None, [BAND]) or request.get("fileFormat") != "NPY":
                return "400 Bad Request", "application/json", _error(400, "only NPY of band b1 is served here")
            at, dims = request["grid"]["affineTransform"], request["grid"]["dimensions"]
            key = (t, round((at["translateX"] - ORIGIN[0]) / SCALE), round((ORIGIN[1] - at["translateY"]) / SCALE),
                   int(dims["width"]), int(dims["height"]))
            payload = self.cube_bodies.get(key)
            if payload is None:  # a window outside the plan: built now (slower, counted)
                self.misses += 1
                payload = npy_body(values(*key))
            return "200 OK", "application/octet-stream", payload
        if method == "GET" and path == prefix:
            return "200 OK", "application/json", json.dumps({"type": "IMAGE_COLLECTION", "name": COLLECTION}).encode()
        if method == "GET" and path.startswith(prefix + "/t"):
            return "200 OK", "application/json", json.dumps(self.image_json(int(path[len(prefix) + 2 :]))).encode()
        if method == "POST" and path.endswith("/imageCollection:computeImages"):
            images = [self.image_json(t) for t in range(self.times)]
            return "200 OK", "application/json", json.dumps({"images": images}).encode()
        return super()._answer(method, target, body, headers)


# -- the arms (one fresh child process each) ---------------------------------------------------

def _client(url: str, concurrency: int) -> Any:
    import google.auth.credentials

    import eerest

    # No request-rate cap: the memory-speed server would otherwise be waited for (50 requests a
    # second by default), per process, which made the cluster arms look faster than they are.
    return eerest.Client(PROJECT, credentials=google.auth.credentials.AnonymousCredentials(), base_url=url,
                         max_concurrency=concurrency, max_requests_per_second=None)


def arm_read_area(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    client = _client(url, concurrency)

    def read() -> np.ndarray:
        cube = np.empty((times, side, side), dtype=DTYPE)
        with ThreadPoolExecutor(max_workers=times) as pool:
            done = [pool.submit(client.read_area, image_name(t), grid=grid_for(side), out=cube[t]) for t in range(times)]
            for future in done:
                future.result()
        return cube[BAND]

    return read


def _warm_up() -> None:
    """Imports outside the clock: eerest.xarray, and distributed, which dask imports on its
    first compute to see whether a cluster client is active."""
    import contextlib

    import dask.array  # noqa: F401

    import eerest.xarray  # noqa: F401

    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401


def _open(url: str, concurrency: int, **kwargs: Any) -> Any:
    import google.auth.credentials

    import eerest.xarray

    if "client" not in kwargs:
        kwargs["client"] = _client(url, concurrency)
    kwargs.setdefault("credentials_factory", google.auth.credentials.AnonymousCredentials)
    return eerest.xarray.open_dataset(COLLECTION, **kwargs)


def arm_dask_store(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    import dask.array

    _warm_up()

    def read() -> np.ndarray:
        ds = _open(url, concurrency)
        cube = np.empty((times, side, side), dtype="<u2")
        dask.array.store(ds[BAND].data, cube, lock=False, scheduler="threads", num_workers=concurrency)
        return cube

    return read


def arm_dask_compute(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    _warm_up()

    def read() -> np.ndarray:
        ds = _open(url, concurrency)
        return ds[BAND].compute(scheduler="threads", num_workers=concurrency).values

    return read


def arm_dask_zarr(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    import tempfile

    import dask

    _warm_up()
    import zarr  # noqa: F401

    tmp = tempfile.TemporaryDirectory(prefix="bench-xarray-")

    def read() -> Any:
        ds = _open(url, concurrency)
        with dask.config.set(scheduler="threads", num_workers=concurrency):
            ds[[BAND]].to_zarr(f"{tmp.name}/cube.zarr", zarr_format=2, consolidated=False)
        read.stop = time.perf_counter()  # type: ignore[attr-defined]
        import xarray as xr

        stored = xr.open_zarr(f"{tmp.name}/cube.zarr", mask_and_scale=False, consolidated=False)[BAND]
        sample = stored[:, SAMPLE[0], SAMPLE[1]].values
        tmp.cleanup()
        return _Sampled(sample)

    return read


def _worker_reset_peak() -> int:
    _reset_peak()
    return _rss()


def _worker_peak() -> int:
    return _peak()


class _Cluster:
    """The cluster starts before the clock does; its workers' peaks are read after."""

    def __init__(self, concurrency: int) -> None:
        import distributed

        per_worker = max(1, concurrency // 2)
        self.cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=per_worker, processes=True,
                                                dashboard_address=None, silence_logs=40)
        self.client = distributed.Client(self.cluster)
        self.per_worker = per_worker
        self.client.run(_warm_up)
        self.before = self.client.run(_worker_reset_peak)

    def worker_peak(self) -> int:
        peaks = self.client.run(_worker_peak)
        return max(peaks[w] - self.before[w] for w in peaks)

    def close(self) -> None:
        self.client.close()
        self.cluster.close()


def arm_dask_cluster(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    from eerest.xarray import ClientConfig

    _warm_up()
    cluster = _Cluster(concurrency)
    import google.auth.credentials

    config = ClientConfig(project=PROJECT, base_url=url, credentials=google.auth.credentials.AnonymousCredentials,
                          max_concurrency=cluster.per_worker, max_requests_per_second=None)

    def read() -> np.ndarray:
        ds = _open(url, concurrency, client=config)
        result = _gather(cluster.client, ds[BAND].data)
        read.worker_peak = cluster.worker_peak()  # type: ignore[attr-defined]
        cluster.close()
        return result

    return read


def _gather(client: Any, data: Any) -> np.ndarray:
    """The chunks of ``data`` computed on the cluster and copied into one array here as they
    arrive (dask's own ``.compute()`` concatenates them on a worker first, then sends it all)."""
    import distributed

    offsets = [np.concatenate([[0], np.cumsum(c)]) for c in data.chunks]
    out = np.empty(data.shape, dtype=data.dtype)
    futures = client.compute(list(np.asarray(data.to_delayed(), dtype=object).ravel()))
    index = {f.key: np.unravel_index(i, data.numblocks) for i, f in enumerate(futures)}
    for future, chunk in distributed.as_completed(futures, with_results=True):
        at = index[future.key]
        out[tuple(slice(o[i], o[i + 1]) for o, i in zip(offsets, at, strict=True))] = chunk
        future.release()
    return out


def arm_dask_cluster_persist(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    import distributed

    from eerest.xarray import ClientConfig

    _warm_up()
    cluster = _Cluster(concurrency)
    import google.auth.credentials

    config = ClientConfig(project=PROJECT, base_url=url, credentials=google.auth.credentials.AnonymousCredentials,
                          max_concurrency=cluster.per_worker, max_requests_per_second=None)

    def read() -> Any:
        ds = _open(url, concurrency, client=config)
        data = cluster.client.persist(ds[BAND].data)
        distributed.wait(data)
        read.stop = time.perf_counter()  # type: ignore[attr-defined]
        sample = data[:, SAMPLE[0], SAMPLE[1]].compute()  # the checksum's pixels only
        read.worker_peak = cluster.worker_peak()  # type: ignore[attr-defined]
        cluster.close()
        return _Sampled(sample)

    return read


class _Sampled:
    """The checksum's sample of a cube that stayed on the cluster."""

    def __init__(self, sample: np.ndarray) -> None:
        self.shape = sample.shape
        self.sample = sample


# -- the peers on the eerest emulator (--emulator) ------------------------------------------------

def write_emulator_data(folder: Path, side: int, times: int) -> None:
    """The cube as the emulator's data: ``DATA/bench/cube.json`` and one image per time step
    (``t000.json`` + ``t000.npy``, the same pixels as the tile server's)."""
    cube = folder / PROJECT / "cube"
    cube.mkdir(parents=True)
    (folder / PROJECT / "cube.json").write_text(json.dumps({"type": "IMAGE_COLLECTION"}))
    rows = np.arange(side, dtype=np.uint64)[:, None]
    cols = np.arange(side, dtype=np.uint64)[None, :]
    for t in range(times):
        shape = types.SimpleNamespace(side=side)
        image = {key: value for key, value in CubeServer.image_json(shape, t).items()  # type: ignore[arg-type]
                 if key not in ("name", "id")}
        (cube / f"t{t:03d}.json").write_text(json.dumps(image))
        plane = ((rows * np.uint64(7919) + cols * np.uint64(104729) + np.uint64(31 * t)) % np.uint64(65521)).astype("<u2")
        np.save(cube / f"t{t:03d}.npy", plane)


def arm_eerest_emu(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    _warm_up()
    # The client is made outside the clock, as Xee's ee.Initialize (which also fetches its
    # discovery document and algorithm list) is: both arms time the open and the compute.
    client = _client(url, concurrency)

    def read() -> np.ndarray:
        ds = _open(url, concurrency, client=client)
        return ds[BAND].compute(scheduler="threads", num_workers=concurrency).values

    return read


def arm_xee_emu(url: str, side: int, times: int, concurrency: int) -> Callable[[], Any]:
    import dask.array  # noqa: F401
    import ee
    import xarray as xr
    import xee  # noqa: F401
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="bench"), project=PROJECT, opt_url=url)
    _, _, width, height = tiles(side, None)[0]
    transform = (SCALE, 0, ORIGIN[0], 0, -SCALE, ORIGIN[1])

    def read() -> np.ndarray:
        ds = xr.open_dataset(COLLECTION, engine="ee", crs=CRS, crs_transform=transform, shape_2d=(side, side),
                             io_chunks={"index": 1, "width": width, "height": height}, chunks={})
        return ds[BAND].compute(scheduler="threads", num_workers=concurrency).values.astype("<u2")

    return read


def count_requests(log: list[dict[str, Any]]) -> dict[str, int]:
    """The API requests in the emulator's log, by method (``assets.get``, ``getPixels``, ...)."""
    counts: dict[str, int] = {}
    for request in log:
        method, path = request["method"], request["path"].split("?", 1)[0]
        if method == "GET" and path.startswith(f"/v1/{COLLECTION}/"):
            name = "assets.get (image)"
        elif method == "GET" and "/assets/" in path and ":" not in path.rsplit("/", 1)[-1]:
            name = "assets.get"
        elif path == "/$discovery/rest":
            name = "discovery"
        elif path.endswith("/value:compute"):
            name = "value.compute"
        elif ":" in path.rsplit("/", 1)[-1]:
            name = path.rsplit(":", 1)[-1]
        else:
            name = f"{method} {path.rsplit('/', 1)[-1]}"
        counts[name] = counts.get(name, 0) + 1
    return counts


def emulator_round(script: str, emu_url: str, arms: list[str], side: int, times: int, concurrency: int,
                   results: dict[str, list[dict[str, Any]]], round_no: int, output: int) -> None:
    import urllib.request

    def admin(method: str, path: str) -> Any:
        request = urllib.request.Request(emu_url + "/_emulator" + path, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else None

    order = arms[round_no % len(arms):] + arms[:round_no % len(arms)]
    for arm in order:
        admin("DELETE", "/requests")
        proc = subprocess.run(
            [sys.executable, script, "--child", arm, "--url", emu_url, "--side", str(side),
             "--times", str(times), "--concurrency", str(concurrency)],
            capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if proc.returncode != 0:
            print(f"{arm}: failed\n{proc.stderr[-3000:]}", file=sys.stderr)
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["requests"] = count_requests(admin("GET", "/requests")["requests"])
        results[arm].append({**result, "round": round_no})
        print(f"  round {round_no + 1}: {arm:<13} {result['seconds']:6.2f} s ({result['cpu']:5.2f} s CPU here) "
              f"{output / 2**20 / result['seconds']:7.0f} MiB/s  requests {result['requests']}", flush=True)


def report_emulator(results: dict[str, list[dict[str, Any]]], output: int, expected: str, args: argparse.Namespace,
                    concurrency: int, n_tiles: int) -> None:
    labels = {"eerest-emu": "eerest `open_dataset` + `.compute()`",
              "xee-emu": "Xee `open_dataset(engine=\"ee\")` + `.compute()`"}
    median = {arm: statistics.median(r["seconds"] for r in rs) for arm, rs in results.items() if rs}
    cpu = {arm: statistics.median(r["cpu"] for r in rs) for arm, rs in results.items() if rs}

    def ratio(arm: str) -> str:
        if "xee-emu" not in median:
            return ""
        by_round = {r["round"]: r["seconds"] for r in results["xee-emu"]}
        paired = [by_round[r["round"]] / r["seconds"] for r in results[arm] if r["round"] in by_round]
        return f"{median['xee-emu'] / median[arm]:.2f}x ({statistics.median(paired):.2f}x)"

    print()
    print(f"{output / 2**20:.0f} MiB cube on the eerest emulator ({args.times} images x {n_tiles} chunks, "
          f"concurrency {concurrency}), median of {args.rounds} round(s); speed vs Xee of the medians (paired):")
    print()
    print("| arm | s | MiB/s | speed vs Xee | client CPU s | requests (last round) | assets.get per image (of an image) | checksum |")
    print("|---|---:|---:|---:|---:|---|---:|---|")
    for arm, rs in results.items():
        if not rs:
            print(f"| {labels[arm]} | failed | | | | | | |")
            continue
        requests = rs[-1]["requests"]
        gets = requests.get("assets.get (image)", 0) / args.times
        ok = "ok" if all(r["checksum"] == expected for r in rs) else "WRONG"
        listed = ", ".join(f"{k} {v}" for k, v in sorted(requests.items()))
        print(f"| {labels[arm]} | {median[arm]:.2f} | {output / 2**20 / median[arm]:.0f} | {ratio(arm)} "
              f"| {cpu[arm]:.2f} | {listed} | {gets:.2f} | {ok} |")


ARM_FUNCTIONS = {
    "read_area": arm_read_area,
    "dask-store": arm_dask_store,
    "dask-compute": arm_dask_compute,
    "dask-zarr": arm_dask_zarr,
    "dask-cluster": arm_dask_cluster,
    "dask-cluster-persist": arm_dask_cluster_persist,
    "eerest-emu": arm_eerest_emu,
    "xee-emu": arm_xee_emu,
}


def child(arm: str, url: str, side: int, times: int, concurrency: int) -> None:
    import resource

    read = ARM_FUNCTIONS[arm](url, side, times, concurrency)
    _reset_peak()
    before = _rss()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    cube = read()
    elapsed = getattr(read, "stop", time.perf_counter()) - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak = _peak() - before
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    result = {"arm": arm, "seconds": elapsed, "cpu": cpu, "peak": peak, "checksum": checksum(cube),
              "worker_peak": getattr(read, "worker_peak", None)}
    print(json.dumps(result))


# -- the driver -----------------------------------------------------------------------------------

def default_concurrency() -> int:
    from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY

    return DEFAULT_MAX_CONCURRENCY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=None, help="cube size in MiB (default 1024: 1 GiB)")
    parser.add_argument("--times", type=int, default=4, help="images in the cube (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each runs every arm once (default 3)")
    parser.add_argument("--concurrency", type=int, default=None, help="requests in flight (default: eerest's)")
    parser.add_argument("--tile-bytes", default=None, help="max_tile_bytes, e.g. 16MiB (default: eerest's)")
    parser.add_argument("--only", default=",".join(ARMS), help=f"arms to run (default {','.join(ARMS)})")
    parser.add_argument("--emulator", action="store_true",
                        help="eerest's xarray backend vs Xee on the eerest emulator (default size 256 MiB)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--side", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    concurrency = args.concurrency or default_concurrency()
    if args.child:
        child(args.child, args.url, args.side, args.times, concurrency)
        return
    if args.tile_bytes:
        parser.error("--tile-bytes: not supported yet (both paths use eerest's default tile size)")
    if args.emulator:
        args.only = ",".join(EMULATOR_ARMS) if args.only == ",".join(ARMS) else args.only
    args.size = args.size or (256 if args.emulator else 1024)
    arms = [a for a in args.only.split(",") if a]
    allowed = EMULATOR_ARMS if args.emulator else ARMS
    unknown = set(arms) - set(allowed)
    if unknown:
        parser.error(f"unknown arm(s) {', '.join(sorted(unknown))}; choose from {', '.join(allowed)}")
    byte_compile()
    if args.emulator:
        main_emulator(args, arms, concurrency)
        return
    side = cube_shape(args.size, args.times)
    output = args.times * side * side * DTYPE.itemsize
    windows = tiles(side, None)
    print(f"cube: {args.times} x {side} x {side} px, one uint16 band, {output / 2**20:.0f} MiB; {len(windows)} tiles "
          f"per image; concurrency {concurrency}; {args.rounds} round(s)", flush=True)
    bodies = {(t, *w): npy_body(values(t, *w)) for t in range(args.times) for w in windows}
    server = CubeServer(bodies, side, args.times).start()
    results: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
    try:
        for round_no in range(args.rounds):
            order = arms[round_no % len(arms):] + arms[:round_no % len(arms)]
            for arm in order:
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", arm, "--url", server.url, "--side", str(side),
                     "--times", str(args.times), "--concurrency", str(concurrency)],
                    capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                )
                if proc.returncode != 0:
                    print(f"{arm}: failed\n{proc.stderr[-3000:]}", file=sys.stderr)
                    continue
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                results[arm].append(result)
                worker = f", worker {result['worker_peak'] / output:.2f}" if result.get("worker_peak") else ""
                print(f"  round {round_no + 1}: {arm:<13} {result['seconds']:6.2f} s ({result['cpu']:5.2f} s CPU here) "
                      f"{output / 2**20 / result['seconds']:7.0f} MiB/s  peak {result['peak'] / output:.2f}{worker} "
                      "x output", flush=True)
    finally:
        server.close()
    if server.misses:
        print(f"note: {server.misses} request(s) asked for windows outside the plan (built on demand)")
    report(results, output, expected_checksum(side, args.times), args, concurrency, len(windows))


def main_emulator(args: argparse.Namespace, arms: list[str], concurrency: int) -> None:
    import tempfile

    from eerest_emulator import Emulator

    side = cube_shape(args.size, args.times)
    output = args.times * side * side * DTYPE.itemsize
    windows = tiles(side, None)
    print(f"cube: {args.times} x {side} x {side} px, one uint16 band, {output / 2**20:.0f} MiB; {len(windows)} chunks "
          f"per image; concurrency {concurrency}; {args.rounds} round(s); on the eerest emulator", flush=True)
    results: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
    with tempfile.TemporaryDirectory(prefix="bench-xarray-emu-") as tmp:
        write_emulator_data(Path(tmp), side, args.times)
        with Emulator(Path(tmp), require_auth=False) as emu:
            for round_no in range(args.rounds):
                emulator_round(__file__, emu.url, arms, side, args.times, concurrency, results, round_no, output)
    report_emulator(results, output, expected_checksum(side, args.times), args, concurrency, len(windows))


def report(results: dict[str, list[dict[str, Any]]], output: int, expected: str, args: argparse.Namespace,
           concurrency: int, n_tiles: int) -> None:
    labels = {
        "read_area": "`read_area` of each image → numpy",
        "dask-store": "xarray + dask threads, `dask.array.store` → numpy",
        "dask-compute": "xarray + dask threads, `.compute()`",
        "dask-zarr": "xarray + dask threads, `.to_zarr()` (a directory)",
        "dask-cluster": "xarray + `LocalCluster` (2 processes), chunks gathered into an array here",
        "dask-cluster-persist": "xarray + `LocalCluster` (2 processes), `.persist()` on the workers",
    }
    median = {arm: statistics.median(r["seconds"] for r in rs) for arm, rs in results.items() if rs}
    print()
    print(f"{output / 2**20:.0f} MiB cube ({args.times} images x {n_tiles} tiles, concurrency {concurrency}), "
          f"median of {args.rounds} round(s):")
    print()
    print("| arm | MiB/s | vs read_area | peak / output | checksum |")
    print("|---|---:|---:|---:|---|")
    for arm, rs in results.items():
        if not rs:
            print(f"| {labels[arm]} | failed | | | |")
            continue
        peak = max(r["peak"] for r in rs) / output
        workers = [r["worker_peak"] for r in rs if r.get("worker_peak")]
        peak_text = f"{peak:.2f}" + (f" (+ {max(workers) / output:.2f} per worker)" if workers else "")
        ratio = f"{median['read_area'] / median[arm]:.2f}x" if "read_area" in median else ""
        ok = "ok" if all(r["checksum"] == expected for r in rs) else "WRONG"
        print(f"| {labels[arm]} | {output / 2**20 / median[arm]:.0f} | {ratio} | {peak_text} | {ok} |")


if __name__ == "__main__":
    main()
