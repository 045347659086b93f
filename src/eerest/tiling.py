"""Large areas: plan the requests that read a pixel grid larger than one request allows.

One ``computePixels`` / ``getPixels`` request returns at most 48 MiB, counted by the
server as width x height x the sum over bands of (bytes per value + 1 mask byte), at most
32768 pixels a side and 1024 bands. :func:`plan_tiles` splits a grid into requests that
each fit, pure and without I/O::

    from eerest.tiling import PixelGrid, plan_tiles

    grid = PixelGrid.from_bbox("EPSG:32633", 10, (500000, 4100000, 600000, 4200000))
    plan = plan_tiles(grid, ["uint16"] * 4)             # 10000 x 10000 pixels, 4 bands
    for tile in plan.tiles:
        tile.window.slices    # where its pixels go in the output: (rows, cols)
        tile.grid.to_api()    # the PixelGrid JSON of its request
        tile.bands            # which bands (indices) it asks for

Tiles are aligned to a block size (default 256, Earth Engine's own tile size), so a tile
is a whole number of blocks except at the grid's right and bottom edges, and they target
:data:`DEFAULT_MAX_TILE_BYTES` (16 MiB as the server counts), well below the 48 MiB
limit: computed images often run out of server memory or time long before it. More than
1024 bands make several requests per window, each for a contiguous run of bands.

``client.read_area(...)`` runs such a plan concurrently and assembles the result (a
numpy array, a GeoTIFF or an NPY file); this module is what it plans with.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from eerest import limits
from eerest.errors import InvalidRequestError
from eerest.pixels import Transform

__all__ = [
    "AreaPlan",
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_MAX_TILE_BYTES",
    "PixelGrid",
    "Tile",
    "TilePlan",
    "Transform",
    "Window",
    "plan_tiles",
]

#: 16 MiB as the server counts bytes: a third of the 48 MiB limit. The service wants
#: responses of "tens of MB" that finish within 5 minutes, and computed images fail with
#: "User memory limit exceeded" / "Computation timed out" long before 48 MiB; 16 MiB still
#: amortises the per-request latency (about 3 million pixels of a float32 band), and
#: 16 such tiles in flight (the default concurrency) hold 256 MiB at most.
DEFAULT_MAX_TILE_BYTES = 16 * 1024 * 1024
#: Earth Engine computes in 256 x 256 tiles; aligned requests share their edges with them.
DEFAULT_BLOCK_SIZE = 256

_CRS_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Window:
    """A rectangle of a grid, in pixels: columns ``col_off`` to ``col_off + width``,
    rows ``row_off`` to ``row_off + height``."""

    col_off: int
    row_off: int
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("col_off", "row_off", "width", "height"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise InvalidRequestError(f"Window.{name} must be an integer, not {value!r}")
            object.__setattr__(self, name, int(value))
        if self.col_off < 0 or self.row_off < 0:
            raise InvalidRequestError(f"a window cannot start at a negative offset: {self}")
        if self.width <= 0 or self.height <= 0:
            raise InvalidRequestError(f"a window needs a positive width and height: {self}")

    @property
    def col_end(self) -> int:
        return self.col_off + self.width

    @property
    def row_end(self) -> int:
        return self.row_off + self.height

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` to index a (height, width, ...) array: ``out[window.slices]``."""
        return slice(self.row_off, self.row_end), slice(self.col_off, self.col_end)

    def contains(self, other: Window) -> bool:
        return (
            self.col_off <= other.col_off
            and self.row_off <= other.row_off
            and other.col_end <= self.col_end
            and other.row_end <= self.row_end
        )

    def relative_to(self, outer: Window) -> Window:
        """This window in the coordinates of ``outer`` (which must contain it)."""
        return Window(self.col_off - outer.col_off, self.row_off - outer.row_off, self.width, self.height)

    def __str__(self) -> str:
        return f"{self.width}x{self.height} pixels at column {self.col_off}, row {self.row_off}"


def _float(value: Any, what: str) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise InvalidRequestError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(result):
        raise InvalidRequestError(f"{what} must be finite, not {value!r}")
    return result


