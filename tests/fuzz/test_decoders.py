"""Pixel decoders against random and mutated bodies: a correct array or ResponseDecodeError,
never another exception (and never unpickling)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from eerest import Pixels, ResponseDecodeError
from eerest._formats.npy import DecodeProblem, parse_npy_header


def _npy(array: np.ndarray[Any, Any]) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _tiff(array: np.ndarray[Any, Any], **kw: Any) -> bytes:
    tifffile = pytest.importorskip("tifffile")
    buf = io.BytesIO()
    tifffile.imwrite(buf, array, **kw)
    return buf.getvalue()


def _png(array: np.ndarray[Any, Any]) -> bytes:
    image = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few bytes flipped, a slice cut out or junk spliced in."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[i : i + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[i:]
    return bytes(data)


def decode(body: bytes, file_format: str | None = None) -> Any:
    """Everything a user can do with a body; only ResponseDecodeError may escape."""
    try:
        px = Pixels(body, file_format=file_format)
        out = px.to_numpy()
        px.to_array()
        if px.file_format == "GEO_TIFF":
            px.to_geoarray()
        return out
    except ResponseDecodeError:
        return None


FIELDS = st.lists(
    st.tuples(st.text("abcxyz_", min_size=1, max_size=6), st.sampled_from(["<u1", "<i2", ">u2", "<f4", ">f8", "<i8"])),
    min_size=1,
    max_size=4,
    unique_by=lambda f: f[0],
)


@given(st.binary(max_size=512))
def test_random_bytes(body: bytes) -> None:
    decode(body)
    decode(b"\x93NUMPY" + body, "NPY")


@given(FIELDS, st.integers(0, 5), st.integers(0, 5), st.booleans())
def test_npy_roundtrip(fields: list[tuple[str, str]], h: int, w: int, fortran: bool) -> None:
    array = np.arange(h * w * len(fields) * 8, dtype=np.uint8)[: h * w * np.dtype(fields).itemsize]
    array = array.view(np.dtype(fields)).reshape(h, w)
    if fortran:
        array = np.asfortranarray(array)
    got = decode(_npy(array), "NPY")
    assert got is not None and got.dtype == array.dtype and got.shape == array.shape
    assert got.tobytes() == array.tobytes()


@given(st.data())
def test_npy_mutated(data: st.DataObject) -> None:
    base = _npy(np.zeros((3, 4), dtype=[("a", "<f4"), ("b", "<u2")]))
    body = data.draw(mutated(base))
    got = decode(body, "NPY")
    if got is not None:  # accepted: then it is exactly what the header says, over the whole body
        head = parse_npy_header(body)
        assert head.data_offset + head.data_bytes == len(body)


@settings(max_examples=30)
@given(st.text(max_size=200))
def test_npy_header_text(text: str) -> None:
    raw = text.encode("latin1", "replace")
    body = b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw
    with pytest.raises((DecodeProblem, ValueError)):
        if parse_npy_header(body).data_bytes == 0 and len(body) == parse_npy_header(body).data_offset:
            raise DecodeProblem("empty but valid")


@given(st.data())
def test_geotiff_mutated(data: st.DataObject) -> None:
    array = np.arange(6 * 5 * 2, dtype="<u2").reshape(6, 5, 2)
    base = _tiff(
        array, photometric="minisblack", planarconfig="contig", compression=data.draw(st.sampled_from([None, "zlib"]))
    )
    decode(data.draw(mutated(base)), "GEO_TIFF")


@given(hnp.arrays(st.sampled_from([np.uint8, np.int16, np.float32]), st.tuples(st.integers(1, 6), st.integers(1, 6))))
def test_geotiff_roundtrip(array: np.ndarray[Any, Any]) -> None:
    got = decode(_tiff(array), "GEO_TIFF")
    assert got is not None
    np.testing.assert_array_equal(got[..., 0], array)


def test_geotiff_bomb_is_refused() -> None:
    """A small compressed file whose tags claim 1 GiB of pixels is refused before decoding."""
    tifffile = pytest.importorskip("tifffile")
    import struct
    import tracemalloc

    body = bytearray(_tiff(np.zeros((256, 256), np.uint8), compression="zlib", tile=(256, 256)))
    with tifffile.TiffFile(io.BytesIO(bytes(body))) as tif:
        tags = tif.pages[0].tags
        for code in (256, 257):  # ImageWidth, ImageLength
            tag = tags[code]
            fmt = "<I" if tag.dtype == 4 else "<H"
            struct.pack_into(fmt, body, tag.valueoffset, 32768 if fmt == "<I" else 65535)
    tracemalloc.start()
    try:
        with pytest.raises(ResponseDecodeError):
            Pixels(bytes(body), file_format="GEO_TIFF").to_numpy()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


@given(st.data())
def test_png_mutated(data: st.DataObject) -> None:
    base = _png(np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3))
    decode(data.draw(mutated(base)), "PNG")
