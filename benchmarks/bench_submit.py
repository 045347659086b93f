"""Benchmark: ``submit_exports`` of 300 image exports to a server that takes a while to answer
each, as Earth Engine does (it validates the expression and queues the task), one request at
a time against concurrent requests, interleaved in fresh processes.

    python benchmarks/bench_submit.py [--rounds 3] [--quick] [--exports 300] [--latency 0.1]

Modes: ``sequential`` (``max_concurrency=1``: one request after another, as eerest did
before and as a loop of ``ee.batch.Export...start()`` does), ``concurrent`` (the default: the
client's ``max_concurrency``, 16, under its default rate limit of 50 requests a second) and
``uncapped`` (the same with ``max_requests_per_second=None``). The server (in this process)
answers each export after ``--latency`` seconds with a new PENDING operation; each child
checks that it got one operation per request, in order, none twice.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _harness

MODES = ("sequential", "concurrent", "uncapped")
PROJECT = "bench"
EXPR = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": 1}}}}}}


class ExportServer:
    """``image:export`` answered after ``latency`` seconds with a PENDING operation (one per
    ``requestId``, as the service deduplicates), on 127.0.0.1, HTTP/1.1 keep-alive."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.by_request: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                time.sleep(server.latency)
                payload = json.dumps(server.export(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def export(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            name = self.by_request.setdefault(body["requestId"], f"projects/{PROJECT}/operations/OP{len(self.by_request):06d}")
        return {"name": name, "done": False, "metadata": {
            "@type": "type.googleapis.com/google.earthengine.v1.OperationMetadata", "state": "PENDING",
            "description": body.get("description", ""), "type": "EXPORT_IMAGE", "priority": 100,
            "createTime": "2026-12-06T10:00:00Z", "updateTime": "2026-12-06T10:00:00Z"}}

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def child(mode: str, url: str, exports: int) -> None:
    import google.auth.credentials

    import eerest

    rate: dict[str, Any] = {} if mode != "uncapped" else {"max_requests_per_second": None}
    client = eerest.Client(PROJECT, credentials=google.auth.credentials.AnonymousCredentials(), base_url=url, **rate)
    requests = [{"kind": "image", "expression": EXPR, "description": f"e{i}", "fileExportOptions": {
        "fileFormat": "GEO_TIFF", "cloudStorageDestination": {"bucket": "b", "filenamePrefix": f"e{i}"}}}
        for i in range(exports)]
    started = time.perf_counter()
    ops = client.submit_exports(requests, max_concurrency=1 if mode == "sequential" else None)
    seconds = time.perf_counter() - started
    names = [op.name for op in ops]
    ok = len(set(names)) == exports and [op.metadata.description for op in ops] == [f"e{i}" for i in range(exports)]
    client.close()
    print(json.dumps({"mode": mode, "seconds": seconds, "check": "ok" if ok else "WRONG"}))


def main() -> None:
    parser = _harness.parser(__doc__, MODES, rounds_=3, quick_rounds=1)
    parser.add_argument("--exports", type=int, default=None, help="exports per submission (default 300; 60 with --quick)")
    parser.add_argument("--latency", type=float, default=0.1, help="the server's seconds per export (default 0.1)")
    args = parser.parse_args()
    exports = args.exports or (60 if args.quick else 300)
    if args.child:
        child(args.child, args.url, exports)
        return
    _harness.byte_compile()
    server = ExportServer(args.latency)
    try:
        results = _harness.rounds(__file__, args.only.split(","), _harness.n_rounds(args),
                                  ["--url", server.url, "--exports", str(exports)])
    finally:
        server.stop()
    print(f"submit_exports of {exports} image exports, the server answering each after {args.latency} s; "
          f"{_harness.n_rounds(args)} fresh process(es) per mode; medians")
    print(_harness.table(results, [("seconds", "seconds", "{:.2f}".format)], "seconds", "sequential"))
    print("every mode got one operation per request, in order:", _harness.same_checks(results))


if __name__ == "__main__":
    main()
