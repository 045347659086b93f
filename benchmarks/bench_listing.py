"""Benchmark: listing 10,000 images (computeImages, pages of 1,000) with eerest's pager,
earthengine-api's ``ee.data.computeImages`` and raw httpx + ``json.loads``.

    python benchmarks/bench_listing.py [--rounds 5] [--quick] [--only eerest,ee,httpx]

Each image is a realistic asset: 12 bands (type, grid, pyramiding policy), 40 properties
and a polygon footprint (benchmarks/_assets.py), about 5.3 kB of JSON. The loopback server
answers prebuilt pages. Each client runs in a fresh process per round; the time is one
loop over all pages touching every image (``image.name`` / ``image["name"]``), with the
client process's CPU time beside it (less disturbed by other load on the machine); the
memory is the peak RSS during that loop above the RSS before it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("eerest", "eerest-async", "ee", "httpx")
PAGE = 1000
EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "ImageCollection.load", "arguments": {"id": {"constantValue": "COPERNICUS/S2_SR"}}}}}}


def _loop(mode: str, url: str) -> Any:
    if mode == "eerest":
        import google.auth.credentials

        import eerest

        client = eerest.Client("bench", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url)

        def run() -> int:
            n = 0
            for image in client.projects.image_collection.compute_images(expression=EXPRESSION, page_size=PAGE):
                n += len(image.name)
            return n

        return run
    if mode == "eerest-async":
        import asyncio

        import google.auth.credentials

        import eerest

        async def arun() -> int:
            async with eerest.AsyncClient(
                "bench", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url
            ) as client:
                n = 0
                async for image in client.projects.image_collection.compute_images(expression=EXPRESSION, page_size=PAGE):
                    n += len(image.name)
                return n

        return lambda: asyncio.run(arun())
    if mode == "ee":
        import ee
        from google.oauth2.credentials import Credentials

        ee.Initialize(credentials=Credentials(token="bench"), project="bench", opt_url=url)
        collection = ee.ImageCollection("COPERNICUS/S2_SR")

        def run() -> int:
            n, token = 0, None
            while True:
                params: dict[str, Any] = {"expression": collection, "pageSize": PAGE}
                if token:
                    params["pageToken"] = token
                page = ee.data.computeImages(params)
                for image in page.get("images", ()):
                    n += len(image["name"])
                token = page.get("nextPageToken")
                if not token:
                    return n

        return run
    if mode == "httpx":
        import json

        import httpx

        http = httpx.Client(timeout=600)
        endpoint = f"{url}/v1/projects/bench/imageCollection:computeImages"

        def run() -> int:
            n, token = 0, None
            while True:
                body: dict[str, Any] = {"expression": EXPRESSION, "pageSize": PAGE}
                if token:
                    body["pageToken"] = token
                page = json.loads(http.post(endpoint, json=body, headers={"authorization": "Bearer x"}).content)
                for image in page.get("images", ()):
                    n += len(image["name"])
                token = page.get("nextPageToken")
                if not token:
                    return n

        return run
    raise ValueError(mode)


def child(mode: str, url: str) -> None:
    run = _loop(mode, url)
    _harness.reset_peak()
    before = _harness.rss()
    t0, c0 = time.perf_counter(), time.process_time()
    n = run()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    _harness.emit(mode=mode, seconds=seconds, cpu=cpu, peak=_harness.peak() - before, check=n)


def main() -> None:
    args = _harness.parser(__doc__, MODES, rounds_=5, quick_rounds=1).parse_args()
    if args.child:
        child(args.child, args.url)
        return
    from _assets import page_bytes
    from _server import start_server

    n_pages = 2 if args.quick else 10
    tokens = [None] + [f"page-{i}" for i in range(1, n_pages)]
    pages = {tokens[i]: page_bytes(i * PAGE, PAGE, tokens[i + 1] if i + 1 < n_pages else None) for i in range(n_pages)}
    server = start_server(pages=pages)
    try:
        modes = args.only.split(",")
        results = _harness.rounds(__file__, modes, _harness.n_rounds(args), ["--url", server.url])
    finally:
        server.stop()
    size = sum(map(len, pages.values()))
    print(f"{n_pages * PAGE} images in {n_pages} pages, {size / 2**20:.1f} MiB of JSON; "
          f"{_harness.n_rounds(args)} fresh process(es) per client; medians")
    print(_harness.table(results, [("seconds", "seconds", "{:.3f}".format), ("cpu", "CPU s", "{:.3f}".format),
                                   ("peak", "peak MiB", lambda v: f"{v / 2**20:.0f}")], "seconds", "ee"))
    ref = _harness.median(results.get("httpx", []), "peak")
    for mode in modes:
        if results.get(mode) and mode != "httpx":
            print(f"{mode} peak memory: {_harness.median(results[mode], 'peak') / ref:.2f}× httpx + json.loads")
    checks = {r["check"] for rs in results.values() for r in rs}
    print("same images from every client:", len(checks) == 1)


if __name__ == "__main__":
    main()
