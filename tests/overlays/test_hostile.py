"""Broken or hostile pixel responses, served byte for byte by a loopback server: each must
raise ResponseDecodeError saying what was wrong, for every version and both clients."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pixhelp import RawServer, Reply, npy_bytes, run

import eerest
from eerest import ResponseDecodeError

EXPR = {"result": "0", "values": {"0": {"constantValue": 1}}}
GOOD = npy_bytes(np.zeros((64, 64), dtype=[("a", "<f4"), ("b", "<f4")]))


def _compute(flavour: tuple[str, str], url: str, **kwargs: Any) -> Any:
    version, kind = flavour
    kwargs.setdefault("file_format", "NPY")
    return run(version, kind, url, lambda c: c.projects.image.compute_pixels(expression=EXPR, **kwargs))


def _header(text: str, data: bytes) -> bytes:
    raw = text.encode()
    return b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw + data


CASES = {
    "wrong-magic": (Reply(b"<html>oops</html>", content_type="text/html"), "not a known magic"),
    "tiff-for-npy": (Reply(b"II*\x00" + b"\x00" * 64, content_type="image/tiff"), "GEO_TIFF but NPY was requested"),
    "npy-needs-more": (
        Reply(_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 1000)}", b"\x00" * 1000)),
        "8000000 bytes of data",
    ),
    "object-dtype": (Reply(_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", b"\x80" * 16)),
                     "Python objects"),
    "pickled-field": (Reply(_header("{'descr': [('x', '|O')], 'fortran_order': False, 'shape': (1,)}", b"\x80\x04N.")),
                      "never unpickles"),
    "json-error-200": (
        Reply(json.dumps({"error": {"code": 400, "message": "User memory limit exceeded.",
                                    "status": "INVALID_ARGUMENT"}}).encode(), content_type="application/json"),
        "User memory limit exceeded",
    ),
    "shorter-than-content-length": (Reply(GOOD, content_length=len(GOOD) + 100), "incomplete|broke"),
    "cut-mid-body": (Reply(GOOD, cut_after=len(GOOD) // 2), "incomplete|broke"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_body(case: str, flavour: tuple[str, str], raw_server: RawServer) -> None:
    reply, match = CASES[case]
    raw_server.routes[":computePixels"] = reply
    with pytest.raises(ResponseDecodeError, match=match) as info:
        _compute(flavour, raw_server.url)
    if case not in ("shorter-than-content-length", "cut-mid-body"):  # cut while reading: the body's own message
        assert "computePixels" in str(info.value)  # a decoding error names the method


def test_close_delimited_body_is_read(flavour: tuple[str, str], raw_server: RawServer) -> None:
    raw_server.routes[":computePixels"] = Reply(GOOD, content_length=False)
    px = _compute(flavour, raw_server.url)
    assert px.to_numpy().shape == (64, 64)


def test_good_body_and_no_copy(flavour: tuple[str, str], raw_server: RawServer) -> None:
    raw_server.routes[":computePixels"] = Reply(GOOD)
    px = _compute(flavour, raw_server.url, band_ids=["a", "b"])
    assert isinstance(px, eerest.Pixels) and px.band_ids == ["a", "b"]
    assert np.shares_memory(px.to_array(), np.frombuffer(px.content, np.uint8))
    sent = json.loads(raw_server.pixel_requests[0].body)
    assert sent == {"expression": EXPR, "fileFormat": "NPY", "bandIds": ["a", "b"]}
