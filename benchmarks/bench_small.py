"""Benchmark: a small call, ``assets.get`` of a one-band image asset (about 0.5 kB of JSON),
with eerest, the same request with raw httpx (+ ``json.loads``) and earthengine-api's
``ee.data.getAsset``, sequentially on one keep-alive connection.

    python benchmarks/bench_small.py [--rounds 5] [--quick]

Each client runs in a fresh process per round and makes a few hundred calls after a
warm-up; the time is the median per call, so the gap is each client's own overhead
(building the request, parsing the answer) over the same loopback round trip; the client
process's CPU time per call is shown too (it is less disturbed by other load on the machine).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("eerest", "httpx", "ee")
NAME = "projects/eerest/assets/sample/elevation"
ASSET = {
    "type": "IMAGE", "name": NAME, "id": "sample/elevation", "updateTime": "2024-01-01T00:00:00Z",
    "bands": [{"id": "elevation", "dataType": {"precision": "FLOAT"},
               "grid": {"crsCode": "EPSG:32633", "dimensions": {"width": 112, "height": 112},
                        "affineTransform": {"scaleX": 20, "scaleY": -20, "translateX": 500000, "translateY": 4100000}}}],
    "sizeBytes": "50176",
}


def _call(mode: str, url: str) -> Any:
    if mode == "eerest":
        from google.oauth2.credentials import Credentials

        import eerest

        # The per-call cost, not the rate policy: by default a client starts at most 50
        # requests a second (half the project's quota), which a tight loop of 500 calls hits.
        client = eerest.Client("eerest", credentials=Credentials(token="bench"), base_url=url, max_requests_per_second=None)
        return lambda: client.projects.assets.get(name=NAME).name
    if mode == "httpx":
        import httpx

        http = httpx.Client(timeout=600)
        endpoint = f"{url}/v1/{NAME}"
        headers = {"authorization": "Bearer bench"}
        return lambda: json.loads(http.get(endpoint, headers=headers).content)["name"]
    if mode == "ee":
        import ee
        from google.oauth2.credentials import Credentials

        ee.Initialize(credentials=Credentials(token="bench"), project="eerest", opt_url=url)
        return lambda: ee.data.getAsset(NAME)["name"]
    raise ValueError(mode)


def child(mode: str, url: str, calls: int) -> None:
    call = _call(mode, url)
    for _ in range(20):
        call()
    times, cpu = [], []
    for _ in range(calls):
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        cpu.append(time.process_time() - c0)
        times.append(time.perf_counter() - t0)
    _harness.emit(mode=mode, seconds=statistics.median(times), cpu=statistics.median(cpu))


def main() -> None:
    args = _harness.parser(__doc__, MODES, rounds_=5, quick_rounds=1).parse_args()
    if args.child:
        child(args.child, args.url, 100 if args.quick else 500)
        return
    from _server import start_server

    server = start_server(asset=json.dumps(ASSET).encode())
    try:
        results = _harness.rounds(__file__, args.only.split(","), _harness.n_rounds(args), ["--url", server.url])
    finally:
        server.stop()
    print(f"assets.get of a one-band asset; {_harness.n_rounds(args)} fresh process(es) per client; medians")
    print(_harness.table(results, [("seconds", "µs per call", lambda v: f"{v * 1e6:.0f}"),
                                   ("cpu", "CPU µs", lambda v: f"{v * 1e6:.0f}")], "seconds", "httpx"))
    ref = _harness.median(results.get("httpx", []), "cpu")
    for mode, rs in results.items():
        if rs and mode != "httpx":
            print(f"{mode} CPU per call: {_harness.median(rs, 'cpu') / ref:.2f}× httpx")


if __name__ == "__main__":
    main()
