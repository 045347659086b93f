"""Benchmark: many small tiles at once, 64 NPY tiles of 256 x 256 x 3 float32 (768 KiB each)
fetched concurrently: eerest's AsyncClient (with sniffio installed, and with it hidden, as
when it is absent), raw ``httpx.AsyncClient`` + ``numpy.load``, and earthengine-api's
``ee.data.computePixels`` on 16 threads.

    python benchmarks/bench_tiles.py [--rounds 5] [--quick]

Each client runs in a fresh process per round; the time (and the process's CPU time) is the
median over a few batches of 64 in that process.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("eerest-async", "eerest-async-no-sniffio", "httpx-async", "ee-threads")
TILES, SIDE = 64, 256
EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": [1, 2, 3]}}}}}}
GRID = {"dimensions": {"width": SIDE, "height": SIDE}, "crsCode": "EPSG:4326",
        "affineTransform": {"scaleX": 0.001, "scaleY": -0.001, "translateX": 0, "translateY": 0}}


def payload() -> bytes:
    import numpy as np

    arr = np.zeros((SIDE, SIDE), dtype=[(b, "<f4") for b in ("b1", "b2", "b3")])
    for i, b in enumerate(("b1", "b2", "b3")):
        arr[b] = i + 1
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _batch(mode: str, url: str) -> Any:
    import asyncio

    if mode.startswith("eerest-async"):
        if mode.endswith("no-sniffio"):
            sys.modules["sniffio"] = None  # type: ignore[assignment]  # `import sniffio` now fails, as when absent
        import google.auth.credentials

        import eerest

        # All 64 in flight and no rate cap, as the httpx arm: the client's speed, not its quota
        # policy (by default 16 in flight and 50 requests a second, which this server outruns).
        client = eerest.AsyncClient("bench", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url,
                                    max_concurrency=TILES, max_requests_per_second=None)

        async def one() -> Any:
            pixels = await client.projects.image.compute_pixels(expression=EXPRESSION, file_format="NPY", grid=GRID)
            return pixels.to_numpy()

        async def batch() -> list[Any]:
            return await asyncio.gather(*(one() for _ in range(TILES)))

        loop = asyncio.new_event_loop()
        return lambda: loop.run_until_complete(batch())
    if mode == "httpx-async":
        import httpx
        import numpy as np

        http = httpx.AsyncClient(timeout=600, limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))
        body = {"expression": EXPRESSION, "fileFormat": "NPY", "grid": GRID}
        endpoint = f"{url}/v1/projects/bench/image:computePixels"

        async def one() -> Any:
            response = await http.post(endpoint, json=body)
            return np.load(io.BytesIO(response.content))

        async def batch() -> list[Any]:
            return await asyncio.gather(*(one() for _ in range(TILES)))

        loop = asyncio.new_event_loop()
        return lambda: loop.run_until_complete(batch())
    if mode == "ee-threads":
        from concurrent.futures import ThreadPoolExecutor

        import ee
        from google.oauth2.credentials import Credentials

        ee.Initialize(credentials=Credentials(token="bench"), project="bench", opt_url=url)
        params = {"expression": ee.Image.constant([1, 2, 3]), "fileFormat": "NUMPY_NDARRAY", "grid": GRID}
        pool = ThreadPoolExecutor(16)
        return lambda: list(pool.map(lambda _: ee.data.computePixels(params), range(TILES)))
    raise ValueError(mode)


def child(mode: str, url: str, repeat: int) -> None:
    batch = _batch(mode, url)
    arrays = batch()  # warm-up: connections opened
    check = round(float(sum(float(a["b2"].sum()) for a in arrays)), 3)
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        batch()
        cpu.append(time.process_time() - c0)
        times.append(time.perf_counter() - t0)
    _harness.emit(mode=mode, seconds=sorted(times)[len(times) // 2], cpu=sorted(cpu)[len(cpu) // 2], check=check)


def main() -> None:
    args = _harness.parser(__doc__, MODES, rounds_=5, quick_rounds=1).parse_args()
    if args.child:
        child(args.child, args.url, 3 if args.quick else 7)
        return
    from _server import start_server

    body = payload()
    server = start_server(pixels={"NPY": (body, "application/octet-stream")})
    try:
        results = _harness.rounds(__file__, args.only.split(","), _harness.n_rounds(args), ["--url", server.url])
    finally:
        server.stop()
    total = TILES * len(body)
    print(f"{TILES} concurrent NPY tiles of {SIDE}x{SIDE}x3 float32 ({len(body) / 2**10:.0f} KiB each); "
          f"{_harness.n_rounds(args)} fresh process(es) per client; medians")
    print(_harness.table(results, [("seconds", "seconds", "{:.3f}".format), ("cpu", "CPU s", "{:.3f}".format),
                                   ("seconds", "MiB/s", lambda v: f"{total / 2**20 / v:.0f}")], "seconds", "httpx-async"))
    print("same pixels from every client:", len({r["check"] for rs in results.values() for r in rs}) == 1)


if __name__ == "__main__":
    main()
