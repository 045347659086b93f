"""Image algorithms that place pixels: clip, reproject, resample, default projections, framing, pixel positions.

Each implements the real algorithm of the same name (signature from the catalogue).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._grid import Grid, bounds_in
from .._image import Band, Image, Rendered
from .._pixeltype import PixelType
from .._reproject import MODES, sample, source_coords, transform_points
from .._values import WGS84, Projection
from .coerce import as_geometry, as_image, as_projection, is_number
from .framework import AlgorithmError, Context, implements
from .placement import band_projection, footprint, target_projection, to_projection, transform_geometry, window

__all__: list[str] = []


# ---------------------------------------------------------------------------------------
# Clip, reproject, resample
# ---------------------------------------------------------------------------------------
@implements("Image.clip")
def image_clip(ctx: Context, input: Any, geometry: Any) -> Image:
    img = as_image(input, "input")
    geom = as_geometry(geometry, "geometry")

    def mk(b: Band) -> Band:
        def render(g: Grid, b: Band = b) -> Rendered:
            x, ok = b.render(g)
            return x, ok & geom.mask(g)

        return Band(b.name, b.ptype, b.grid, render, dict(b.extra))

    out = img.with_bands([mk(b) for b in img.bands], keep_meta=True)
    out.meta["geometry"] = geom.to_info() if geom.crs == WGS84 and geom.units is None else transform_geometry(geom, WGS84).to_info()
    return out


def _grid_bounds(g: Grid, crs: str) -> tuple[float, float, float, float]:
    return bounds_in(g, crs)


@implements("Image.reproject")
def image_reproject(ctx: Context, image: Any, crs: Any, crsTransform: Any = None, scale: Any = None) -> Image:
    """Computes the image in the given projection (nearest neighbour) and serves it from there."""
    img = as_image(image, "image")
    proj = target_projection(crs, crsTransform, scale, None).grid()

    def mk(b: Band) -> Band:
        native = None
        if b.grid is not None and b.grid.width is not None:
            native = window(proj, _grid_bounds(b.grid, proj.crs or WGS84))

        def render(g: Grid, b: Band = b) -> Rendered:
            if native is not None and g == native:
                return b.render(g)
            inter = window(proj, _grid_bounds(g, proj.crs or WGS84), margin=1)
            x, ok = b.render(inter)
            col, row = source_coords(g, inter)
            return sample(x, ok, col, row)

        extra = {**b.extra, "_projection": (proj.crs, (proj.scale_x, proj.shear_x, proj.translate_x, proj.shear_y, proj.scale_y, proj.translate_y))}
        return Band(b.name, b.ptype, native or proj, render, extra)

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)


@implements("Image.resample")
def image_resample(ctx: Context, image: Any, mode: Any = "bilinear") -> Image:
    """Bands with a native grid are interpolated from it (bilinear; bicubic is served as bilinear)."""
    img = as_image(image, "image")
    if mode not in MODES:
        raise AlgorithmError(f"Unknown resampling mode '{mode}': expected one of {', '.join(MODES[1:])}.")

    def mk(b: Band) -> Band:
        if b.grid is None or b.grid.width is None or mode == "nearest":
            return b
        src = b.grid

        def render(g: Grid, b: Band = b) -> Rendered:
            if g == src:
                return b.render(g)
            inter = window(src, _grid_bounds(g, src.crs or WGS84), margin=2)
            x, ok = b.render(inter)
            col, row = source_coords(g, inter)
            out, valid = sample(x, ok, col, row, str(mode))
            if b.ptype.is_int and out.dtype.kind == "f":
                out = np.floor(out + 0.5)
            return out, valid

        return Band(b.name, b.ptype, b.grid, render, dict(b.extra))

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)


# ---------------------------------------------------------------------------------------
# Default projections and thumbnail framing
# ---------------------------------------------------------------------------------------
@implements("Image.setDefaultProjection")
def image_set_default_projection(ctx: Context, image: Any, crs: Any, crsTransform: Any = None, scale: Any = None) -> Image:
    """Every band's default projection becomes `crs` (what framing and reductions then compute in);
    the pixels still come from the bands' own data, resampled."""
    img = as_image(image, "image")
    proj = target_projection(crs, crsTransform, scale, None).grid()
    bands = [Band(b.name, b.ptype, proj, b.render, dict(b.extra)) for b in img.bands]
    out = img.with_bands(bands, keep_meta=True)
    fp = footprint(img)
    if fp is not None:
        out.meta["geometry"] = fp.to_info()
    return out


