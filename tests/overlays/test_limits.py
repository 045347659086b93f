"""eerest.limits: sizes counted as the server counts them, and each check at its boundary."""

from __future__ import annotations

import numpy as np
import pytest

from eerest import InvalidRequestError, RequestLimitError, limits


def test_constants() -> None:
    assert limits.MAX_REQUEST_BYTES == 50331648 == 48 * 1024 * 1024
    assert limits.MAX_GRID_DIMENSION == 32768
    assert limits.MAX_BANDS == 1024


def test_request_bytes_counts_a_mask_byte_per_value() -> None:
    assert limits.request_bytes(10, 20, ["uint8"]) == 10 * 20 * 2
    assert limits.request_bytes(10, 20, [np.float64, "float32", np.dtype("int16")]) == 10 * 20 * (9 + 5 + 3)
    # the rejection quoted in FACTS.md: 1845 x 1727 x 2 float64 = 57353670 bytes
    assert limits.request_bytes(1845, 1727, ["float64", "float64"]) == 57353670


def test_request_bytes_rejects_non_pixel_types() -> None:
    with pytest.raises(InvalidRequestError, match="not a pixel type"):
        limits.request_bytes(1, 1, [object])
    with pytest.raises(InvalidRequestError, match="not a numpy dtype"):
        limits.request_bytes(1, 1, ["no-such-type"])


@pytest.mark.parametrize(
    ("precision", "lo", "hi", "expected"),
    [
        ("INT", 0, 255, "uint8"),
        ("INT", -128, 127, "int8"),
        ("INT", -1, 255, "int16"),
        ("INT", 0, 65535, "uint16"),
        ("INT", -32768, 32767, "int16"),
        ("INT", 0, 4294967295, "uint32"),
        ("INT", -1, 65536, "int32"),
        ("INT", -(2**40), 2**40, "int64"),
        ("FLOAT", None, None, "float32"),
        ("DOUBLE", None, None, "float64"),
    ],
)
def test_dtype_for_pixel_type(precision: str, lo: float | None, hi: float | None, expected: str) -> None:
    assert limits.dtype_for_pixel_type(precision, lo, hi) == np.dtype(expected)


def test_dtype_for_pixel_type_unknown() -> None:
    assert limits.dtype_for_pixel_type("INT") is None
    assert limits.dtype_for_pixel_type("PRECISION_UNSPECIFIED") is None


def test_bytes_boundary() -> None:
    # 2048 x 2048 x 4 uint16 bands = 2048*2048*12 = exactly the limit: allowed
    at_limit = ["uint16"] * 4
    assert limits.request_bytes(2048, 2048, at_limit) == limits.MAX_REQUEST_BYTES
    limits.check_request_bytes(2048, 2048, at_limit)
    # the smallest step over it (one more column) is refused, with size, limit and a tile
    with pytest.raises(RequestLimitError) as info:
        limits.check_request_bytes(2049, 2048, at_limit)
    err = info.value
    assert (err.size, err.limit, err.unit) == (limits.MAX_REQUEST_BYTES + 2048 * 12, limits.MAX_REQUEST_BYTES, "bytes")
    assert str(err.size) in str(err) and str(err.limit) in str(err)
    assert f"{err.suggested_tile[0]}x{err.suggested_tile[1]}" in str(err)
    assert limits.request_bytes(*err.suggested_tile, at_limit) <= limits.MAX_REQUEST_BYTES


def test_bytes_boundary_to_the_byte() -> None:
    # per pixel 2 bytes (uint8 + mask): the limit is 25165824 pixels; a 1-pixel-high grid
    # cannot be that wide, so use a 4096-wide one: 6144 rows is the limit exactly.
    limits.check_request_bytes(4096, 6144, ["uint8"])
    with pytest.raises(RequestLimitError):
        limits.check_request_bytes(4096, 6145, ["uint8"])


def test_dimension_boundary() -> None:
    limits.check_grid_dimensions(32768, 1)
    limits.check_grid_dimensions(1, 32768)
    for w, h in ((32769, 1), (1, 32769)):
        with pytest.raises(RequestLimitError) as info:
            limits.check_grid_dimensions(w, h)
        err = info.value
        assert (err.size, err.limit, err.unit) == (32769, 32768, "pixels")
        assert "32769" in str(err) and "32768" in str(err)
        assert max(err.suggested_tile) <= 32768
    with pytest.raises(InvalidRequestError, match="positive"):
        limits.check_grid_dimensions(0, 10)


def test_dimension_unknown_side() -> None:
    limits.check_grid_dimensions(None, None)
    with pytest.raises(RequestLimitError, match=r"40000x\?"):
        limits.check_grid_dimensions(40000, None)


def test_band_boundary() -> None:
    limits.check_band_count(1024)
    with pytest.raises(RequestLimitError) as info:
        limits.check_band_count(1025)
    err = info.value
    assert (err.size, err.limit, err.unit, err.suggested_tile) == (1025, 1024, "bands", None)
    assert "1025" in str(err) and "1024" in str(err)


@pytest.mark.parametrize(("w", "h", "dtypes"), [(2048, 2048, ["float32"] * 3), (100000, 5, ["float64"]),
                                                (5, 100000, ["uint8"] * 1024), (40000, 40000, ["int16"]),
                                                (10, 10, ["float64"])])
def test_suggest_tile_fits(w: int, h: int, dtypes: list[str]) -> None:
    tw, th = limits.suggest_tile(w, h, dtypes)
    assert 0 < tw <= min(w, 32768) and 0 < th <= min(h, 32768)
    assert limits.request_bytes(tw, th, dtypes) <= limits.MAX_REQUEST_BYTES


def test_suggest_tile_example() -> None:
    assert limits.suggest_tile(2048, 2048, ["float32"] * 3) == (1792, 1872)


@pytest.mark.parametrize("fmt", ["NPY", "GEO_TIFF", "PNG", "JPEG", "AUTO_JPEG_PNG", "IMAGE_FILE_FORMAT_UNSPECIFIED", None])
def test_file_formats_allowed(fmt: str | None) -> None:
    limits.check_file_format(fmt)


@pytest.mark.parametrize("fmt", ["TF_RECORD_IMAGE", "ZIPPED_GEO_TIFF", "ZIPPED_GEO_TIFF_PER_BAND"])
def test_file_formats_refused(fmt: str) -> None:
    with pytest.raises(InvalidRequestError, match=fmt):
        limits.check_file_format(fmt, "getPixels")


def test_visualization() -> None:
    for opacity in (0, 0.5, 1):
        limits.check_visualization({"opacity": opacity}, 3)
    for opacity in (-0.01, 1.01):
        with pytest.raises(InvalidRequestError, match="opacity"):
            limits.check_visualization({"opacity": opacity}, 3)
    limits.check_visualization({"paletteColors": ["000000", "ffffff"]}, 1)
    limits.check_visualization({"paletteColors": ["000000", "ffffff"]}, None)  # unknown: not checked
    with pytest.raises(InvalidRequestError, match="palette"):
        limits.check_visualization({"paletteColors": ["000000", "ffffff"]}, 2)
    limits.check_visualization({"ranges": [{"min": 0, "max": 1}]}, 3)
    limits.check_visualization({"ranges": [{"min": 0, "max": 1}] * 3}, 3)
    with pytest.raises(InvalidRequestError, match="ranges has 2"):
        limits.check_visualization({"ranges": [{"min": 0, "max": 1}] * 2}, 3)
