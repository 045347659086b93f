"""Benchmark: a FeatureCollection of point features read whole (table.computeFeatures, pages
of 1,000) with eerest's ``read_table`` (to a GeoDataFrame, and to GeoParquet) and with
earthengine-api's ``ee.data.computeFeatures(fileFormat="GEOPANDAS_GEODATAFRAME")`` (and that
GeoDataFrame's ``to_parquet``, ee's way to a GeoParquet file).

    python benchmarks/bench_table.py [--features 10000] [--rounds 3] [--quick] [--only ...]

Each feature is a point with four properties (an integer, a double, a string and a Date),
about 170 bytes of JSON. The loopback server answers prebuilt pages, so the server's own work
stays out of the numbers. Each client runs in a fresh process per round; the time is the
whole read (every page, decoded into the output); features/s is features over that time; the
memory is the peak RSS during the read above the RSS before it (geopandas, pyarrow and
shapely are imported before the timing, in every client, and so are the API modules eerest
imports on its first call, as ``ee.Initialize`` loads ee's before it).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("eerest-gdf", "eerest-parquet", "eerest-async-parquet", "ee-gdf", "ee-parquet")
PAGE = 1000
EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Collection.loadTable", "arguments": {"tableId": {"constantValue": "projects/bench/assets/points"}}}}}}


def page_bytes(start: int, n: int, token: str | None) -> bytes:
    feats = []
    for i in range(start, start + n):
        x, y = (i * 0.000731) % 360 - 180, (i * 0.000417) % 170 - 85
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
                      "properties": {"id": i, "value": i * 0.25 + 0.1, "name": f"point-{i}",
                                     "seen": {"type": "Date", "value": 1_700_000_000_000 + i * 1000}}})
    out: dict[str, Any] = {"type": "FeatureCollection", "features": feats}
    if token:
        out["nextPageToken"] = token
    return json.dumps(out, separators=(",", ":")).encode()


def _run(mode: str, url: str, out: str) -> Any:
    if mode.startswith("eerest"):
        import google.auth.credentials
        import httpx  # noqa: F401  (what eerest imports on its first call, as ee.Initialize does before the timing)

        import eerest
        import eerest.v1._resources

        target = out if mode.endswith("parquet") else None
        if mode.startswith("eerest-async"):
            import asyncio

            async def arun() -> Any:
                async with eerest.AsyncClient("bench", credentials=google.auth.credentials.AnonymousCredentials(),
                                              base_url=url, max_requests_per_second=None) as client:
                    return await client.read_table(EXPRESSION, out=target)

            return lambda: asyncio.run(arun())
        client = eerest.Client("bench", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url,
                               max_requests_per_second=None)
        return lambda: client.read_table(EXPRESSION, out=target)
    if mode.startswith("ee"):
        import ee
        from google.oauth2.credentials import Credentials

        ee.Initialize(credentials=Credentials(token="bench"), project="bench", opt_url=url)
        fc = ee.FeatureCollection("projects/bench/assets/points")

        def run() -> Any:
            gdf = ee.data.computeFeatures({"expression": fc, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
            if mode.endswith("parquet"):
                gdf.to_parquet(out)
                return out
            return gdf

        return run
    raise ValueError(mode)


def _count(result: Any) -> int:
    if isinstance(result, str):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(result).metadata.num_rows)
    return len(result)


def child(mode: str, url: str) -> None:
    import geopandas  # noqa: F401  (imports out of the timing, for every client alike)
    import pyarrow.parquet  # noqa: F401
    import shapely  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        run = _run(mode, url, str(Path(tmp) / "out.parquet"))
        _harness.reset_peak()
        before = _harness.rss()
        t0, c0 = time.perf_counter(), time.process_time()
        result = run()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = _harness.peak() - before
        n = _count(result)
    _harness.emit(mode=mode, seconds=seconds, cpu=cpu, peak=peak, check=n, rate=n / seconds)


def main() -> None:
    p = _harness.parser(__doc__, MODES, rounds_=3, quick_rounds=1)
    p.add_argument("--features", type=int, default=10_000, help="features in the collection (default 10000)")
    args = p.parse_args()
    if args.child:
        child(args.child, args.url)
        return
    from _server import start_server

    n = 2_000 if args.quick else args.features
    n_pages = -(-n // PAGE)
    tokens = [None] + [f"page-{i}" for i in range(1, n_pages)]
    pages = {tokens[i]: page_bytes(i * PAGE, min(PAGE, n - i * PAGE), tokens[i + 1] if i + 1 < n_pages else None)
             for i in range(n_pages)}
    server = _features_server(start_server, pages)
    try:
        modes = args.only.split(",")
        results = _harness.rounds(__file__, modes, _harness.n_rounds(args), ["--url", server.url])
    finally:
        server.stop()
    size = sum(map(len, pages.values()))
    print(f"{n} point features in {n_pages} pages, {size / 2**20:.1f} MiB of JSON; "
          f"{_harness.n_rounds(args)} fresh process(es) per client; medians")
    print(_harness.table(results, [("seconds", "seconds", "{:.3f}".format), ("rate", "features/s", "{:,.0f}".format),
                                   ("cpu", "CPU s", "{:.3f}".format),
                                   ("peak", "peak MiB", lambda v: f"{v / 2**20:.0f}")], "rate", "ee-parquet"))
    if not _harness.same_checks(results):
        print("WARNING: the clients read different numbers of features")


def _features_server(start_server: Any, pages: dict[str | None, bytes]) -> Any:
    """The benchmark server, its computeFeatures answering the prebuilt pages by page token."""
    server = start_server()
    from eerest_emulator._http import Response

    app = server.app

    def compute_features(req: Any, version: str, project: str) -> Any:
        return Response(200, pages[json.loads(req.body).get("pageToken")])

    app.compute_features = compute_features
    return server


if __name__ == "__main__":
    main()
