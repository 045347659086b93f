"""Benchmark: a GeoTIFF tile (2048 x 2048, 3 uint16 bands, 24 MiB; within the request limit:
2048 x 2048 x 3 x (2 + 1) = 37748736 bytes) to a numpy array with eerest, raw httpx +
tifffile and earthengine-api (``ee.data.computePixels``, which returns the bytes) + tifffile.

    python benchmarks/bench_geotiff.py [--rounds 5] [--quick]

Each client runs in a fresh process per round; the time is the median of a few fetches in
that process, the memory the peak RSS during the first fetch above the RSS before it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("eerest", "httpx", "ee")
WIDTH = HEIGHT = 2048
EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": [1, 2, 3]}}}}}}
GRID = {"dimensions": {"width": WIDTH, "height": HEIGHT}, "crsCode": "EPSG:32633",
        "affineTransform": {"scaleX": 10, "scaleY": -10, "translateX": 300000, "translateY": 5000000}}


def payload() -> bytes:
    import numpy as np
    import tifffile

    rng = np.random.default_rng(0)
    data = rng.integers(0, 10000, size=(HEIGHT, WIDTH, 3), dtype=np.uint16)
    buf = io.BytesIO()
    tifffile.imwrite(buf, data, photometric="rgb")
    return buf.getvalue()


def _fetcher(mode: str, url: str) -> Any:
    import tifffile

    if mode == "eerest":
        import google.auth.credentials

        import eerest

        client = eerest.Client("bench", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url)
        return lambda: client.projects.image.compute_pixels(expression=EXPRESSION, file_format="GEO_TIFF", grid=GRID).to_numpy()
    if mode == "httpx":
        import httpx

        http = httpx.Client(timeout=600)
        body = {"expression": EXPRESSION, "fileFormat": "GEO_TIFF", "grid": GRID}
        endpoint = f"{url}/v1/projects/bench/image:computePixels"
        return lambda: tifffile.imread(io.BytesIO(http.post(endpoint, json=body).content))
    if mode == "ee":
        import ee
        from google.oauth2.credentials import Credentials

        ee.Initialize(credentials=Credentials(token="bench"), project="bench", opt_url=url)
        params = {"expression": ee.Image.constant([1, 2, 3]), "fileFormat": "GEO_TIFF", "grid": GRID}
        return lambda: tifffile.imread(io.BytesIO(ee.data.computePixels(params)))
    raise ValueError(mode)


def child(mode: str, url: str, repeat: int) -> None:
    import numpy as np

    _harness.time_fetches(mode, _fetcher(mode, url), repeat, lambda arr: int(np.asarray(arr, dtype=np.int64).sum()))


def main() -> None:
    args = _harness.parser(__doc__, MODES, rounds_=5, quick_rounds=1).parse_args()
    if args.child:
        child(args.child, args.url, 2 if args.quick else 5)
        return
    from _server import start_server

    body = payload()
    server = start_server(pixels={"GEO_TIFF": (body, "image/tiff")})
    try:
        results = _harness.rounds(__file__, args.only.split(","), _harness.n_rounds(args), ["--url", server.url])
    finally:
        server.stop()
    n = len(body)
    print(f"GeoTIFF {WIDTH}x{HEIGHT}x3 uint16, {n / 2**20:.1f} MiB; {_harness.n_rounds(args)} fresh process(es) "
          "per client; medians")
    print(_harness.table(results, _harness.tile_columns(n), "seconds", "httpx"))
    print("same pixels from every client:", _harness.same_checks(results))


if __name__ == "__main__":
    main()