def _get(obj: Any, snake: str, camel: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(camel, obj.get(snake))
    return getattr(obj, snake, None)


@dataclass(frozen=True)
class PixelGrid:
    """A grid of pixels: ``width`` x ``height`` pixels placed by the affine ``transform``
    (Earth Engine's order: scale_x, shear_x, translate_x, shear_y, scale_y, translate_y;
    pixel (col, row) has its top-left corner at ``transform`` times (col, row, 1)) in
    ``crs``, a code such as ``"EPSG:32633"`` or a WKT string."""

    width: int
    height: int
    transform: Transform
    crs: str

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise InvalidRequestError(f"PixelGrid.{name} must be a positive number of pixels, not {value!r}")
            object.__setattr__(self, name, int(value))
        if len(self.transform) != 6:
            raise InvalidRequestError(f"PixelGrid.transform needs 6 numbers, not {self.transform!r}")
        names = ("scale_x", "shear_x", "translate_x", "shear_y", "scale_y", "translate_y")
        transform = tuple(_float(v, f"PixelGrid.transform.{n}") for v, n in zip(self.transform, names, strict=False))
        sx, shx, _, shy, sy, _ = transform
        if sx * sy - shx * shy == 0:
            raise InvalidRequestError(f"PixelGrid.transform {transform} is singular (its scale is zero)")
        object.__setattr__(self, "transform", transform)
        if not isinstance(self.crs, str) or not self.crs.strip():
            raise InvalidRequestError(f"PixelGrid.crs must be a CRS code such as 'EPSG:4326' or WKT, not {self.crs!r}")

    @classmethod
    def from_api(cls, grid: Any) -> PixelGrid:
        """From the API's PixelGrid: a JSON dict (camelCase or snake_case keys) or a
        ``types.PixelGrid`` of any API version. It must give dimensions, the affine
        transform and the CRS (``crsCode`` or ``crsWkt``): a large area needs all three."""
        if isinstance(grid, PixelGrid):
            return grid
        to_dict = getattr(grid, "to_dict", None)
        if callable(to_dict) and not isinstance(grid, Mapping):
            grid = to_dict()
        if not isinstance(grid, Mapping):
            raise InvalidRequestError(f"grid must be a PixelGrid or its JSON dict, not {type(grid).__name__}")
        dims = _get(grid, "dimensions", "dimensions")
        at = _get(grid, "affine_transform", "affineTransform")
        crs = _get(grid, "crs_code", "crsCode") or _get(grid, "crs_wkt", "crsWkt")
        missing = [
            name
            for name, value in (("dimensions", dims), ("affineTransform", at), ("crsCode (or crsWkt)", crs))
            if not value
        ]
        if missing:
            raise InvalidRequestError(
                f"the grid must give {', '.join(missing)}: a tiled read needs the full grid (dimensions, "
                "affineTransform and crsCode); PixelGrid.from_bbox(crs, scale, bbox) makes one"
            )
        width, height = _get(dims, "width", "width"), _get(dims, "height", "height")
        if width is None or height is None:
            raise InvalidRequestError(f"grid.dimensions must give width and height, not {dims!r}")
        transform = tuple(
            _get(at, snake, camel) or 0.0
            for snake, camel in (
                ("scale_x", "scaleX"),
                ("shear_x", "shearX"),
                ("translate_x", "translateX"),
                ("shear_y", "shearY"),
                ("scale_y", "scaleY"),
                ("translate_y", "translateY"),
            )
        )
        return cls(int(width), int(height), transform, str(crs))  # type: ignore[arg-type]

    @classmethod
    def from_bbox(
        cls, crs: str, scale: float, bbox: Sequence[float], *, bbox_crs: str | None = None
    ) -> PixelGrid:
        """A north-up grid of ``scale``-sized square pixels (in ``crs`` units) covering
        ``bbox`` = (xmin, ymin, xmax, ymax), its edges snapped outward to multiples of
        ``scale`` (so grids of neighbouring boxes share a pixel lattice).

        ``bbox`` is in ``crs`` units unless ``bbox_crs`` names its CRS, e.g.
        ``bbox_crs="EPSG:4326"`` for lon/lat: it is then moved into ``crs`` (the box that
        covers its densified edges; needs pyproj, ``pip install 'eerest[geo]'``). A bbox
        that is surely in the wrong units (degrees under a projected CRS, metres under a
        geographic one) is refused with the likely fix."""
        scale = _float(scale, "scale")
        if scale <= 0:
            raise InvalidRequestError(f"scale must be a positive number of CRS units per pixel, not {scale}")
        if len(bbox) != 4:
            raise InvalidRequestError(f"bbox must be (xmin, ymin, xmax, ymax), not {bbox!r}")
        bounds = tuple(_float(v, "bbox") for v in bbox)
        xmin, ymin, xmax, ymax = bounds
        if not (xmin < xmax and ymin < ymax):
            raise InvalidRequestError(f"bbox must have xmin < xmax and ymin < ymax, not {tuple(bbox)}")
        from eerest import _regions

        if bbox_crs is not None and bbox_crs.strip().upper() != crs.strip().upper():
            xmin, ymin, xmax, ymax = _regions.transform_bounds(bbox_crs, crs, bounds)
        else:
            _regions.check_bbox_units(crs, scale, (xmin, ymin, xmax, ymax))
        c0, c1 = _snap(xmin / scale, math.floor), _snap(xmax / scale, math.ceil)
        r0, r1 = _snap(ymin / scale, math.floor), _snap(ymax / scale, math.ceil)
        return cls(max(c1 - c0, 1), max(r1 - r0, 1), (scale, 0.0, c0 * scale, 0.0, -scale, r1 * scale), crs)

    @classmethod
    def from_geometry(cls, geometry: Any, *, crs: str, scale: float) -> PixelGrid:
        """The grid of ``scale``-sized pixels in ``crs`` covering a geometry's bounds:
        GeoJSON (lon/lat unless its ``crs`` member names another), anything with
        ``__geo_interface__`` (shapely, geopandas) or an ``ee.Geometry``. Pixels outside the
        geometry but inside its bounds are part of the grid (mask them with ``clip``)."""
        from eerest import _regions

        bounds, geometry_crs = _regions.geometry_bounds(geometry)
        xmin, ymin, xmax, ymax = bounds
        if xmin == xmax or ymin == ymax:  # a point or a straight line: one pixel's width around it
            pad = 1e-9
            bounds = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)
        return cls.from_bbox(crs, scale, bounds, bbox_crs=geometry_crs)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PixelGrid:
        """The grid of an existing GeoTIFF (its size, transform and EPSG code), to read an
        area on exactly the pixels of a raster you already have."""
        from eerest import _regions

        width, height, transform, crs = _regions.read_tiff_grid(path)
        return cls(width, height, transform, crs)  # type: ignore[arg-type]

    def to_api(self) -> dict[str, Any]:
        """The API's PixelGrid JSON: ``dimensions``, ``affineTransform`` and ``crsCode``
        (``crsWkt`` when ``crs`` is not a code)."""
        sx, shx, tx, shy, sy, ty = self.transform
        out: dict[str, Any] = {
            "dimensions": {"width": self.width, "height": self.height},
            "affineTransform": {
                "scaleX": sx,
                "shearX": shx,
                "translateX": tx,
                "shearY": shy,
                "scaleY": sy,
                "translateY": ty,
            },
        }
        out["crsCode" if _CRS_CODE.match(self.crs.strip()) else "crsWkt"] = self.crs
        return out

    @property
    def window_of_all(self) -> Window:
        """The window covering the whole grid."""
        return Window(0, 0, self.width, self.height)

    def window(self, window: Window) -> PixelGrid:
        """The grid of ``window`` alone: same CRS and pixels, the transform moved to its corner."""
        if not self.window_of_all.contains(window):
            raise InvalidRequestError(f"the window ({window}) is not inside the {self.width}x{self.height} grid")
        sx, shx, tx, shy, sy, ty = self.transform
        c, r = window.col_off, window.row_off
        return PixelGrid(
            window.width, window.height, (sx, shx, tx + sx * c + shx * r, shy, sy, ty + shy * c + sy * r), self.crs
        )


