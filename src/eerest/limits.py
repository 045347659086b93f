"""The request limits of ``computePixels`` and ``getPixels``, and pure checks against them.

The service rejects an over-limit request with HTTP 400 only after a round trip; eerest
runs these checks before sending (see :mod:`eerest._overlays.pixel_requests`). They are public so
that you can plan tiles yourself::

    from eerest import limits
    limits.request_bytes(2048, 2048, ["float32"] * 3)   # 62914560: over the limit
    limits.suggest_tile(2048, 2048, ["float32"] * 3)    # (1792, 1872)

Sizes are counted as the server counts them: width x height x the sum over bands of
(bytes per value + 1), the extra byte being the mask.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eerest.errors import InvalidRequestError, RequestLimitError

if TYPE_CHECKING:  # numpy is imported by the first function that needs it, not by this module
    import numpy as np
    from numpy.typing import DTypeLike

    INT_DTYPES: tuple[np.dtype[Any], ...]

__all__ = [
    "MAX_REQUEST_BYTES",
    "MAX_GRID_DIMENSION",
    "MAX_BANDS",
    "PIXEL_FILE_FORMATS",
    "INT_DTYPES",
    "pixel_dtype",
    "bytes_per_pixel",
    "request_bytes",
    "dtype_for_pixel_type",
    "suggest_tile",
    "check_grid_dimensions",
    "check_band_count",
    "check_request_bytes",
    "check_file_format",
    "check_visualization",
]

#: 48 MiB: the most uncompressed data one pixel request may ask for.
MAX_REQUEST_BYTES = 50331648
#: The most pixels in either grid dimension.
MAX_GRID_DIMENSION = 32768
#: The most bands one pixel request may ask for.
MAX_BANDS = 1024

#: File formats ``computePixels`` and ``getPixels`` answer with. ``TF_RECORD_IMAGE`` is
#: for exports only and the ``ZIPPED_*`` formats for thumbnails only.
PIXEL_FILE_FORMATS: frozenset[str] = frozenset(
    {"IMAGE_FILE_FORMAT_UNSPECIFIED", "NPY", "GEO_TIFF", "PNG", "JPEG", "AUTO_JPEG_PNG"}
)

_INT_TYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "int64")


@functools.cache
def _int_dtypes() -> tuple[np.dtype[Any], ...]:
    import numpy as np

    return tuple(np.dtype(t) for t in _INT_TYPES)


def __getattr__(name: str) -> Any:
    if name == "INT_DTYPES":
        #: The integer types an INT band may be served as, smallest first (the service
        #: picks the first that holds the band's range); numpy dtypes, built on first use.
        return _int_dtypes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MIB = 1024 * 1024


def pixel_dtype(d: DTypeLike) -> np.dtype[Any]:
    """``d`` as a numpy dtype a band can have (bool, integer or float), or InvalidRequestError."""
    import numpy as np

    try:
        dtype = np.dtype(d)
    except TypeError as exc:
        raise InvalidRequestError(f"{d!r} is not a numpy dtype ({exc})") from exc
    if dtype.kind not in "biuf":
        raise InvalidRequestError(f"{dtype} is not a pixel type: use a boolean, integer or float dtype")
    return dtype


def bytes_per_pixel(band_dtypes: Sequence[DTypeLike]) -> int:
    """What one pixel of these bands costs the server: the sum of (itemsize + 1 mask byte)."""
    return sum(pixel_dtype(d).itemsize + 1 for d in band_dtypes)


def request_bytes(width: int, height: int, band_dtypes: Sequence[DTypeLike]) -> int:
    """The size the server counts for a ``width`` x ``height`` request of these bands."""
    return width * height * bytes_per_pixel(band_dtypes)


def dtype_for_pixel_type(precision: str, min: float | None = None, max: float | None = None) -> np.dtype[Any] | None:
    """The numpy dtype a band of this ``PixelDataType`` is served as, or ``None`` if unknown.

    INT with a range -> the smallest integer type holding it; FLOAT -> float32;
    DOUBLE -> float64; INT without a range, or anything else -> ``None``.
    """
    import numpy as np

    precision = str(getattr(precision, "value", precision))
    if precision == "FLOAT":
        return np.dtype("float32")
    if precision == "DOUBLE":
        return np.dtype("float64")
    if precision != "INT" or min is None or max is None:
        return None
    lo, hi = math.floor(min), math.ceil(max)
    for dt in _int_dtypes():
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return dt
    return np.dtype("float64")  # wider than int64: served as double


def _round_down(n: int, step: int) -> int:
    return n - n % step if n >= step else n


def suggest_tile(width: int, height: int, band_dtypes: Sequence[DTypeLike] | None = None) -> tuple[int, int]:
    """A (width, height) no larger than the request that fits every limit: the width a
    multiple of 256 pixels where possible, the height as large as the size limit allows."""
    width = max(1, min(width, MAX_GRID_DIMENSION))
    height = max(1, min(height, MAX_GRID_DIMENSION))
    if not band_dtypes:
        return width, height
    per_pixel = bytes_per_pixel(band_dtypes)
    if width * height * per_pixel <= MAX_REQUEST_BYTES:
        return width, height
    pixels = MAX_REQUEST_BYTES // per_pixel
    side = _round_down(math.isqrt(pixels), 256)
    tile_w = min(width, side)
    tile_h = min(height, MAX_GRID_DIMENSION, pixels // tile_w)
    return tile_w, tile_h


def check_grid_dimensions(
    width: int | None, height: int | None, band_dtypes: Sequence[DTypeLike] | None = None
) -> None:
    """Raise :class:`RequestLimitError` if a dimension exceeds :data:`MAX_GRID_DIMENSION`
    (``None`` means unknown: not checked)."""
    for name, value in (("width", width), ("height", height)):
        if value is not None and value <= 0:
            raise InvalidRequestError(f"grid.dimensions.{name} must be a positive number of pixels, not {value}")
    largest = max(width or 0, height or 0)
    if largest > MAX_GRID_DIMENSION:
        tile = suggest_tile(width or MAX_GRID_DIMENSION, height or MAX_GRID_DIMENSION, band_dtypes)
        shown = f"{width if width is not None else '?'}x{height if height is not None else '?'}"
        raise RequestLimitError(
            f"Pixel grid dimensions ({shown}) must be less than or equal to {MAX_GRID_DIMENSION}: "
            f"{largest} pixels is over the limit of {MAX_GRID_DIMENSION} by {largest - MAX_GRID_DIMENSION}. "
            f"Request tiles of at most {tile[0]}x{tile[1]} pixels instead.",
            size=largest,
            limit=MAX_GRID_DIMENSION,
            unit="pixels",
            suggested_tile=tile,
        )


def check_band_count(count: int) -> None:
    """Raise :class:`RequestLimitError` if more than :data:`MAX_BANDS` bands are requested."""
    if count > MAX_BANDS:
        raise RequestLimitError(
            f"Number of bands ({count}) must be less than or equal to {MAX_BANDS}: "
            f"split the bands over {math.ceil(count / MAX_BANDS)} requests of at most {MAX_BANDS} bands "
            "(tiling the grid does not help).",
            size=count,
            limit=MAX_BANDS,
            unit="bands",
            suggested_tile=None,
        )


def check_request_bytes(width: int, height: int, band_dtypes: Sequence[DTypeLike]) -> None:
    """Raise :class:`RequestLimitError` if the request is over :data:`MAX_REQUEST_BYTES`."""
    size = request_bytes(width, height, band_dtypes)
    if size <= MAX_REQUEST_BYTES:
        return
    per_pixel = bytes_per_pixel(band_dtypes)
    tile = suggest_tile(width, height, band_dtypes)
    types = ", ".join(str(pixel_dtype(d)) for d in band_dtypes)
    raise RequestLimitError(
        f"Total request size ({size} bytes) must be less than or equal to {MAX_REQUEST_BYTES} bytes "
        f"(48 MiB): {width}x{height} pixels x {per_pixel} bytes per pixel ({len(band_dtypes)} bands: "
        f"{types}; each value costs its size plus 1 mask byte) is {size / _MIB:.1f} MiB. "
        f"Request tiles of at most {tile[0]}x{tile[1]} pixels "
        f"({request_bytes(*tile, band_dtypes)} bytes) instead.",
        size=size,
        limit=MAX_REQUEST_BYTES,
        unit="bytes",
        suggested_tile=tile,
    )


def check_file_format(file_format: str | None, method: str = "computePixels") -> None:
    """Raise :class:`InvalidRequestError` for a format pixel methods never answer with."""
    if file_format is None:
        return
    value = str(getattr(file_format, "value", file_format))
    if value in PIXEL_FILE_FORMATS:
        return
    why = {
        "TF_RECORD_IMAGE": "TF_RECORD_IMAGE is only supported for image exports",
        "ZIPPED_GEO_TIFF": "ZIPPED_GEO_TIFF is only available for thumbnails",
        "ZIPPED_GEO_TIFF_PER_BAND": "ZIPPED_GEO_TIFF_PER_BAND is only available for thumbnails",
    }.get(value, f"{value} is not a pixel format")
    allowed = ", ".join(sorted(PIXEL_FILE_FORMATS - {"IMAGE_FILE_FORMAT_UNSPECIFIED"}))
    raise InvalidRequestError(f"{method}: {why}; use one of {allowed}")


def _get(obj: Any, attr: str, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, attr, None)


def check_visualization(options: Any, band_count: int | None) -> None:
    """Raise :class:`InvalidRequestError` for visualization options that cannot work:
    opacity outside [0, 1], a palette with more than one band, or a number of ranges that
    is neither 1 nor the band count. ``options`` is a ``VisualizationOptions`` or its
    JSON dict; ``band_count`` is ``None`` when unknown."""
    if options is None:
        return
    opacity = _get(options, "opacity", "opacity")
    if opacity is not None and not 0.0 <= float(opacity) <= 1.0:
        raise InvalidRequestError(f"visualization_options.opacity must be in [0, 1], not {opacity}")
    if band_count is None:
        return
    palette = _get(options, "palette_colors", "paletteColors")
    if palette and band_count != 1:
        raise InvalidRequestError(
            f"visualization_options.palette_colors needs exactly one band, but {band_count} are requested; "
            "select one band with band_ids"
        )
    ranges = _get(options, "ranges", "ranges")
    if ranges and len(ranges) not in (1, band_count):
        raise InvalidRequestError(
            f"visualization_options.ranges has {len(ranges)} entries; give 1 (for all bands) or "
            f"{band_count} (one per requested band)"
        )
