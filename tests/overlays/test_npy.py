"""The NPY reader: what numpy.load gives, as a view on the body, and nothing it should refuse."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from pixhelp import npy_bytes

import eerest
from eerest import ResponseDecodeError
from eerest._formats.npy import parse_npy_header


def _structured(byteorder: str = "<", order: str = "C") -> np.ndarray:
    dt = np.dtype([("B4", byteorder + "u2"), ("B8", byteorder + "u2"), ("QA", byteorder + "u2")])
    a = np.zeros((5, 7), dtype=dt, order=order)
    for i, name in enumerate(dt.names):
        a[name] = np.arange(35).reshape(5, 7) * (i + 1)
    return a


def _base(pixels: eerest.Pixels) -> np.ndarray:
    return np.frombuffer(pixels.content, dtype=np.uint8)


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_like_numpy_load_and_zero_copy(version: tuple[int, int], byteorder: str, order: str) -> None:
    a = _structured(byteorder, order)
    body = npy_bytes(a, version)
    px = eerest.Pixels(bytearray(body), file_format="NPY")
    out = px.to_numpy()
    assert parse_npy_header(body).version == version
    assert out.dtype == a.dtype and out.shape == (5, 7)
    np.testing.assert_array_equal(out, a)
    assert np.shares_memory(out, _base(px))
    plain = px.to_array()
    assert plain.shape == (5, 7, 3)
    assert np.shares_memory(plain, _base(px))
    for i, name in enumerate(a.dtype.names):
        np.testing.assert_array_equal(plain[..., i], a[name])


def test_to_array_of_mixed_types_copies_to_common_type() -> None:
    a = np.zeros((2, 3), dtype=[("x", "u1"), ("y", "f4")])
    a["x"], a["y"] = 7, 0.5
    px = eerest.Pixels(npy_bytes(a), file_format="NPY")
    plain = px.to_array()
    assert plain.dtype == np.float32 and plain.shape == (2, 3, 2)
    assert (plain[..., 0] == 7).all() and (plain[..., 1] == 0.5).all()
    assert px.to_array(dtype="float64").dtype == np.float64


def test_plain_npy_and_array_protocol() -> None:
    a = np.arange(12, dtype="<f8").reshape(3, 4)
    px = eerest.Pixels(npy_bytes(a))
    np.testing.assert_array_equal(np.asarray(px), a)
    assert px.to_array().shape == (3, 4, 1)


def test_view_is_aligned() -> None:
    px = eerest.Pixels(bytearray(npy_bytes(_structured())))
    assert px.to_numpy().flags.aligned


def _with_header(header: str, data: bytes, version: tuple[int, int] = (1, 0)) -> bytes:
    raw = header.encode("latin1")
    size = len(raw).to_bytes(2 if version == (1, 0) else 4, "little")
    return b"\x93NUMPY" + bytes(version) + size + raw + data


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"GIF89a" + b"\x00" * 100, "not a known magic"),
        (b"", "not a known magic"),
        (b"\x93NUMPY\x09\x00" + b"\x00" * 20, "version 9.0"),
        (b"\x93NUMPY\x01\x00\xff\xff{", "ends inside the NPY header"),
        (
            _with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 100)}", b"\x00" * 400),
            "only 400 bytes",
        ),
        (_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}", b"\x00" * 20), "4 more than"),
        (_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", b"\x00" * 8), "Python objects"),
        (
            _with_header("{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (1,)}", b"\x00" * 8),
            "Python objects",
        ),
        (
            _with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", b"\x00" * 4),
            "exactly the keys",
        ),
        (_with_header("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", b"\x00" * 4), "not a boolean"),
        (_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", b""), "non-negative"),
        (_with_header("{'descr': 'nope', 'fortran_order': False, 'shape': (1,)}", b""), "not a valid numpy dtype"),
        (_with_header("__import__('os').system('true')", b""), "not a Python dict literal"),
        (_with_header("[" * 100000 + "]" * 100000, b"", (2, 0)), "not a Python dict literal"),
    ],
)
def test_hostile_npy(body: bytes, match: str) -> None:
    with pytest.raises(ResponseDecodeError, match=match):
        eerest.Pixels(body, file_format="NPY")


def test_pickle_never_loaded() -> None:
    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("unpickled!")

    obj = np.empty(1, dtype=object)
    body = _with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", pickle.dumps([1]))
    del obj
    with pytest.raises(ResponseDecodeError, match="never unpickles"):
        eerest.Pixels(body, file_format="NPY")


def test_wrong_format_for_request() -> None:
    body = npy_bytes(np.zeros(3))
    with pytest.raises(ResponseDecodeError, match="the body is NPY but GEO_TIFF was requested"):
        eerest.Pixels(body, file_format="GEO_TIFF")
    with pytest.raises(ResponseDecodeError, match="JPEG or PNG"):
        eerest.Pixels(body, file_format="AUTO_JPEG_PNG")
    assert eerest.Pixels(body).file_format == "NPY"  # nothing requested: any pixel format


def test_save_and_from_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _structured()
    px = eerest.Pixels(npy_bytes(a), file_format="NPY")
    assert px.save(tmp_path / "t.npy") == len(px)
    np.testing.assert_array_equal(np.load(tmp_path / "t.npy"), a)
    np.testing.assert_array_equal(eerest.Pixels.from_file(tmp_path / "t.npy").to_numpy(), a)


def test_a_header_seen_before_is_checked_the_same_way() -> None:
    """Headers are memoised (tiles of one read share them): the same header gives the same
    answer each time, a body's own data offset included, and a bad one is refused each time."""
    small = npy_bytes(_structured(), (1, 0))
    wide = npy_bytes(np.zeros((2, 3), dtype=[(f"band_{i:04d}", "<f4") for i in range(400)]), (2, 0))  # > 4 KiB
    for body in (small, wide, small, wide):
        head = parse_npy_header(body)
        assert head.data_offset == len(body) - head.data_bytes and head.shape in ((5, 7), (2, 3))
    bad = small.replace(b"'shape'", b"'shapf'")
    for _ in range(2):
        with pytest.raises(ValueError, match="keys descr, fortran_order, shape"):
            parse_npy_header(bad)
