"""``Pixels``: what ``compute_pixels`` and ``get_pixels`` return.

The body is read once, straight into one buffer pre-sized from Content-Length, and kept
as ``.content``; ``to_numpy()`` of an NPY body is a view on that buffer (no copy), so an
N-byte answer costs about N bytes of memory. To keep the body out of memory altogether,
stream it to a file::

    with client.projects.image.with_streaming_response.compute_pixels(...) as response:
        response.write_to("tile.npy")          # or: for chunk in response.iter_bytes(): ...
    array = numpy.load("tile.npy", mmap_mode="r")   # or eerest.Pixels.from_file("tile.npy")

GeoTIFF decoding needs ``pip install 'eerest[geotiff]'`` (tifffile), PNG/JPEG decoding
``pip install 'eerest[image]'`` (Pillow).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from eerest._formats.magic import check_format
from eerest._formats.npy import DecodeProblem, NpyHeader, npy_array, parse_npy_header, plain_view
from eerest.errors import ResponseDecodeError

__all__ = ["Pixels", "GeoArray", "Transform"]

#: An affine transform as Earth Engine's AffineTransform orders it:
#: (scale_x, shear_x, translate_x, shear_y, scale_y, translate_y).
Transform = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class GeoArray:
    """Pixels with their georeferencing: ``array`` is (height, width, bands); pixel
    (col, row) covers the CRS area whose top-left corner is ``transform`` times (col, row, 1)."""

    array: np.ndarray[Any, Any]
    transform: Transform | None
    crs: str | None  # "EPSG:32633", a WKT string, or None when unknown


class Pixels:
    """A block of pixels as the service sent it, with ways to read it.

    - ``content``: the body (a ``bytearray``, the buffer the response was read into);
    - ``file_format``: what the body is: ``"NPY"``, ``"GEO_TIFF"``, ``"PNG"`` or ``"JPEG"``
      (for ``AUTO_JPEG_PNG`` requests, the one the server chose);
    - ``content_type``, and the request's ``band_ids`` and ``grid`` (``None`` when not given).

    ``to_numpy()`` gives the array ``numpy.load`` would (a view on ``content`` for NPY:
    writing to it changes ``content``); ``to_array()`` a plain (height, width, bands) array;
    ``to_geoarray()`` adds the affine transform and CRS; ``save(path)`` writes the body.
    """

    __slots__ = ("_decoded", "_npy", "band_ids", "content", "content_type", "file_format", "grid")

    def __init__(
        self,
        content: bytearray | bytes,
        *,
        file_format: str | None = None,
        content_type: str = "",
        band_ids: list[str] | None = None,
        grid: Any = None,
        _request: Any = None,
    ) -> None:
        """Wrap a body; ``file_format`` is what was requested (``None``: any). Raises
        :class:`~eerest.ResponseDecodeError` if the body is not that format or, for NPY,
        if its header disagrees with its size or holds objects."""
        self.content = content if isinstance(content, bytearray) else bytearray(content)
        self.content_type = content_type
        self.band_ids = list(band_ids) if band_ids is not None else None
        self.grid = grid
        self._npy: NpyHeader | None = None
        self._decoded: Any = None
        try:
            self.file_format = check_format(self.content, file_format)
            if self.file_format == "NPY":
                self._npy = parse_npy_header(self.content)
        except (DecodeProblem, ValueError) as exc:
            raise ResponseDecodeError(f"pixel response: {exc}", request=_request) from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, file_format: str | None = None) -> Pixels:
        """Read a body saved with ``save``/``write_to`` (format told by its magic)."""
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            buf = bytearray(size)
            f.readinto(buf)
        return cls(buf, file_format=file_format)

    def __len__(self) -> int:
        return len(self.content)

    def __bytes__(self) -> bytes:
        """A copy of the body (``content`` is the body itself, without copying)."""
        return bytes(self.content)

    def __repr__(self) -> str:
        return f"Pixels(file_format={self.file_format!r}, {len(self.content)} bytes, band_ids={self.band_ids!r})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        """``numpy.asarray(pixels)``: ``to_numpy()``, shared with the body unless ``copy=True``
        (or a ``dtype`` that needs converting); ``copy=False`` refuses to copy."""
        arr = self.to_numpy()
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            if copy is False:
                raise ValueError(f"converting the pixels from {arr.dtype} to {np.dtype(dtype)} needs a copy")
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    # -- numpy ----------------------------------------------------------------------------
    def to_numpy(self) -> np.ndarray[Any, Any]:
        """NPY: the structured (height, width) array ``numpy.load`` gives, one field per band,
        as a view on ``content``. GEO_TIFF: (height, width, bands) in the file's type.
        PNG/JPEG: uint8 (height, width, channels)."""
        if self._npy is not None:
            return npy_array(self.content, self._npy)
        return self._decode()[0]

    def to_array(self, dtype: Any = None) -> np.ndarray[Any, Any]:
        """A plain (height, width, bands) array, bands in ``band_ids`` order. For NPY it is a
        view on ``content`` when all bands share one type (as the service sends them when
        their types agree); otherwise a copy in their common type, or in ``dtype``."""
        arr = self.to_numpy()
        if self._npy is not None:
            return plain_view(arr, dtype)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def to_geoarray(self) -> GeoArray:
        """``to_array()`` with its affine transform and CRS: read from a GeoTIFF's tags, or
        taken from the request's ``grid`` for other formats when it gives both."""
        if self.file_format == "GEO_TIFF":
            array, transform, crs = self._decode()
            if crs is None:
                crs = _grid_crs(self.grid)
            return GeoArray(array, transform, crs)
        transform, crs = _grid_transform(self.grid), _grid_crs(self.grid)
        if transform is None or crs is None:
            raise ValueError(
                f"a {self.file_format} body carries no georeferencing: request GEO_TIFF, or pass a grid "
                "with affine_transform and crs_code"
            )
        return GeoArray(self.to_array(), transform, crs)

    def _decode(self) -> tuple[np.ndarray[Any, Any], Transform | None, str | None]:
        if self._decoded is None:
            try:
                if self.file_format == "GEO_TIFF":
                    from eerest._formats.geotiff_read import decode_geotiff

                    self._decoded = decode_geotiff(self.content)
                else:
                    from eerest._formats.picture import decode_picture

                    self._decoded = (decode_picture(self.content), None, None)
            except ImportError:
                raise
            except ValueError as exc:
                raise ResponseDecodeError(f"pixel response: {exc}") from exc
        return self._decoded  # type: ignore[no-any-return]

    # -- files ----------------------------------------------------------------------------
    def save(self, file: str | os.PathLike[str] | IO[bytes]) -> int:
        """Write the body as received (a .npy, .tif, .png or .jpg file); returns its size."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "wb") as f:
                return self.save(f)
        file.write(memoryview(self.content))
        return len(self.content)

    write_to = save


def _grid_transform(grid: Any) -> Transform | None:
    t = getattr(grid, "affine_transform", None)
    if t is None:
        return None
    values = (t.scale_x, t.shear_x, t.translate_x, t.shear_y, t.scale_y, t.translate_y)
    return tuple(float(v or 0.0) for v in values)  # type: ignore[return-value]


def _grid_crs(grid: Any) -> str | None:
    return getattr(grid, "crs_code", None) or getattr(grid, "crs_wkt", None)