@implements("Image.clipToBoundsAndScale")
def image_clip_to_bounds_and_scale(ctx: Context, input: Any, geometry: Any = None, width: Any = None, height: Any = None,
                                   maxDimension: Any = None, scale: Any = None) -> Image:
    """The image clipped to the geometry, with a native grid over its bounding box of the
    requested size (width x height, longest side maxDimension, or pixels of `scale` metres).

    The box is taken in the image's projection, in its pixel units: a projection with an
    affine transform (`reproject(crs, crsTransform)`, flipped or sheared) gives a grid of
    that transform, so a rectangle of its pixels is served as exactly those pixels."""
    img = as_image(input, "input")
    geom = as_geometry(geometry, "geometry") if geometry is not None else None
    for arg, v in (("width", width), ("height", height), ("maxDimension", maxDimension), ("scale", scale)):
        if v is not None and (not is_number(v) or v <= 0):
            raise AlgorithmError(f"Invalid {arg} {v!r}: it must be a positive number (a grid of 0 pixels has no pixels to compute).")
    band = next((b for b in img.bands if b.grid is not None), None)
    if band is None:
        if geom is None:
            raise AlgorithmError("Provide a 'geometry' to frame an unbounded image.")
        proj = Projection(geom.crs, (1.0, 0.0, 0.0, 0.0, -1.0, 0.0))
        crs_wkt = None
    else:
        proj = band_projection(band)  # type: ignore[assignment]
        crs_wkt = band.grid.crs_wkt if band.grid is not None else None
    crs = proj.crs
    if geom is not None:
        pts = transform_geometry(geom, crs).points() if geom.crs != crs else geom.points()
        if geom.rings() and np.ptp(pts[:, 0]) <= 0 and np.ptp(pts[:, 1]) <= 0:
            raise AlgorithmError("The region is empty (its bounds have no width and no height): no pixel grid covers it.")
    elif band is not None and band.grid is not None and band.grid.width is not None:
        pts = _grid_corners(band.grid, crs)
    else:
        fp = footprint(img)
        if fp is None:
            raise AlgorithmError("Provide a 'geometry' to frame an unbounded image.")
        pts = transform_geometry(fp, crs).points()
    uv = np.asarray(to_projection(pts.tolist(), proj.transform), dtype=np.float64).reshape(-1, 2)
    u0, v0 = float(uv[:, 0].min()), float(uv[:, 1].min())
    eu, ev = float(uv[:, 0].max()) - u0, float(uv[:, 1].max()) - v0
    if width is not None and height is not None:
        w, h = int(width), int(height)
        su, sv = (eu or 1.0) / w, (ev or 1.0) / h
    else:
        if scale is not None:
            k = float(scale) / (proj.nominal_scale or 1.0)
        elif maxDimension is not None:
            k = (max(eu, ev) or 1.0) / int(maxDimension)
        else:
            k = 1.0
        su = sv = k
        w, h = max(1, math.ceil(round(eu / k, 6))), max(1, math.ceil(round(ev / k, 6)))
    a, b, c, d, e, f = proj.transform
    target = Grid(crs, a * su, b * sv, a * u0 + b * v0 + c, d * su, e * sv, d * u0 + e * v0 + f, w, h, crs_wkt)

    def mk(b: Band) -> Band:
        def render(g: Grid, b: Band = b) -> Rendered:
            x, ok = b.render(g)
            return (x, ok & geom.mask(g)) if geom is not None else (x, ok)

        return Band(b.name, b.ptype, target, render, dict(b.extra))

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)


