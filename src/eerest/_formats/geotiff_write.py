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

__all__ = [
    "GridShape",
    "TiffLayout",
    "check_crs",
    "create_geotiff",
    "gdal_tags",
    "geotiff_tags",
    "nodata_text",
    "tiff_dtype",
]

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
_GDAL_METADATA, _GDAL_NODATA = 42112, 42113
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


_CITATION, _PCS_CITATION, _GEO_ASCII = 1026, 3073, 34737
_USER_DEFINED = 32767


def _pyproj_crs(crs: str) -> Any:
    """The CRS ``crs`` names (an authority code or WKT), through the optional pyproj."""
    try:
        import pyproj
    except ImportError:
        raise InvalidRequestError(
            f"a GeoTIFF in {crs[:60]!r} needs pyproj to describe that CRS in the file (only EPSG codes up to "
            "65535 are written without it): pip install pyproj"
        ) from None
    try:
        return pyproj.CRS.from_user_input(crs)
    except Exception as exc:  # pyproj.exceptions.CRSError, and anything else it raises
        raise InvalidRequestError(f"the CRS {crs[:60]!r} is not one pyproj knows, so no GeoTIFF can name it ({exc})") from None


def check_crs(crs: str) -> None:
    """Raise :class:`InvalidRequestError` now if a GeoTIFF in ``crs`` cannot be written."""
    code = _epsg(crs)
    if code is None or code > 65535:
        _pyproj_crs(crs)


def _crs_keys(crs: str) -> tuple[list[tuple[int, int, int, int]], str]:
    """The GeoKeys naming ``crs`` (besides GTRasterType) and their ASCII parameters.

    An EPSG code that fits a GeoKey (up to 65535) is written as the code; any other CRS (a
    larger EPSG code such as 900913, ESRI:54009, WKT) as ArcGIS writes one and GDAL reads
    it: a user-defined model (GTModelTypeGeoKey 32767) whose PCSCitationGeoKey is
    ``ESRI PE String = <ESRI WKT>``. That needs pyproj to spell the WKT; without it the CRS is refused.
    """
    code = _epsg(crs)
    if code is not None and code <= 65535:
        geographic = code in _GEOGRAPHIC
        try:
            import pyproj

            geographic = pyproj.CRS.from_epsg(code).is_geographic
        except Exception:  # no pyproj, or a code it does not know: the list above decides
            pass
        if geographic:
            return [(1024, 0, 1, 2), (2048, 0, 1, code)], ""
        return [(1024, 0, 1, 1), (3072, 0, 1, code)], ""
    parsed = _pyproj_crs(crs)
    wkt = parsed.to_wkt("WKT1_ESRI")
    if not wkt:
        raise InvalidRequestError(f"the CRS {crs[:60]!r} has no WKT form a GeoTIFF can carry")
    if len(wkt) > 2300:  # GDAL reads at most 2400 characters of the citation
        raise InvalidRequestError(f"the WKT of the CRS {crs[:60]!r} is too long for a GeoTIFF citation GDAL reads")
    name = f"{parsed.name}|"
    text = f"{name}ESRI PE String = {wkt}|"
    # GTModelType user-defined, PCSCitation "ESRI PE String = <WKT>": what GDAL reads such a CRS from.
    keys = [
        (1024, 0, 1, _USER_DEFINED),
        (_CITATION, _GEO_ASCII, len(name), 0),
        (_PCS_CITATION, _GEO_ASCII, len(text) - len(name), len(name)),
    ]
    return keys, text


def geotiff_tags(grid: GridShape) -> list[tuple[int, str, int, Any, bool]]:
    """tifffile ``extratags`` placing ``grid``'s pixels (PixelIsArea) in its CRS."""
    sx, shx, tx, shy, sy, ty = grid.transform
    tags: list[tuple[int, str, int, Any, bool]] = []
    if shx == 0 and shy == 0 and sx > 0 and sy < 0:
        tags.append((_PIXEL_SCALE, "d", 3, (sx, -sy, 0.0), True))
        tags.append((_TIEPOINT, "d", 6, (0.0, 0.0, 0.0, tx, ty, 0.0), True))
    else:
        matrix = (sx, shx, 0.0, tx, shy, sy, 0.0, ty, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
        tags.append((_TRANSFORMATION, "d", 16, matrix, True))
    crs_keys, ascii_params = _crs_keys(grid.crs)
    keys = sorted([(1025, 0, 1, 1), *crs_keys])  # GTRasterType: PixelIsArea; keys in ascending order
    directory = [1, 1, 0, len(keys)]
    for key in keys:
        directory.extend(key)
    tags.append((_GEOKEYS, "H", len(directory), tuple(directory), True))
    if ascii_params:
        tags.append((_GEO_ASCII, "s", 0, ascii_params, True))
    return tags


def gdal_tags(nodata: float | int | None, descriptions: list[str] | None) -> list[tuple[int, str, int, Any, bool]]:
    """tifffile ``extratags`` GDAL reads: the nodata value (GDAL_NODATA, one for all bands)
    and the band descriptions (GDAL_METADATA), e.g. the band ids."""
    tags: list[tuple[int, str, int, Any, bool]] = []
    if descriptions:
        from xml.sax.saxutils import escape

        items = "".join(
            f'<Item name="DESCRIPTION" sample="{i}" role="description">{escape(d)}</Item>'
            for i, d in enumerate(descriptions)
        )
        tags.append((_GDAL_METADATA, "s", 0, f"<GDALMetadata>{items}</GDALMetadata>", True))
    if nodata is not None:
        tags.append((_GDAL_NODATA, "s", 0, nodata_text(nodata), True))
    return tags


def nodata_text(value: float | int) -> str:
    """GDAL_NODATA's text of ``value`` (exact: ints as ints, floats by repr)."""
    if isinstance(value, (int, np.integer)) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


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


def create_geotiff(
    path: str,
    grid: GridShape,
    bands: int,
    dtype: np.dtype[Any],
    tile: int,
    *,
    nodata: float | int | None = None,
    descriptions: list[str] | None = None,
) -> TiffLayout:
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
                extratags=geotiff_tags(grid) + gdal_tags(nodata, descriptions),
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
