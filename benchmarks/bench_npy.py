"""Benchmark: a 36.75 MiB NPY tile (1792 x 1792 x 3 float32) fetched into numpy by eerest,
raw httpx and earthengine-api, each in a fresh process per round, interleaved.

    python benchmarks/bench_npy.py [--rounds 5] [--quick] [--only eerest,httpx,...]

The request is within the service's limit: by the server's count it is 1792 x 1792 x 3 x
(4 + 1) = 48168960 bytes, under 50331648. Clients: eerest (``.to_numpy()``, a view on the
body), eerest streamed to a file and memory-mapped, raw httpx streaming into a buffer
preallocated from Content-Length (``np.frombuffer`` of it), raw httpx ``.content`` +
``numpy.load``, and ``ee.data.computePixels``. Peak memory is the child's peak RSS during
the first fetch minus its RSS just before; the time is the median of a few fetches.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("eerest", "eerest-stream", "httpx-prealloc", "httpx", "ee")
WIDTH = HEIGHT = 1792
BANDS = ("b1", "b2", "b3")
EXPRESSION = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": [1, 2, 3]}}}}}}
GRID = {"dimensions": {"width": WIDTH, "height": HEIGHT}, "crsCode": "EPSG:4326",
        "affineTransform": {"scaleX": 0.001, "scaleY": -0.001, "translateX": 0, "translateY": 0}}


def payload() -> bytes:
    """The .npy body: a structured (1792, 1792) array of three float32 bands."""
    import numpy as np

    arr = np.empty((HEIGHT, WIDTH), dtype=[(b, "<f4") for b in BANDS])
    rng = np.random.default_rng(0)
    for b in BANDS:
        arr[b] = rng.random((HEIGHT, WIDTH), dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _fetcher(mode: str, url: str) -> Any:
    import numpy as np

    if mode in ("eerest", "eerest-stream"):
        import google.auth.credentials

        import eerest

        client = eerest.Client("bench", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url)
        if mode == "eerest":
            return lambda: client.projects.image.compute_pixels(expression=EXPRESSION, file_format="NPY", grid=GRID).to_numpy()

        def stream() -> Any:
            target = f"/tmp/eerest-bench-{id(client)}.npy"
            with client.projects.image.with_streaming_response.compute_pixels(
                expression=EXPRESSION, file_format="NPY", grid=GRID
            ) as r:
                r.write_to(target)
            return np.load(target, mmap_mode="r")

        return stream
    if mode.startswith("httpx"):
        import httpx

        http = httpx.Client(timeout=600)
        body = {"expression": EXPRESSION, "fileFormat": "NPY", "grid": GRID}
        endpoint = f"{url}/v1/projects/bench/image:computePixels"
        if mode == "httpx":
            return lambda: np.load(io.BytesIO(http.post(endpoint, json=body).content))

        def prealloc() -> Any:
            with http.stream("POST", endpoint, json=body) as r:
                buf = bytearray(int(r.headers["content-length"]))
                view, at = memoryview(buf), 0
                for chunk in r.iter_raw():
                    view[at : at + len(chunk)] = chunk
                    at += len(chunk)
            header = io.BytesIO(bytes(buf[:4096]))
            major, _ = np.lib.format.read_magic(header)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(header)
            return np.frombuffer(buf, dtype=dtype, offset=header.tell()).reshape(shape)

        return prealloc
    if mode == "ee":
        import ee
        from google.oauth2.credentials import Credentials

        ee.Initialize(credentials=Credentials(token="bench"), project="bench", opt_url=url)
        params = {"expression": ee.Image.constant([1, 2, 3]), "fileFormat": "NUMPY_NDARRAY", "grid": GRID}
        return lambda: ee.data.computePixels(params)
    raise ValueError(mode)


def child(mode: str, url: str, repeat: int) -> None:
    import numpy as np

    _harness.time_fetches(mode, _fetcher(mode, url), repeat, lambda arr: round(float(np.asarray(arr["b2"], dtype=np.float64).sum()), 3))


def main() -> None:
    args = _harness.parser(__doc__, MODES, rounds_=5, quick_rounds=1).parse_args()
    if args.child:
        child(args.child, args.url, 2 if args.quick else 5)
        return
    from _server import start_server

    body = payload()
    server = start_server(pixels={"NPY": (body, "application/octet-stream"),
                                  "NUMPY_NDARRAY": (body, "application/octet-stream")})
    try:
        results = _harness.rounds(__file__, args.only.split(","), _harness.n_rounds(args), ["--url", server.url])
    finally:
        server.stop()
    n = len(body)
    print(f"NPY {WIDTH}x{HEIGHT}x{len(BANDS)} float32, {n / 2**20:.2f} MiB; {_harness.n_rounds(args)} fresh "
          "process(es) per client; medians")
    print(_harness.table(results, _harness.tile_columns(n), "seconds", "httpx-prealloc"))
    print("same values from every client:", _harness.same_checks(results))


if __name__ == "__main__":
    main()
