"""Malformed and abusive requests to the emulator over raw sockets: each gets a 4xx/5xx
with a google.rpc.Status body (never a dropped connection), the server stays healthy, and
its request log is bounded and never holds a credential."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from eerest_emulator import _admin_api, _app, _server
from emulator_helpers import SCENE, grid

PIXELS = f"/v1/{SCENE}:getPixels"
COMPUTE = "/v1/projects/p/image:computePixels"
SECRET = "ya29.emulator-must-forget-this-token"


def raw(url: str, data: bytes) -> tuple[int, dict[str, Any]]:
    """Send ``data`` as is; the status and JSON body of the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1."), answer[:200]
    status = int(head.split()[1])
    return status, json.loads(body) if body else {}


def post(path: str, body: bytes, extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def nested(depth: int) -> bytes:
    return b'{"fileFormat": "NPY", "x": ' + b"[" * depth + b"]" * depth + b"}"


def chain(n: int) -> dict[str, Any]:
    values = {str(i): {"valueReference": str(i + 1)} for i in range(n)}
    values[str(n)] = {"constantValue": 1}
    return {"expression": {"result": "0", "values": values}, "fileFormat": "NPY"}


def pixels(**kw: Any) -> bytes:
    return json.dumps({"fileFormat": "NPY", **kw}).encode()


CASES: dict[str, tuple[bytes, int]] = {
    "non-numeric Content-Length": (
        f"POST {PIXELS} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{{}}".encode(), 400),
    "negative Content-Length": (f"POST {PIXELS} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode(), 400),
    "two Content-Lengths": (
        f"POST {PIXELS} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{{}}".encode(), 400),
    "huge Content-Length": (
        f"POST {PIXELS} HTTP/1.1\r\nHost: x\r\nContent-Length: {10**15}\r\n\r\n{{}}".encode(), 413),
    "body shorter than announced": (f"POST {PIXELS} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{}}".encode(),
                                    400),
    "bad chunk size": (f"POST {PIXELS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".encode(), 400),
    "huge chunks": (f"POST {PIXELS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFF\r\n".encode(),
                    413),
    "garbage request line": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 junk\r\n\r\n", 400),
    "too many headers": (f"GET /v1/{SCENE} HTTP/1.1\r\n".encode() + b"".join(b"X-%d: 1\r\n" % i for i in range(200))
                         + b"\r\n", 431),
    "deeply nested JSON": (post(PIXELS, nested(50_000)), 400),
    "long value-reference chain": (post(COMPUTE, json.dumps(chain(5000)).encode()), 400),
    "NaN scale": (post(PIXELS, pixels(grid={**grid(4, 4), "affineTransform": {"scaleX": float("nan"),
                                                                                 "scaleY": -10}})), 400),
    "Infinity translate": (post(PIXELS, b'{"fileFormat": "NPY", "grid": {"affineTransform": {"scaleX": 10, '
                                        b'"scaleY": -10, "translateX": Infinity}, "dimensions": {"width": 4, '
                                        b'"height": 4}}}'), 400),
    "zero scale": (post(PIXELS, pixels(grid={**grid(4, 4), "affineTransform": {"scaleX": 0, "scaleY": -10}})), 400),
    "tiny scale": (post(PIXELS, pixels(grid={"affineTransform": {"scaleX": 1e-300, "scaleY": -1e-300}})), 400),
    "malformed GeoJSON region": (post(PIXELS, pixels(region={"type": "Polygon", "coordinates": [[["a", None]]]},
                                                     grid={"crsCode": "EPSG:4326"})), 400),
    "region of numbers": (post(PIXELS, pixels(region={"type": "Point", "coordinates": 5},
                                              grid={"crsCode": "EPSG:4326"})), 400),
    "dimensions not integers": (post(PIXELS, pixels(grid={"dimensions": {"width": "x", "height": [1]}})), 400),
    "body not an object": (post(PIXELS, b"[1, 2, 3]"), 400),
    "invalid UTF-8": (post(PIXELS, b'{"fileFormat": "\xff\xfe"}'), 400),
    "admin fault NaN delay": (post("/_emulator/faults", b'{"kind": "slow", "delay": NaN}'), 400),
    "admin fault huge delay": (post("/_emulator/faults", b'{"kind": "slow", "delay": 1e300}'), 400),
    "admin fault string count": (post("/_emulator/faults", b'{"count": "many"}'), 400),
    "admin fault list of junk": (post("/_emulator/faults", b"[1, 2]"), 400),
    "admin fault nested": (post("/_emulator/faults", nested(50_000)), 400),
    "admin fault bad status": (post("/_emulator/faults", b'{"status": 200}'), 400),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_request_gets_a_status_body(case: str, ee_emulator: Any) -> None:
    data, expected = CASES[case]
    status, body = raw(ee_emulator.url, data)
    assert status == expected, body
    assert body["error"]["code"] == expected and body["error"]["message"] and body["error"]["status"]
    assert raw(ee_emulator.url, b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
    assert ee_emulator.faults.pending() == []


def test_unexpected_exception_is_a_500(ee_emulator: Any, monkeypatch: pytest.MonkeyPatch,
                                       caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(_app.App, "get_asset", broken)
    status, body = raw(ee_emulator.url, f"GET /v1/{SCENE} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n"
                       .encode())
    assert status == 500 and body["error"]["status"] == "INTERNAL"
    assert "KeyError" in caplog.text


def test_request_log_is_bounded_and_holds_no_credentials(ee_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ee_emulator.app, "_log", type(ee_emulator.app._log)(maxlen=5))
    big = json.dumps({"fileFormat": "NPY", "bandIds": ["red"], "pad": "x" * (_admin_api.LOG_BODY_BYTES * 2)}).encode()
    for extra in ("Cookie: session=" + SECRET, "X-Goog-Api-Key: " + SECRET, "X-Refresh-Token: " + SECRET, ""):
        raw(ee_emulator.url, post(PIXELS, big, extra + "\r\n" if extra else ""))
    for _ in range(5):
        raw(ee_emulator.url, f"GET /v1/{SCENE} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\n\r\n".encode())
    log = ee_emulator.requests
    assert len(log) == 5
    served = raw(ee_emulator.url, b"GET /_emulator/requests HTTP/1.1\r\nHost: x\r\n\r\n")[1]
    assert SECRET not in json.dumps(served) and all(SECRET not in repr(r) for r in log)
    assert log[-1].headers["Authorization"] == "Bearer [redacted]"


def test_body_limit_is_a_module_constant() -> None:
    assert _server.MAX_REQUEST_BODY >= 10 * 1024 * 1024  # a computePixels expression can be large
