"""Benchmark: a program's first ``getPixels`` of a 36.75 MiB NPY tile, imports included, in a
fresh interpreter: eerest against raw httpx + numpy, interleaved round by round.

    python benchmarks/bench_first_call.py [--rounds 9] [--quick] [--only eerest,httpx,...] [--base SRC]

``--base SRC`` adds ``eerest-base``: the same script with another eerest's sources (e.g. an
earlier commit's ``src``, from ``git archive``) first on ``sys.path``, for before/after ratios
from one run. Every eerest's modules, and the installed packages, are byte-compiled first, as
pip does on install.

The time runs inside the child from just before its first import to the array in hand
(interpreter start-up excluded), so it is what a short script pays: eerest's imports (the
client, the version's methods and messages, httpx, pydantic, numpy), its first request (an
``assets.get`` for the limit checks, once per client, then ``getPixels``), and the body into
numpy. Raw httpx imports httpx and numpy, POSTs the same body and ``numpy.load``s the
``.content`` (``httpx-prealloc``: streamed into a buffer preallocated from Content-Length).
Both authenticate with a bearer token from the environment (``EEREST_ACCESS_TOKEN``), as
neither needs google-auth for it. ``later`` is the median of a few more calls in the same
process (what a tile costs once everything is loaded).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("eerest", "httpx", "httpx-prealloc")
ASSET = "projects/bench/assets/tile"
WIDTH = HEIGHT = 1792
BANDS = ("b1", "b2", "b3")
GRID = {"dimensions": {"width": WIDTH, "height": HEIGHT}, "crsCode": "EPSG:4326",
        "affineTransform": {"scaleX": 0.001, "scaleY": -0.001, "translateX": 0, "translateY": 0}}

CHILDREN = {
    "eerest": """
import eerest
client = eerest.Client("bench", base_url=URL)
fetch = lambda: client.projects.assets.get_pixels(name=ASSET, file_format="NPY", band_ids=BANDS, grid=GRID).to_numpy()
""",
    "httpx": """
import io
import httpx
import numpy as np
http = httpx.Client(timeout=600, headers={"Authorization": "Bearer " + os.environ["EEREST_ACCESS_TOKEN"]})
body = {"fileFormat": "NPY", "bandIds": list(BANDS), "grid": GRID}
fetch = lambda: np.load(io.BytesIO(http.post(f"{URL}/v1/{ASSET}:getPixels", json=body).content))
""",
    "httpx-prealloc": """
import io
import httpx
import numpy as np
http = httpx.Client(timeout=600, headers={"Authorization": "Bearer " + os.environ["EEREST_ACCESS_TOKEN"]})
body = {"fileFormat": "NPY", "bandIds": list(BANDS), "grid": GRID}
def fetch():
    with http.stream("POST", f"{URL}/v1/{ASSET}:getPixels", json=body) as r:
        buf = bytearray(int(r.headers["content-length"]))
        view, at = memoryview(buf), 0
        for chunk in r.iter_raw():
            view[at : at + len(chunk)] = chunk
            at += len(chunk)
    header = io.BytesIO(bytes(buf[:4096]))
    np.lib.format.read_magic(header)
    shape, _, dtype = np.lib.format.read_array_header_1_0(header)
    return np.frombuffer(buf, dtype=dtype, offset=header.tell()).reshape(shape)
""",
}


def asset() -> bytes:
    """The ``assets.get`` answer: three float32 bands on the tile's grid."""
    band_grid = {"crsCode": "EPSG:4326", "dimensions": {"width": WIDTH, "height": HEIGHT},
                 "affineTransform": GRID["affineTransform"]}
    bands = [{"id": b, "dataType": {"precision": "FLOAT"}, "grid": band_grid} for b in BANDS]
    return json.dumps({"type": "IMAGE", "name": ASSET, "id": ASSET.split("/assets/")[1], "bands": bands}).encode()


def child(mode: str, url: str, repeat: int) -> None:
    import time

    if mode == "eerest-base":
        sys.path.insert(0, os.environ["EEREST_BENCH_BASE"])
    t0 = time.perf_counter()
    scope = {"os": os, "URL": url, "ASSET": ASSET, "BANDS": BANDS, "GRID": GRID}
    exec(compile(CHILDREN[mode.removesuffix("-base")], "<bench>", "exec"), scope)
    first = scope["fetch"]()
    seconds = time.perf_counter() - t0
    import numpy as np

    check = round(float(np.asarray(first["b2"], dtype=np.float64).sum()), 3)
    del first
    later = []
    for _ in range(repeat):
        t1 = time.perf_counter()
        scope["fetch"]()
        later.append(time.perf_counter() - t1)
    _harness.emit(mode=mode, seconds=seconds, later=sorted(later)[len(later) // 2], check=check)


def main() -> None:
    parser = _harness.parser(__doc__, MODES, rounds_=9, quick_rounds=2)
    parser.add_argument("--base", help="another eerest's src directory: adds the eerest-base arm")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, 2 if args.quick else 3)
        return
    from _server import start_server
    from bench_npy import payload

    modes = args.only.split(",")
    if args.base:
        os.environ["EEREST_BENCH_BASE"] = str(Path(args.base).resolve())
        modes.append("eerest-base")
    _harness.byte_compile(args.base)

    body = payload()
    server = start_server(pixels={"NPY": (body, "application/octet-stream")}, asset=asset())
    os.environ["EEREST_ACCESS_TOKEN"] = "bench-token"
    try:
        results = _harness.rounds(__file__, modes, _harness.n_rounds(args), ["--url", server.url])
    finally:
        server.stop()
    print(f"first getPixels of an NPY {WIDTH}x{HEIGHT}x{len(BANDS)} float32 tile ({len(body) / 2**20:.2f} MiB), "
          f"imports included; {_harness.n_rounds(args)} fresh process(es) per client; medians")
    print(_harness.table(results, [("seconds", "first (s)", "{:.3f}".format), ("later", "later (s)", "{:.3f}".format)],
                         "seconds", "httpx"))
    print("same values from every client:", _harness.same_checks(results))


if __name__ == "__main__":
    main()
