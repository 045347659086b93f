"""Where images and geometries lie, for the families that place pixels or read regions:
image footprints, geometries moved between CRSs, the projection an algorithm computes in
and the window of pixels that covers a region.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from .._grid import Grid
from .._image import Image
from .._reproject import transform_points
from .._values import WGS84, Geometry, Projection
from .coerce import as_geodesic, as_projection, is_number
from .framework import AlgorithmError

__all__ = [
    "IDENTITY",
    "MAX_PIXELS",
    "band_projection",
    "footprint",
    "from_projection",
    "target_projection",
    "to_projection",
    "transform_geometry",
    "window",
]

#: Largest intermediate grid `reproject` and `reduceRegion` compute (pixels).
MAX_PIXELS = 50_000_000


def window(proj: Grid, bounds: tuple[float, float, float, float], margin: int = 0) -> Grid:
    """The part of the unbounded grid `proj` (pixel-aligned) that covers `bounds` (in its CRS)."""
    xmin, ymin, xmax, ymax = bounds
    det = proj.scale_x * proj.scale_y - proj.shear_x * proj.shear_y
    cols, rows = [], []
    for x, y in ((xmin, ymin), (xmin, ymax), (xmax, ymin), (xmax, ymax)):
        dx, dy = x - proj.translate_x, y - proj.translate_y
        cols.append((proj.scale_y * dx - proj.shear_x * dy) / det)
        rows.append((-proj.shear_y * dx + proj.scale_x * dy) / det)
    c0, c1 = math.floor(min(cols) + 1e-9) - margin, math.ceil(max(cols) - 1e-9) + margin
    r0, r1 = math.floor(min(rows) + 1e-9) - margin, math.ceil(max(rows) - 1e-9) + margin
    w, h = max(c1 - c0, 1), max(r1 - r0, 1)
    if w * h > MAX_PIXELS:
        raise AlgorithmError(
            f"The region needs {w} x {h} pixels at this scale, more than the emulator computes at once ({MAX_PIXELS}); "
            "use a coarser scale or a smaller region."
        )
    return replace(
        proj,
        translate_x=proj.translate_x + proj.scale_x * c0 + proj.shear_x * r0,
        translate_y=proj.translate_y + proj.shear_y * c0 + proj.scale_y * r0,
        width=w,
        height=h,
    )


def target_projection(crs: Any, crsTransform: Any, scale: Any, default: Projection | None) -> Projection:
    p = as_projection(crs, "crs") if crs is not None else default or Projection(WGS84)
    if crsTransform is not None:
        if not isinstance(crsTransform, list) or len(crsTransform) != 6 or not all(is_number(x) for x in crsTransform):
            raise AlgorithmError("crsTransform must be a list of 6 numbers.")
        if scale is not None:
            raise AlgorithmError("Cannot specify both crsTransform and scale.")
        return Projection(p.crs, tuple(float(x) for x in crsTransform))
    if scale is not None:
        if not is_number(scale) or scale <= 0:
            raise AlgorithmError(f"scale must be a positive number, got {scale!r}.")
        return p.at_scale(float(scale))
    return p


def footprint(img: Image) -> Geometry | None:
    """The image's footprint: its asset geometry, or its first bounded band's extent; None if unbounded."""
    geo = img.meta.get("geometry")
    if isinstance(geo, dict):
        return Geometry.from_geojson(geo)
    g = img.native_grid
    if g is None:
        return None
    w, h = g.width or 0, g.height or 0
    corners = [(0, 0), (w, 0), (w, h), (0, h), (0, 0)]
    ring = [[g.translate_x + g.scale_x * u + g.shear_x * v, g.translate_y + g.shear_y * u + g.scale_y * v] for u, v in corners]
    return Geometry("Polygon", [ring], g.crs or WGS84, False)


#: The identity affine transform (a projection whose units are its CRS's).
IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _map_coords(c: Any, fn: Any) -> Any:
    if c and is_number(c[0]):
        x, y = fn(float(c[0]), float(c[1]))
        return [x, y, *c[2:]]
    return [_map_coords(p, fn) for p in c]


def from_projection(coords: Any, transform: tuple[float, ...]) -> Any:
    """GeoJSON-nested coordinates given in a projection's units (its pixels, for a projection
    with an affine transform) as coordinates in its CRS: x' = a x + b y + c, y' = d x + e y + f.
    An affine map keeps straight edges straight, so the geometry is the same set of points."""
    if tuple(transform) == IDENTITY:
        return coords
    a, b, c, d, e, f = transform
    return _map_coords(coords, lambda x, y: (a * x + b * y + c, d * x + e * y + f))


def to_projection(coords: Any, transform: tuple[float, ...]) -> Any:
    """The inverse of `from_projection`: CRS coordinates in the projection's units."""
    if tuple(transform) == IDENTITY:
        return coords
    a, b, c, d, e, f = transform
    det = a * e - b * d
    if det == 0:
        raise AlgorithmError("The projection's transform is not invertible.")
    return _map_coords(coords, lambda x, y: ((e * (x - c) - b * (y - f)) / det, (-d * (x - c) + a * (y - f)) / det))


def band_projection(b: Any) -> Projection | None:
    """A band's projection: the one `reproject` gave it, else its grid's; None without a grid."""
    p = b.extra.get("_projection")
    if p is not None:
        return Projection(p[0], tuple(p[1]))
    return Projection.of_grid(b.grid) if b.grid is not None else None


def transform_geometry(g: Geometry, crs: str, geodesic: Any = None) -> Geometry:
    """`g` with its coordinates in `crs` (`geodesic` as the `Geometry.transform` argument)."""
    if g.type == "GeometryCollection":
        raise AlgorithmError("The eerest emulator cannot transform a GeometryCollection.")

    def walk(c: Any) -> Any:
        if c and is_number(c[0]):
            x, y = transform_points(np.array([c[0]]), np.array([c[1]]), g.crs, crs)
            return [float(x[0]), float(y[0])]
        return [walk(p) for p in c]

    return Geometry(g.type, walk(g.coordinates), crs, as_geodesic(geodesic, crs))
