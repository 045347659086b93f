"""Benchmark: a 48 MiB NPY answer (2048 x 2048 x 3 float32) fetched into numpy by eerest,
raw httpx and earthengine-api, each in a fresh subprocess, against one loopback server.

    .venv/bin/python benchmarks/bench_npy.py [--repeat 5] [--only eerest,httpx,ee,eerest-stream]

The server is the eerest emulator (it serves the discovery document and algorithms.list
that ``ee.Initialize`` needs) with computePixels answering a prebuilt payload, because the
real service (and the emulator) would refuse this request: by the server's count it is
2048 x 2048 x 3 x (4 + 1) = 62914560 bytes, over the 50331648-byte limit; the payload
itself is 48 MiB. Peak memory is the child's peak RSS (VmHWM, reset just before the first
fetch) minus its RSS at that moment; throughput is payload bytes over the median wall time of the
repeats (each fetch goes from request to a numpy array of the values).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

WIDTH = HEIGHT = 2048
BANDS = ("b1", "b2", "b3")
EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": [1, 2, 3]}}}}}}
GRID = {"dimensions": {"width": WIDTH, "height": HEIGHT}, "crsCode": "EPSG:4326",
        "affineTransform": {"scaleX": 0.001, "scaleY": -0.001, "translateX": 0, "translateY": 0}}
MODES = ("eerest", "httpx", "ee", "eerest-stream")


def payload() -> bytes:
    """The .npy body: a structured (2048, 2048) array of three float32 bands (48 MiB of data)."""
    arr = np.empty((HEIGHT, WIDTH), dtype=[(b, "<f4") for b in BANDS])
    rng = np.random.default_rng(0)
    for b in BANDS:
        arr[b] = rng.random((HEIGHT, WIDTH), dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


# -- the server (parent process) -------------------------------------------------------------

def start_server(body: bytes) -> Any:
    from eerest_emulator import Emulator
    from eerest_emulator._app import App, Response

    class BenchApp(App):
        def compute_pixels(self, req: Any, version: str, project: str) -> Response:
            return Response(200, body, "application/octet-stream")

    emu = Emulator(require_auth=False)
    emu.app = BenchApp(emu.store, emu.faults, require_auth=False)
    return emu.start()


# -- the clients (one fresh subprocess each) -------------------------------------------------

def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise KeyError(field)


def _rss() -> int:
    return _status("VmRSS")


def _reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0). ru_maxrss cannot be used: a child
    inherits its parent's peak through fork+exec, and the parent holds the payload."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak() -> int:
    return _status("VmHWM")


def _fetcher(mode: str, url: str) -> Any:
    if mode in ("eerest", "eerest-stream"):
        import google.auth.credentials

        import eerest

        client = eerest.Client("bench", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url)
        if mode == "eerest":
            return lambda: client.projects.image.compute_pixels(expression=EXPRESSION, file_format="NPY", grid=GRID).to_numpy()

        def stream() -> Any:
            target = "/tmp/eerest-bench.npy"
            with client.projects.image.with_streaming_response.compute_pixels(
                expression=EXPRESSION, file_format="NPY", grid=GRID
            ) as r:
                r.write_to(target)
            return np.load(target, mmap_mode="r")

        return stream
    if mode == "httpx":
        import httpx

        http = httpx.Client(timeout=600)
        body = {"expression": EXPRESSION, "fileFormat": "NPY", "grid": GRID}
        endpoint = f"{url}/v1/projects/bench/image:computePixels"
        return lambda: np.load(io.BytesIO(http.post(endpoint, json=body).content))
    if mode == "ee":
        import ee
        from google.oauth2.credentials import Credentials

        ee.Initialize(credentials=Credentials(token="bench"), project="bench", opt_url=url)
        image = ee.Image.constant([1, 2, 3])
        params = {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID}
        return lambda: ee.data.computePixels(params)
    raise ValueError(mode)


def child(mode: str, url: str, repeat: int) -> None:
    fetch = _fetcher(mode, url)
    _reset_peak()
    before = _rss()
    t0 = time.perf_counter()
    arr = fetch()
    first = time.perf_counter() - t0
    peak = _peak() - before
    checksum = float(np.asarray(arr["b2"], dtype=np.float64).sum())
    shape = list(arr.shape)
    del arr
    times = [first]
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        arr = fetch()
        times.append(time.perf_counter() - t0)
        del arr
    print(json.dumps({"mode": mode, "times": times, "peak_delta": peak, "checksum": checksum, "shape": shape}))


# -- the driver ------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default=",".join(MODES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.repeat)
        return

    body = payload()
    n = len(body)
    emu = start_server(body)
    results: dict[str, dict[str, Any]] = {}
    try:
        for mode in args.only.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--url", emu.url, "--repeat", str(args.repeat)],
                capture_output=True, text=True,
            )
            if proc.returncode != 0:
                print(f"{mode}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        emu.stop()

    checksums = {round(r["checksum"], 3) for r in results.values()}
    print(f"payload: {n} bytes ({n / 2**20:.2f} MiB), {WIDTH}x{HEIGHT}x{len(BANDS)} float32, repeats: {args.repeat}")
    print(f"{'client':<15}{'median s':>10}{'best s':>9}{'MiB/s':>9}{'peak MiB':>10}{'peak / N':>10}")
    for mode, r in results.items():
        med, best = statistics.median(r["times"]), min(r["times"])
        print(f"{mode:<15}{med:>10.3f}{best:>9.3f}{n / 2**20 / med:>9.0f}{r['peak_delta'] / 2**20:>10.1f}"
              f"{r['peak_delta'] / n:>10.2f}")
    if "eerest" in results:
        e = results["eerest"]
        for other in ("httpx", "ee"):
            if other in results:
                o = results[other]
                speed = statistics.median(o["times"]) / statistics.median(e["times"])
                mem = o["peak_delta"] / max(e["peak_delta"], 1)
                print(f"eerest vs {other}: {speed:.2f}x the throughput, {mem:.2f}x less peak memory")
    print("values identical across clients:", len(checksums) == 1)


if __name__ == "__main__":
    main()
