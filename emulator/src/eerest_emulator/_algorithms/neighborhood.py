"""Kernels and neighbourhood operations: convolve, focal_* and reduceNeighborhood.

As on Earth Engine, a neighbourhood is taken in the output grid: the input is computed on
the output grid widened by the kernel's radius, then each output pixel combines its
neighbours (kernels in metres are converted with the output grid's pixel size). Masked and
out-of-image neighbours take no part; an output pixel is masked where its input pixel is.
`convolve` is stricter: a pixel whose kernel touches a masked neighbour is masked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._grid import Grid
from .._image import Band, Image, Rendered
from .._pixeltype import PixelType
from .._reducers import Reducer
from .._reducers import simple as simple_reducer
from .._values import nominal_unit
from .bands import pair_bands, proj_extra
from .coerce import as_image
from .framework import AlgorithmError, ArgumentTypeError, Context, implements

__all__ = ["Kernel"]

_MAX_SIDE = 101  # kernel pixels per side the emulator computes


@dataclass(frozen=True)
class Kernel:
    """A kernel by shape; its weights are made for the output grid (`weights`)."""

    shape: str  # square, rectangle, circle, plus, fixed
    x_radius: float = 1.0
    y_radius: float = 1.0
    units: str = "pixels"
    normalize: bool = True
    magnitude: float = 1.0
    fixed: tuple[tuple[float, ...], ...] = ()
    sigma: float = 1.0  # a gaussian kernel's standard deviation, in `units`

    def weights(self, grid: Grid) -> np.ndarray:
        """The (odd, odd) weight array in `grid`'s pixels."""
        if self.shape == "fixed":
            w = np.asarray(self.fixed, dtype=np.float64)
        else:
            rx, ry = self.x_radius, self.y_radius
            if self.units == "meters":
                unit = nominal_unit(grid.crs or grid.crs_wkt or "EPSG:4326")
                rx, ry = rx / (abs(grid.scale_x) * unit), ry / (abs(grid.scale_y) * unit)
            nx, ny = math.floor(rx), math.floor(ry)
            if 2 * max(nx, ny) + 1 > _MAX_SIDE:
                raise AlgorithmError(f"The kernel is {2 * max(nx, ny) + 1} pixels wide in this grid; the emulator computes kernels up to {_MAX_SIDE}.")
            yy, xx = np.mgrid[-ny : ny + 1, -nx : nx + 1].astype(np.float64)
            if self.shape == "gaussian":
                sig = self.sigma
                if self.units == "meters":
                    sig = sig / (abs(grid.scale_x) * nominal_unit(grid.crs or grid.crs_wkt or "EPSG:4326"))
                w = np.exp(-(xx**2 + yy**2) / (2 * sig**2))
            elif self.shape == "circle":
                w = ((xx / max(rx, 1e-12)) ** 2 + (yy / max(ry, 1e-12)) ** 2 <= 1.0 + 1e-9).astype(np.float64)
            elif self.shape == "plus":
                w = ((xx == 0) | (yy == 0)).astype(np.float64)
            else:
                w = np.ones_like(xx)
        if w.ndim != 2 or w.shape[0] % 2 == 0 or w.shape[1] % 2 == 0:
            raise AlgorithmError("The eerest emulator supports kernels of odd width and height (centred) only.")
        if self.normalize and w.sum() != 0:
            w = w / w.sum()
        return w * self.magnitude


def _kernel(v: Any, arg: str) -> Kernel:
    if isinstance(v, Kernel):
        return v
    raise ArgumentTypeError(arg, "Kernel", v)


def _units(units: Any) -> str:
    if units not in ("pixels", "meters"):
        raise AlgorithmError(f"Kernel units must be 'pixels' or 'meters', got {units!r}.")
    return str(units)


for _shape in ("square", "circle", "plus"):
    implements(f"Kernel.{_shape}")(
        lambda ctx, radius, units="pixels", normalize=True, magnitude=1.0, _s=_shape: Kernel(
            _s, float(radius), float(radius), _units(units), bool(normalize), float(magnitude))
    )


@implements("Kernel.gaussian")
def kernel_gaussian(ctx: Context, radius: Any, sigma: Any = 1.0, units: Any = "pixels", normalize: Any = True,
                    magnitude: Any = 1.0) -> Kernel:
    """exp(-d^2 / (2 sigma^2)) over the square of `radius`, `sigma` in the kernel's units."""
    return Kernel("gaussian", float(radius), float(radius), _units(units), bool(normalize), float(magnitude), sigma=float(sigma))


@implements("Kernel.rectangle")
def kernel_rectangle(ctx: Context, xRadius: Any, yRadius: Any, units: Any = "pixels", normalize: Any = True,
                     magnitude: Any = 1.0) -> Kernel:
    return Kernel("rectangle", float(xRadius), float(yRadius), _units(units), bool(normalize), float(magnitude))