def _snap(value: float, direction: Any) -> int:
    """``direction`` (floor or ceil) of ``value``, but the nearest integer when it is
    within floating-point noise of one (so 10.000000000000002 snaps to 10, not 11)."""
    nearest = round(value)
    if abs(value - nearest) <= 1e-9 * max(1.0, abs(value)):
        return int(nearest)
    return int(direction(value))


@dataclass(frozen=True)
class Tile:
    """One request: ``window`` is where its pixels go in the output (relative to the full
    grid), ``grid`` the PixelGrid to ask for, ``bands`` the indices of its bands."""

    window: Window
    grid: PixelGrid
    bands: tuple[int, ...]

    def __str__(self) -> str:
        bands = f"bands {self.bands[0]}-{self.bands[-1]}" if len(self.bands) > 1 else f"band {self.bands[0]}"
        return f"tile {self.window} ({bands})"


@dataclass(frozen=True)
class TilePlan:
    """The requests that cover a grid (or a window of it): ``tiles`` in row-major order
    of their windows, band groups innermost; ``tile_width`` x ``tile_height`` is the
    nominal size (tiles at the right and bottom edges may be smaller)."""

    grid: PixelGrid
    band_dtypes: tuple[np.dtype[Any], ...]
    tile_width: int
    tile_height: int
    tiles: tuple[Tile, ...]
    window: Window | None = None
    block_size: int = DEFAULT_BLOCK_SIZE

    @property
    def area(self) -> Window:
        """The window the plan covers (the whole grid unless planned with ``window=``)."""
        return self.window or self.grid.window_of_all

    def request_bytes(self, tile: Tile) -> int:
        """What the server counts for ``tile``'s request."""
        return limits.request_bytes(tile.window.width, tile.window.height, [self.band_dtypes[i] for i in tile.bands])

    def split(self, tile: Tile) -> tuple[Tile, ...]:
        """``tile`` cut in (up to) four, at block boundaries where the tile spans more than
        one block, else in halves; for retrying with smaller requests when the server runs
        out of memory or time. A 1x1 tile cannot be split: it comes back alone."""
        w = tile.window
        cols = _halves(w.col_off, w.width, self.block_size)
        rows = _halves(w.row_off, w.height, self.block_size)
        return tuple(
            _tile(self.grid, Window(c0, r0, cw, rh), tile.bands) for r0, rh in rows for c0, cw in cols
        )