def _grid_corners(g: Grid, crs: str) -> np.ndarray:
    """The corners of a bounded grid, in `crs` (an (4, 2) array)."""
    w, h = g.width or 0, g.height or 0
    u = np.array([0.0, w, w, 0.0])
    v = np.array([0.0, 0.0, h, h])
    x = g.translate_x + g.scale_x * u + g.shear_x * v
    y = g.translate_y + g.shear_y * u + g.scale_y * v
    code = g.crs or g.crs_wkt
    if code and code != crs:
        x, y = transform_points(x, y, code, crs)
    return np.column_stack([x, y])


def _centres_in(g: Grid, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """The centre of every pixel of `g`, in `crs` (NaN where it has no position there)."""
    u, v = np.meshgrid(np.arange(g.width) + 0.5, np.arange(g.height) + 0.5)  # type: ignore[arg-type]
    x = g.translate_x + g.scale_x * u + g.shear_x * v
    y = g.translate_y + g.shear_y * u + g.scale_y * v
    code = g.crs or g.crs_wkt
    return transform_points(x, y, code, crs) if code and code != crs else (x, y)


def _coordinate_bands(names: tuple[str, str], crs: str) -> Image:
    def band(i: int) -> Callable[[Grid], Rendered]:
        def render(g: Grid) -> Rendered:
            c = _centres_in(g, crs)[i]
            ok = np.isfinite(c)
            return np.where(ok, c, 0.0), ok

        return render

    dt = PixelType("DOUBLE")
    return Image([Band(names[0], dt, None, band(0)), Band(names[1], dt, None, band(1))])


@implements("Image.pixelLonLat")
def image_pixel_lon_lat(ctx: Context) -> Image:
    """Bands 'longitude' and 'latitude': each pixel centre in EPSG:4326, in any output grid."""
    return _coordinate_bands(("longitude", "latitude"), WGS84)


@implements("Image.pixelCoordinates")
def image_pixel_coordinates(ctx: Context, projection: Any) -> Image:
    """Bands 'x' and 'y': each pixel centre in the projection's CRS (its transform is not applied)."""
    return _coordinate_bands(("x", "y"), as_projection(projection, "projection").crs)


_WGS84_A = 6378137.0
_WGS84_E2 = 0.00669437999014  # first eccentricity squared


@implements("Image.pixelArea")
def image_pixel_area(ctx: Context) -> Image:
    """Band 'area': each output pixel's area on the WGS84 ellipsoid, in square metres (its
    corners in longitude/latitude, times the ellipsoid's area element at its centre)."""
    def render(g: Grid) -> Rendered:
        h, w = g.shape
        u, v = np.meshgrid(np.arange(w + 1, dtype=np.float64), np.arange(h + 1, dtype=np.float64))
        x = g.translate_x + g.scale_x * u + g.shear_x * v
        y = g.translate_y + g.shear_y * u + g.scale_y * v
        code = g.crs or g.crs_wkt
        lon, lat = transform_points(x, y, code, WGS84) if code and code != WGS84 else (x, y)
        lam, phi = np.radians(lon), np.radians(lat)
        # Shoelace over the 4 corners, in radians of longitude and latitude relative to the
        # first corner (absolute values would cancel catastrophically for small pixels).
        l0, p0 = lam[:-1, :-1], phi[:-1, :-1]
        c = [(lam[:-1, :-1] - l0, phi[:-1, :-1] - p0), (lam[:-1, 1:] - l0, phi[:-1, 1:] - p0),
             (lam[1:, 1:] - l0, phi[1:, 1:] - p0), (lam[1:, :-1] - l0, phi[1:, :-1] - p0)]
        twice = sum(c[i][0] * c[(i + 1) % 4][1] - c[(i + 1) % 4][0] * c[i][1] for i in range(4))
        centre = (phi[:-1, :-1] + phi[1:, 1:] + phi[:-1, 1:] + phi[1:, :-1]) / 4
        s2 = np.sin(centre) ** 2
        element = _WGS84_A**2 * (1 - _WGS84_E2) * np.cos(centre) / (1 - _WGS84_E2 * s2) ** 2
        area = np.abs(twice) / 2 * element
        ok = np.isfinite(area)
        return np.where(ok, area, 0.0), ok

    return Image([Band("area", PixelType("DOUBLE"), None, render)])
