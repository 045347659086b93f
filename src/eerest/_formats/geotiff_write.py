"""The GeoTIFF that ``read_area(..., out="x.tif")`` writes: uncompressed, tiled (tile =
the planner's block size, so planned tiles cover whole TIFF tiles), one plane per band
(PlanarConfiguration 2), BigTIFF when the data passes 4 GiB, georeferenced with
ModelPixelScale + ModelTiepoint (or ModelTransformation when the grid is sheared or not
north-up) and GeoKeys naming the EPSG code.

tifffile writes the header; the data area is left as a hole (a sparse file) whose tile
offsets :class:`TiffLayout` records, to be filled tile by tile as the pixels arrive.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from typing import IO, Any, Protocol, cast

import numpy as np

from eerest._extras import missing_extra
from eerest.errors import InvalidRequestError

__all__ = ["GridShape", "TiffLayout", "create_geotiff", "geotiff_tags", "tiff_dtype"]

class GridShape(Protocol):
    """What a GeoTIFF needs to know of a pixel grid (``eerest.tiling.PixelGrid`` is one)."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def crs(self) -> str: ...
    @property
    def transform(self) -> tuple[float, float, float, float, float, float]: ...


_PIXEL_SCALE, _TIEPOINT, _TRANSFORMATION, _GEOKEYS = 33550, 33922, 34264, 34735
_BIGTIFF_AT = 2**32 - 2**26  # leave room for the header and tile tables
# Common geographic (lon/lat) EPSG codes; any other code is written as a projected CRS.
_GEOGRAPHIC = {4326, 4269, 4258, 4267, 4979, 4283, 4674, 4612, 4617, 4322, 4230, 4204, 4148, 4167, 4490, 4618, 4686}


def tiff_dtype(dtypes: list[np.dtype[Any]]) -> np.dtype[Any]:
    """The one type a GeoTIFF holds bands of these types in: their common type (numpy's
    ``result_type``: uint16 and float32 give float32), booleans as uint8, little-endian."""
    common = np.result_type(*dtypes)
    if common == np.bool_:
        common = np.dtype(np.uint8)
    little: np.dtype[Any] = common.newbyteorder("<")
    return little


def _epsg(crs: str) -> int | None:
    match = re.fullmatch(r"\s*EPSG:(\d+)\s*", crs, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def geotiff_tags(grid: GridShape) -> list[tuple[int, str, int, tuple[Any, ...], bool]]:
    """tifffile ``extratags`` placing ``grid``'s pixels (PixelIsArea) in its CRS."""
    sx, shx, tx, shy, sy, ty = grid.transform
    tags: list[tuple[int, str, int, tuple[Any, ...], bool]] = []
    if shx == 0 and shy == 0 and sx > 0 and sy < 0:
        tags.append((_PIXEL_SCALE, "d", 3, (sx, -sy, 0.0), True))
        tags.append((_TIEPOINT, "d", 6, (0.0, 0.0, 0.0, tx, ty, 0.0), True))
    else:
        matrix = (sx, shx, 0.0, tx, shy, sy, 0.0, ty, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
        tags.append((_TRANSFORMATION, "d", 16, matrix, True))
    code = _epsg(grid.crs)
    keys = [(1025, 0, 1, 1)]  # GTRasterType: PixelIsArea
    if code is None:
        keys = [(1024, 0, 1, 32767), *keys]  # user-defined model: the CRS is WKT, not written
    elif code in _GEOGRAPHIC:
        keys = [(1024, 0, 1, 2), *keys, (2048, 0, 1, code)]
    else:
        keys = [(1024, 0, 1, 1), *keys, (3072, 0, 1, code)]
    directory = [1, 1, 0, len(keys)]
    for key in keys:
        directory.extend(key)
    tags.append((_GEOKEYS, "H", len(directory), tuple(directory), True))
    return tags


@dataclass(frozen=True)
class TiffLayout:
    """Where each (band, tile row, tile column) of the file starts."""

    width: int
    height: int
    bands: int
    tile: int
    dtype: np.dtype[Any]
    offsets: tuple[int, ...]

    @property
    def tiles_across(self) -> int:
        return -(-self.width // self.tile)

    @property
    def tiles_down(self) -> int:
        return -(-self.height // self.tile)

    def offset(self, band: int, ty: int, tx: int) -> int:
        return self.offsets[(band * self.tiles_down + ty) * self.tiles_across + tx]


class _SparseWriter(io.RawIOBase):
    """A file for tifffile in which writing the placeholder tile only moves the position,
    leaving a hole: the data area costs neither time nor disk until it is filled."""

    def __init__(self, f: Any, placeholder: bytes) -> None:
        self._f = f
        self._placeholder = placeholder
        self.end = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if data is self._placeholder:
            n = len(data)
            self._f.seek(n, os.SEEK_CUR)
        else:
            n = self._f.write(data)
        self.end = max(self.end, self._f.tell())
        return n

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        return int(self._f.seek(pos, whence))

    def tell(self) -> int:
        return int(self._f.tell())


def create_geotiff(path: str, grid: GridShape, bands: int, dtype: np.dtype[Any], tile: int) -> TiffLayout:
    """Write the header of an empty tiled GeoTIFF for ``grid`` and return its layout."""
    try:
        import tifffile
    except ImportError:
        raise missing_extra("Writing a GeoTIFF", "tifffile", "geotiff") from None
    if tile % 16:
        raise InvalidRequestError(f"a GeoTIFF's tiles must be a multiple of 16 pixels; block_size={tile} is not")
    shape = (grid.height, grid.width) if bands == 1 else (bands, grid.height, grid.width)
    placeholder = bytes(tile * tile * dtype.itemsize)
    count = bands * -(-grid.height // tile) * -(-grid.width // tile)
    with open(path, "wb") as f:
        sparse = _SparseWriter(f, placeholder)
        with tifffile.TiffWriter(cast("IO[bytes]", sparse), bigtiff=count * len(placeholder) > _BIGTIFF_AT) as writer:
            writer.write(
                (placeholder for _ in range(count)),
                shape=shape,
                dtype=dtype,
                tile=(tile, tile),
                photometric="minisblack",
                planarconfig="separate" if bands > 1 else None,
                extratags=geotiff_tags(grid),
                metadata=None,
                software="eerest",
            )
        f.truncate(sparse.end)
    return read_layout(path, grid, bands, dtype, tile)


def read_layout(path: str, grid: GridShape, bands: int, dtype: np.dtype[Any], tile: int) -> TiffLayout:
    """The layout of a GeoTIFF written by :func:`create_geotiff` (to resume filling it)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        offsets = tuple(int(o) for o in page.dataoffsets)
        ok = (
            page.tilewidth == tile
            and page.tilelength == tile
            and page.imagewidth == grid.width
            and page.imagelength == grid.height
            and np.dtype(page.dtype) == dtype
        )
    layout = TiffLayout(grid.width, grid.height, bands, tile, dtype, offsets)
    if not ok or len(offsets) != bands * layout.tiles_down * layout.tiles_across:
        raise ValueError(f"{path} is not the GeoTIFF this read writes")
    return layout