def _halves(offset: int, length: int, block: int) -> list[tuple[int, int]]:
    if length < 2:
        return [(offset, length)]
    half = length // 2
    if length >= 2 * block:
        # The block boundary nearest the middle, counted from the start of the tile.
        aligned = max(block, round(half / block) * block)
        if aligned < length:
            half = aligned
    return [(offset, half), (offset + half, length - half)]


def _tile(grid: PixelGrid, window: Window, bands: tuple[int, ...]) -> Tile:
    return Tile(window, grid.window(window), bands)


def _band_groups(count: int) -> list[tuple[int, ...]]:
    """Contiguous runs of at most MAX_BANDS band indices, as equal as possible."""
    groups = max(1, math.ceil(count / limits.MAX_BANDS))
    base, extra = divmod(count, groups)
    out, start = [], 0
    for g in range(groups):
        size = base + (1 if g < extra else 0)
        out.append(tuple(range(start, start + size)))
        start += size
    return out


def _balance(length: int, most: int) -> int:
    """The size of equal pieces, at most ``most``, that cover ``length`` in as few pieces as possible."""
    pieces = math.ceil(length / most)
    return math.ceil(length / pieces)


def _tile_shape(width: int, height: int, pixels: int, block: int) -> tuple[int, int]:
    """(tile width, tile height) covering a width x height window in tiles of at most
    ``pixels`` pixels and MAX_GRID_DIMENSION a side: whole blocks, wide rather than
    tall (rows of a wide tile land contiguously in the output), balanced so edge tiles
    are not slivers; inside one block when not even one block fits."""
    side = limits.MAX_GRID_DIMENSION
    if width * height <= pixels and width <= side and height <= side:
        return width, height
    blocks = pixels // (block * block)
    if blocks >= 1:
        side_blocks = max(1, side // block)
        across, down = math.ceil(width / block), math.ceil(height / block)
        bw = _balance(across, min(across, side_blocks, blocks))
        bh = _balance(down, min(down, side_blocks, blocks // bw))
        return min(width, bw * block), min(height, bh * block)
    tw = _balance(min(width, block), min(width, block, pixels))
    th = _balance(min(height, block), min(height, block, max(1, pixels // tw)))
    return tw, th


def _spans(length: int, tile: int, block: int) -> list[tuple[int, int]]:
    """(offset, size) pieces of ``tile`` covering [0, length), none crossing a block
    boundary unless it starts on one."""
    if tile >= block or tile >= length:
        return [(o, min(tile, length - o)) for o in range(0, length, tile)]
    out: list[tuple[int, int]] = []
    for start in range(0, length, block):
        end = min(start + block, length)
        out.extend((o, min(tile, end - o)) for o in range(start, end, tile))
    return out


def plan_tiles(
    grid: PixelGrid | Mapping[str, Any] | Any,
    band_dtypes: Sequence[DTypeLike],
    *,
    max_tile_bytes: int = DEFAULT_MAX_TILE_BYTES,
    block_size: int = DEFAULT_BLOCK_SIZE,
    window: Window | None = None,
) -> TilePlan:
    """The requests that read ``grid`` (or only its ``window``) with bands of these types.

    Every pixel of every band is in exactly one tile. Every tile's request fits the
    service's limits as the server counts them (:mod:`eerest.limits`) and, unless one
    pixel alone costs more, ``max_tile_bytes`` (which is capped at the 48 MiB limit).
    Tiles are whole multiples of ``block_size`` from the window's corner (except at its
    right and bottom edges), or lie inside one block when not even a block fits.
    ``grid`` may be a :class:`PixelGrid` or anything :meth:`PixelGrid.from_api` takes.
    """
    grid = PixelGrid.from_api(grid)
    if isinstance(band_dtypes, (str, bytes)) or not isinstance(band_dtypes, Sequence) or not band_dtypes:
        raise InvalidRequestError(f"band_dtypes must be a non-empty sequence, one dtype per band, not {band_dtypes!r}")
    dtypes = tuple(limits.pixel_dtype(d) for d in band_dtypes)
    if not isinstance(max_tile_bytes, int) or max_tile_bytes < 1:
        raise InvalidRequestError(f"max_tile_bytes must be a positive number of bytes, not {max_tile_bytes!r}")
    if not isinstance(block_size, int) or not 1 <= block_size <= limits.MAX_GRID_DIMENSION:
        raise InvalidRequestError(
            f"block_size must be a number of pixels from 1 to {limits.MAX_GRID_DIMENSION}, not {block_size!r}"
        )
    area = window if window is not None else grid.window_of_all
    if not grid.window_of_all.contains(area):
        raise InvalidRequestError(f"the window ({area}) is not inside the {grid.width}x{grid.height} grid")

    groups = _band_groups(len(dtypes))
    per_pixel = max(limits.bytes_per_pixel([dtypes[i] for i in g]) for g in groups)
    budget = min(max_tile_bytes, limits.MAX_REQUEST_BYTES)
    tw, th = _tile_shape(area.width, area.height, max(1, budget // per_pixel), block_size)
    tiles = tuple(
        _tile(grid, Window(area.col_off + c, area.row_off + r, cw, rh), g)
        for r, rh in _spans(area.height, th, block_size)
        for c, cw in _spans(area.width, tw, block_size)
        for g in groups
    )
    return TilePlan(grid, dtypes, tw, th, tiles, window, block_size)


def _size(nbytes: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


@dataclass(frozen=True)
class AreaPlan:
    """What a ``read_area`` call will read, before it reads it (``client.plan_area``): the
    bands, their types and the tile requests, so a caller can check the size first."""

    band_ids: tuple[str, ...]
    tiles: TilePlan

    @property
    def grid(self) -> PixelGrid:
        return self.tiles.grid

    @property
    def requests(self) -> int:
        """How many requests the read sends (more if the server runs out of memory on some)."""
        return len(self.tiles.tiles)

    @property
    def nbytes(self) -> int:
        """The size of the result: pixels times the bytes of one pixel of every band."""
        area = self.tiles.area
        return area.width * area.height * sum(d.itemsize for d in self.tiles.band_dtypes)

    def __str__(self) -> str:
        area = self.tiles.area
        kinds = sorted({str(d) for d in self.tiles.band_dtypes})
        bands = f"{len(self.band_ids)} band{'s' if len(self.band_ids) != 1 else ''} ({', '.join(kinds)})"
        requests = f"{self.requests} request{'s' if self.requests != 1 else ''}"
        return f"{area.width} x {area.height} pixels x {bands} = {_size(self.nbytes)} in {requests}"

