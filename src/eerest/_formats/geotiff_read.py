"""Decoding a GeoTIFF body into a (height, width, bands) array with its affine transform and
CRS, through the optional ``tifffile`` (``pip install 'eerest[geotiff]'``)."""

from __future__ import annotations

from typing import IO, Any, cast

import numpy as np

from eerest._extras import missing_extra
from eerest._formats.buffer_file import BufferFile

__all__ = ["MAX_DECODED_BYTES", "decode_geotiff", "georeference", "transform_from_tags", "crs_from_geokeys"]

Transform = tuple[float, float, float, float, float, float]

_PIXEL_SCALE, _TIEPOINT, _TRANSFORMATION, _GEOKEYS = 33550, 33922, 34264, 34735
_RASTER_TYPE, _GEOGRAPHIC_TYPE, _PROJECTED_TYPE = 1025, 2048, 3072
_USER_DEFINED = 32767
#: The most a GeoTIFF body may decode to: the service answers at most 48 MiB of pixels, so
#: a file claiming more (a decompression bomb) is refused before anything is allocated.
MAX_DECODED_BYTES = 256 << 20


def geokeys(values: Any) -> dict[int, int]:
    """The inline (SHORT) entries of a GeoKeyDirectoryTag, by key id."""
    values = [int(v) for v in values or ()]
    if len(values) < 4:
        return {}
    out = {}
    for i in range(4, 4 + 4 * values[3], 4):
        key, location, _count, value = values[i : i + 4]
        if location == 0:
            out[key] = value
    return out


def crs_from_geokeys(keys: dict[int, int]) -> str | None:
    """``"EPSG:n"`` from the projected or geographic CRS key, or ``None`` when user-defined/absent."""
    for key in (_PROJECTED_TYPE, _GEOGRAPHIC_TYPE):
        code = keys.get(key)
        if code and code != _USER_DEFINED:
            return f"EPSG:{code}"
    return None


def transform_from_tags(scale: Any, tiepoint: Any, matrix: Any, pixel_is_point: bool = False) -> Transform | None:
    """The AffineTransform (scaleX, shearX, translateX, shearY, scaleY, translateY) of
    the GeoTIFF tags, in Earth Engine's PixelIsArea convention."""
    if matrix is not None and len(matrix) >= 8:
        m = [float(v) for v in matrix]
        t = (m[0], m[1], m[3], m[4], m[5], m[7])
    elif scale is not None and tiepoint is not None and len(scale) >= 2 and len(tiepoint) >= 6:
        sx, sy = float(scale[0]), float(scale[1])
        i, j, x, y = (float(v) for v in (tiepoint[0], tiepoint[1], tiepoint[3], tiepoint[4]))
        t = (sx, 0.0, x - i * sx, 0.0, -sy, y + j * sy)
    else:
        return None
    if pixel_is_point:  # the tie point names a pixel centre: move it to the corner
        t = (t[0], t[1], t[2] - 0.5 * (t[0] + t[1]), t[3], t[4], t[5] - 0.5 * (t[3] + t[4]))
    return t


def _to_hwc(array: np.ndarray[Any, Any], axes: str) -> np.ndarray[Any, Any]:
    """Reorder a tifffile series to (height, width, bands)."""
    if "Y" not in axes or "X" not in axes:
        raise ValueError(f"the GeoTIFF has no Y/X axes (axes {axes!r})")
    order = [axes.index("Y"), axes.index("X")] + [i for i, a in enumerate(axes) if a not in "YX"]
    out = np.transpose(array, order)
    return out.reshape(out.shape[0], out.shape[1], -1)


def _pixels(tif: Any, content: bytes | bytearray) -> np.ndarray[Any, Any]:
    """The first series' pixels: a view on ``content`` when they lie in it uncompressed and
    contiguous (no copy at all), else decoded by tifffile (read in place, one copy)."""
    series = tif.series[0]
    if series.nbytes > MAX_DECODED_BYTES:
        raise ValueError(
            f"the GeoTIFF claims {series.nbytes} bytes of pixels (shape {series.shape}), more than the "
            f"{MAX_DECODED_BYTES} any pixel request can produce"
        )
    offset = series.dataoffset
    if offset is not None and series.dtype is not None:
        dtype = np.dtype(series.dtype).newbyteorder(tif.byteorder)
        view: np.ndarray[Any, Any] = np.ndarray(tuple(series.shape), dtype=dtype, buffer=content, offset=int(offset))
        return view
    return cast("np.ndarray[Any, Any]", series.asarray())


def _floatpred_decode(data: Any, axis: int = -2, out: Any = None) -> Any:
    """TIFF predictor 3 (floating point) undone with numpy, as tifffile calls it on a
    (..., length, width, samples) segment: each row's bytes are differenced, then grouped
    most significant first."""
    shape, dtype = data.shape, data.dtype
    rows = np.ascontiguousarray(data).view(np.uint8).reshape(*shape[:-2], -1)
    rows = np.cumsum(rows, axis=-1, dtype=np.uint8)
    grouped = np.moveaxis(rows.reshape(*shape[:-2], dtype.itemsize, -1), -2, -1)
    values = np.ascontiguousarray(grouped).view(dtype.newbyteorder(">")).reshape(shape).astype(dtype)
    if out is None or not out.flags.writeable:
        return values
    out[...] = values
    return out


def _tifffile() -> Any:
    """tifffile, able to read floating-point predictors (what eerest's GeoTIFFs use) also
    without imagecodecs."""
    import tifffile

    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        codecs = getattr(tifffile.TIFF.UNPREDICTORS, "_codecs", None)
        if isinstance(codecs, dict):
            codecs.setdefault(3, _floatpred_decode)
    return tifffile


def georeference(page: Any) -> tuple[Transform | None, str | None]:
    """(affine transform or None, CRS code or None) of a tifffile page, from its GeoTIFF tags."""
    tags = page.tags

    def tag(code: int) -> Any:
        t = tags.get(code)
        return None if t is None else t.value

    keys = geokeys(tag(_GEOKEYS))
    transform = transform_from_tags(
        tag(_PIXEL_SCALE), tag(_TIEPOINT), tag(_TRANSFORMATION), keys.get(_RASTER_TYPE) == 2
    )
    return transform, crs_from_geokeys(keys)


def decode_geotiff(content: bytes | bytearray) -> tuple[np.ndarray[Any, Any], Transform | None, str | None]:
    """(pixels as (height, width, bands), affine transform or None, CRS code or None)."""
    try:
        tifffile = _tifffile()
    except ImportError:
        raise missing_extra("Decoding GEO_TIFF", "tifffile", "geotiff") from None
    try:
        with tifffile.TiffFile(cast(IO[bytes], BufferFile(content))) as tif:
            array = _to_hwc(_pixels(tif, content), tif.series[0].axes)
            return (array, *georeference(tif.pages[0]))
    except ImportError:
        raise
    except Exception as exc:  # tifffile raises many types for malformed files
        raise ValueError(f"the GeoTIFF body cannot be decoded ({type(exc).__name__}: {exc})") from exc