@implements("Kernel.fixed")
def kernel_fixed(ctx: Context, width: Any = -1, height: Any = -1, weights: Any = None, x: Any = -1, y: Any = -1,
                 normalize: Any = False) -> Kernel:
    if not isinstance(weights, list) or not weights or not all(isinstance(r, list) for r in weights):
        raise AlgorithmError("weights must be a list of rows of numbers.")
    rows = tuple(tuple(float(v) for v in r) for r in weights)
    if len({len(r) for r in rows}) != 1:
        raise AlgorithmError("All rows of weights must have the same length.")
    h, w = len(rows), len(rows[0])
    if (x not in (-1, None) and int(x) != w // 2) or (y not in (-1, None) and int(y) != h // 2):
        raise AlgorithmError("The eerest emulator supports centred fixed kernels only (x, y at the middle).")
    return Kernel("fixed", normalize=bool(normalize), fixed=rows)


def _neighbourhood(img: Image, kernel: Kernel, combine: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
                   typer: Callable[[PixelType], PixelType]) -> Image:
    """Apply `combine(windows, valid_windows, weights) -> (values, valid)` to every band."""

    def mk(b: Band) -> Band:
        def render(g: Grid) -> Rendered:
            w = kernel.weights(g)
            my, mx = w.shape[0] // 2, w.shape[1] // 2
            wide = replace(
                g,
                translate_x=g.translate_x - g.scale_x * mx - g.shear_x * my,
                translate_y=g.translate_y - g.shear_y * mx - g.scale_y * my,
                width=g.shape[1] + 2 * mx,
                height=g.shape[0] + 2 * my,
            )
            x, ok = b.render(wide)
            win = sliding_window_view(x.astype(np.float64), w.shape)
            vwin = sliding_window_view(ok, w.shape)
            vals, valid = combine(win, vwin, w)
            return vals, valid & ok[my : my + g.shape[0], mx : mx + g.shape[1]]

        return Band(b.name, typer(b.ptype), b.grid, render, proj_extra(b))

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)


def _reduce_windows(reducer: Reducer) -> Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def combine(win: np.ndarray, vwin: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        take = vwin & (w != 0)
        h, wd = win.shape[:2]
        stack = np.where(take, win, np.nan).reshape(h, wd, -1).transpose(2, 0, 1)
        got = reducer.pixelwise(stack)
        assert got is not None
        out = got[reducer.outputs[0]]
        any_valid = take.reshape(h, wd, -1).any(axis=2)
        return np.where(any_valid, np.nan_to_num(out), 0), any_valid

    return combine


def _focal(kind: str) -> Callable[..., Image]:
    def fn(ctx: Context, image: Any, radius: Any = 1.5, kernelType: Any = "circle", units: Any = "pixels",
           iterations: Any = 1, kernel: Any = None) -> Image:
        k = _kernel(kernel, "kernel") if kernel is not None else Kernel(
            str(kernelType) if kernelType in ("circle", "square", "plus") else _bad_shape(kernelType),
            float(radius), float(radius), _units(units), False)
        out = as_image(image, "image")
        keep = (lambda t: t) if kind in ("min", "max", "median", "mode") else (lambda t: PixelType("DOUBLE"))
        for _ in range(int(iterations)):
            out = _neighbourhood(out, k, _reduce_windows(simple_reducer(kind)), keep)
        return out

    return fn


def _bad_shape(kernel_type: Any) -> str:
    raise AlgorithmError(f"The eerest emulator supports kernelType circle, square or plus, not {kernel_type!r}.")


for _kind in ("min", "max", "mean", "median", "mode"):
    for _name in (f"Image.focal_{_kind}", f"Image.focal{_kind.capitalize()}"):
        implements(_name)(_focal(_kind))


@implements("Image.reduceNeighborhood")
def image_reduce_neighborhood(ctx: Context, image: Any, reducer: Any, kernel: Any, inputWeight: Any = "kernel",
                              skipMasked: Any = True, optimization: Any = None) -> Image:
    if not isinstance(reducer, Reducer):
        raise ArgumentTypeError("reducer", "Reducer", reducer)
    if len(reducer.outputs) != 1 or reducer.pixelwise(np.zeros((1, 1, 1))) is None:
        raise AlgorithmError(f"The eerest emulator applies single-output per-pixel reducers only, not [{', '.join(reducer.outputs)}].")
    img = as_image(image, "image")
    out = _neighbourhood(img, _kernel(kernel, "kernel"), _reduce_windows(reducer), lambda t: PixelType("DOUBLE"))
    return out.with_bands([b.renamed(f"{b.name}_{reducer.outputs[0]}") for b in out.bands], keep_meta=True)


@implements("Image.convolve")
def image_convolve(ctx: Context, image: Any, kernel: Any) -> Image:
    """The weighted sum of each neighbourhood (masked where the kernel touches a masked pixel)."""

    def combine(win: np.ndarray, vwin: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nonzero = w != 0
        valid = (vwin | ~nonzero).all(axis=(2, 3))
        return np.einsum("ijkl,kl->ij", np.where(vwin, win, 0.0), w), valid

    float_type: Callable[[PixelType], PixelType] = lambda t: PixelType("FLOAT") if t.precision == "FLOAT" else PixelType("DOUBLE")  # noqa: E731
    return _neighbourhood(as_image(image, "image"), _kernel(kernel, "kernel"), combine, float_type)


def _gradient(dem: Band, g: Grid, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dz/dx east, dz/dy north, valid) in metres per metre from the 4-connected neighbours of
    every pixel of `g` (pixel sizes in metres; in a geographic grid, east-west ones shrink with
    the latitude). A pixel needs itself and its 4 neighbours valid."""
    if g.has_shear:
        raise AlgorithmError(f"Terrain.{what}: the emulator computes terrain in grids without shear only.")
    h, w = g.shape
    wide = replace(g, translate_x=g.translate_x - g.scale_x, translate_y=g.translate_y - g.scale_y,
                   width=w + 2, height=h + 2)
    z, ok = dem.render(wide)
    z = z.astype(np.float64)
    unit = nominal_unit(g.crs or g.crs_wkt or "EPSG:4326")
    dx = np.full((h, w), g.scale_x * unit)
    dy = g.scale_y * unit
    if unit != 1.0:  # degrees: metres per degree of longitude shrink with the latitude
        lat = g.translate_y + g.scale_y * (np.arange(h) + 0.5)
        dx = dx * np.cos(np.radians(lat))[:, None]
    dzdx = (z[1:-1, 2:] - z[1:-1, :-2]) / (2 * dx)
    dzdy = (z[2:, 1:-1] - z[:-2, 1:-1]) / (2 * dy)
    valid = ok[1:-1, 2:] & ok[1:-1, :-2] & ok[2:, 1:-1] & ok[:-2, 1:-1] & ok[1:-1, 1:-1]
    return dzdx, dzdy, valid


def _dem(input: Any, what: str) -> tuple[Image, Band]:
    img = as_image(input, "input")
    if not img.bands:
        raise AlgorithmError(f"Terrain.{what}: the image has no bands.")
    return img, img.bands[0]


def _slope_deg(dzdx: np.ndarray, dzdy: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


def _aspect_deg(dzdx: np.ndarray, dzdy: np.ndarray) -> np.ndarray:
    """The direction the slope faces (downhill), degrees clockwise from north, in [0, 360)."""
    return np.mod(np.degrees(np.arctan2(-dzdx, -dzdy)), 360.0)


def _hillshade(dzdx: np.ndarray, dzdy: np.ndarray, azimuth: float, elevation: float) -> np.ndarray:
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.radians(_aspect_deg(dzdx, dzdy))
    zenith = np.radians(90.0 - elevation)
    shade = np.cos(zenith) * np.cos(slope) + np.sin(zenith) * np.sin(slope) * np.cos(np.radians(azimuth) - aspect)
    return np.round(255.0 * np.clip(shade, 0.0, 1.0))


def _terrain_band(name: str, dem: Band, ptype: PixelType, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], what: str) -> Band:
    def render(g: Grid) -> Rendered:
        dzdx, dzdy, valid = _gradient(dem, g, what)
        return np.where(valid, fn(dzdx, dzdy), 0.0).astype(ptype.dtype), valid

    return Band(name, ptype, dem.grid, render, proj_extra(dem))


@implements("Terrain.slope")
def terrain_slope(ctx: Context, input: Any) -> Image:
    """Band 'slope', degrees, from the first band's 4-connected neighbours in the output grid."""
    img, dem = _dem(input, "slope")
    return img.with_bands([_terrain_band("slope", dem, PixelType("FLOAT"), _slope_deg, "slope")])


@implements("Terrain.aspect")
def terrain_aspect(ctx: Context, input: Any) -> Image:
    """Band 'aspect', degrees clockwise from north of the downhill direction (90: facing east)."""
    img, dem = _dem(input, "aspect")
    return img.with_bands([_terrain_band("aspect", dem, PixelType("FLOAT"), _aspect_deg, "aspect")])


@implements("Terrain.hillshade")
def terrain_hillshade(ctx: Context, input: Any, azimuth: Any = 270.0, elevation: Any = 45.0) -> Image:
    """Band 'hillshade', 0-255: 255 (cos(zenith) cos(slope) + sin(zenith) sin(slope) cos(azimuth - aspect)), clamped at 0."""
    img, dem = _dem(input, "hillshade")
    az, el = float(azimuth), float(elevation)
    return img.with_bands([_terrain_band("hillshade", dem, PixelType.int_range(0, 255),
                                         lambda a, b: _hillshade(a, b, az, el), "hillshade")])


@implements("Terrain.products")
def terrain_products(ctx: Context, input: Any) -> Image:
    """The input's bands plus 'slope', 'aspect' and 'hillshade' (azimuth 270, elevation 45)."""
    img, dem = _dem(input, "products")
    extra = [_terrain_band("slope", dem, PixelType("FLOAT"), _slope_deg, "products"),
             _terrain_band("aspect", dem, PixelType("FLOAT"), _aspect_deg, "products"),
             _terrain_band("hillshade", dem, PixelType.int_range(0, 255), lambda a, b: _hillshade(a, b, 270.0, 45.0), "products")]
    return img.with_bands([*img.bands, *extra], keep_meta=True)


@implements("Image.blend")
def image_blend(ctx: Context, bottom: Any, top: Any) -> Image:
    """`top` where it is valid, `bottom` elsewhere (masks are 0/1 in the emulator)."""
    lo, hi = as_image(bottom, "bottom"), as_image(top, "top")
    bands = []
    for name, bb, bt in pair_bands("blend", lo, hi):

        def render(g: Grid, bb: Band = bb, bt: Band = bt) -> Rendered:
            (x, vx), (y, vy) = bb.render(g), bt.render(g)
            return np.where(vy, y, x), vx | vy

        bands.append(Band(name, bb.ptype.union(bt.ptype), bb.grid or bt.grid, render, proj_extra(bb, bt)))
    return lo.with_bands(bands, keep_meta=True)


_MAX_CONNECTED = 1024  # Earth Engine's limit on connectedPixelCount's maxSize


def _components(x: np.ndarray, ok: np.ndarray, eight: bool) -> np.ndarray:
    """Each pixel's connected-component label (4- or 8-connected pixels of equal value, both
    valid): a union-find in numpy, hooking roots to the smaller label and halving paths."""
    h, w = x.shape
    idx = np.arange(h * w).reshape(h, w)
    offsets = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if eight else [])
    pairs = []
    for dy, dx in offsets:
        a = idx[: h - dy, max(0, -dx) : w - max(0, dx)]  # pixel (i, j) ...
        b = idx[dy:, max(0, dx) : w + min(0, dx)]  # ... and its neighbour (i + dy, j + dx)
        same = ok.flat[a] & ok.flat[b] & (x.flat[a] == x.flat[b])
        pairs.append((a[same], b[same]))
    ea = np.concatenate([p[0] for p in pairs])
    eb = np.concatenate([p[1] for p in pairs])
    parent = np.arange(h * w)
    while True:
        ra, rb = parent[ea], parent[eb]
        diff = ra != rb
        if not diff.any():
            return parent.reshape(h, w)
        lo, hi = np.minimum(ra[diff], rb[diff]), np.maximum(ra[diff], rb[diff])
        np.minimum.at(parent, hi, lo)
        while True:  # compress every path to its root
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt


@implements("Image.connectedPixelCount")
def image_connected_pixel_count(ctx: Context, input: Any, maxSize: Any = 100, eightConnected: Any = True) -> Image:
    """Per band, the size of each pixel's region of equal, unmasked values, up to `maxSize`.
    Computed on the output grid widened by `maxSize` pixels each side: a region smaller than
    `maxSize` lies inside that margin, so counts are exact up to the cap."""
    if isinstance(maxSize, bool) or not isinstance(maxSize, (int, float)) or int(maxSize) != maxSize or maxSize < 1:
        raise AlgorithmError("Image.connectedPixelCount: maxSize must be a positive integer.")
    cap = int(maxSize)
    if cap > _MAX_CONNECTED:
        raise AlgorithmError(f"Image.connectedPixelCount: maxSize must be at most {_MAX_CONNECTED}.")
    eight = bool(eightConnected)
    img = as_image(input, "input")

    def mk(b: Band) -> Band:
        def render(g: Grid) -> Rendered:
            if g.has_shear:
                raise AlgorithmError("Image.connectedPixelCount: the emulator computes it in grids without shear only.")
            m = cap
            wide = replace(g, translate_x=g.translate_x - g.scale_x * m, translate_y=g.translate_y - g.scale_y * m,
                           width=g.shape[1] + 2 * m, height=g.shape[0] + 2 * m)
            x, ok = b.render(wide)
            labels = _components(x, ok, eight)
            sizes = np.bincount(labels.ravel(), minlength=labels.size)[labels]
            inner = (slice(m, m + g.shape[0]), slice(m, m + g.shape[1]))
            valid = ok[inner]
            return np.where(valid, np.minimum(sizes[inner], cap), 0), valid

        return Band(b.name, PixelType.int_range(0, cap), b.grid, render, proj_extra(b))

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)
