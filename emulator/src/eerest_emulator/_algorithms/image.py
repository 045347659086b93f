"""Image algorithms beyond the basics: casts, per-pixel maths, logic, clamp, visualize and metadata.

Each implements the real algorithm of the same name (signature from the catalogue).
Band types follow Earth Engine: casts give the cast's type, comparisons and logic 0/1
integers, floating maths DOUBLE (FLOAT for FLOAT inputs), min/max the union of the types.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._catalogue import catalogue
from .._encode import visualize as _visualize
from .._grid import Grid, bounds_in, same_crs
from .._image import Band, Image, Rendered
from .._info import band_info
from .._pixeltype import PixelType
from .._reducers import Reducer
from .._reproject import source_coords
from .._values import Date
from .bands import pair_bands, proj_extra, reduced_type
from .coerce import as_image, as_str_list, is_number
from .framework import REGISTRY, AlgorithmError, ArgumentTypeError, Context, implements
from .placement import window

__all__ = ["CASTS", "cast_image"]

#: Cast algorithm suffix -> numpy dtype name (or FLOAT/DOUBLE).
CASTS: dict[str, str] = {
    "Int8": "int8", "Uint8": "uint8", "Int16": "int16", "Uint16": "uint16", "Int32": "int32",
    "Uint32": "uint32", "Int64": "int64", "Byte": "uint8", "Short": "int16", "Int": "int32",
    "Long": "int64", "Float": "FLOAT", "Double": "DOUBLE",
}


def _cast_type(target: str) -> PixelType:
    if target in ("FLOAT", "DOUBLE"):
        return PixelType(target)
    info = np.iinfo(np.dtype(target))
    return PixelType.int_range(info.min, info.max)


def cast_image(img: Image, ptype: PixelType) -> Image:
    """Every band cast to `ptype`: floats truncate toward zero, out-of-range values saturate."""

    def mk(b: Band) -> Band:
        def render(g: Grid, b: Band = b) -> Rendered:
            x, ok = b.render(g)
            if ptype.is_int:
                with np.errstate(invalid="ignore"):
                    x = np.clip(np.trunc(x.astype(np.float64)) if x.dtype.kind == "f" else x, ptype.min, ptype.max)
            return x.astype(ptype.dtype), ok

        return Band(b.name, ptype, b.grid, render, dict(b.extra))

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)


def _register_casts() -> None:
    for suffix, target in CASTS.items():
        ptype = _cast_type(target)
        names = [f"Image.to{suffix}"]
        short = suffix.lower()
        if f"Image.{short}" not in names:
            names.append(f"Image.{short}")
        for name in names:
            if name in catalogue():  # not every spelling exists (e.g. Image.uint64)
                implements(name)(lambda ctx, value, _t=ptype: cast_image(as_image(value, "value"), _t))


_register_casts()


# ---------------------------------------------------------------------------------------
# Per-pixel maths
# ---------------------------------------------------------------------------------------
def _float_type(t: PixelType) -> PixelType:
    return PixelType("FLOAT") if t.precision == "FLOAT" else PixelType("DOUBLE")


def _unary(img: Image, fn: Callable[[np.ndarray], np.ndarray], typer: Callable[[PixelType], PixelType],
           invalid_nan: bool = True) -> Image:
    def mk(b: Band) -> Band:
        ptype = typer(b.ptype)

        def render(g: Grid, b: Band = b) -> Rendered:
            x, ok = b.render(g)
            with np.errstate(all="ignore"):
                y = fn(x.astype(np.float64) if not ptype.is_int else x.astype(np.int64))
            if invalid_nan and y.dtype.kind == "f":
                bad = ~np.isfinite(y)
                if bad.any():
                    ok = ok & ~bad
                    y = np.where(bad, 0.0, y)
            return y, ok

        return Band(b.name, ptype, b.grid, render, proj_extra(b))

    return img.with_bands([mk(b) for b in img.bands])


def _abs_type(t: PixelType) -> PixelType:
    if t.is_int:
        lo, hi = float(t.min or 0), float(t.max or 0)
        return PixelType.int_range(0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi)))
    return t


_UNARY: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[PixelType], PixelType]]] = {
    "abs": (np.abs, _abs_type),
    "sqrt": (np.sqrt, _float_type),
    "log": (np.log, _float_type),
    "log10": (np.log10, _float_type),
    "exp": (np.exp, _float_type),
    "sin": (np.sin, _float_type),
    "cos": (np.cos, _float_type),
    "tan": (np.tan, _float_type),
    "sinh": (np.sinh, _float_type),
    "cosh": (np.cosh, _float_type),
    "tanh": (np.tanh, _float_type),
    "asin": (np.arcsin, _float_type),
    "acos": (np.arccos, _float_type),
    "atan": (np.arctan, _float_type),
    "ceil": (np.ceil, lambda t: t),
    "floor": (np.floor, lambda t: t),
    "round": (lambda x: np.floor(x + 0.5) if x.dtype.kind == "f" else x, lambda t: t),
    "signum": (np.sign, lambda t: PixelType.int_range(-1, 1) if t.is_int else t),
    "not": (lambda x: (x == 0).astype(np.uint8), lambda t: PixelType.int_range(0, 1)),
    "bitwiseNot": (np.invert, lambda t: t if t.is_int else PixelType.int_range(-(2**63), 2**63 - 1)),
}
for _op, (_fn, _typer) in _UNARY.items():
    implements(f"Image.{_op}")(
        lambda ctx, value, _fn=_fn, _typer=_typer: _unary(as_image(value, "value"), _fn, _typer)
    )


def _binary_type(op: str, ta: PixelType, tb: PixelType) -> PixelType:
    if op in ("and", "or"):
        return PixelType.int_range(0, 1)
    if op in ("min", "max", "first", "firstNonZero", "mod"):
        return ta.union(tb)  # "the union of the input types", as the catalogue says
    if op.startswith("bitwise") or op in ("leftShift", "rightShift"):
        return ta.union(tb) if ta.is_int and tb.is_int else PixelType.int_range(-(2**63), 2**63 - 1)
    return PixelType("FLOAT")  # pow, atan2, hypot: "The type of the output pixels is float."


def _binary_fn(op: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    Pair = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

    def both(f: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Pair:
        return lambda x, vx, y, vy: (f(x, y), vx & vy)

    table: dict[str, Pair] = {
        "and": both(lambda x, y: ((x != 0) & (y != 0)).astype(np.uint8)),
        "or": both(lambda x, y: ((x != 0) | (y != 0)).astype(np.uint8)),
        "min": both(np.minimum),
        "max": both(np.maximum),
        "pow": both(lambda x, y: np.power(x.astype(np.float64), y.astype(np.float64))),
        "mod": both(lambda x, y: np.where(y == 0, 0, np.fmod(x, np.where(y == 0, 1, y)))),
        "atan2": both(lambda x, y: np.arctan2(x.astype(np.float64), y.astype(np.float64))),
        "hypot": both(lambda x, y: np.hypot(x.astype(np.float64), y.astype(np.float64))),
        "bitwiseAnd": both(lambda x, y: np.bitwise_and(x.astype(np.int64), y.astype(np.int64))),
        "bitwiseOr": both(lambda x, y: np.bitwise_or(x.astype(np.int64), y.astype(np.int64))),
        "bitwiseXor": both(lambda x, y: np.bitwise_xor(x.astype(np.int64), y.astype(np.int64))),
        "leftShift": both(lambda x, y: np.left_shift(x.astype(np.int64), y.astype(np.int64))),
        "rightShift": both(lambda x, y: np.right_shift(x.astype(np.int64), y.astype(np.int64))),
        # first: the first value where it is valid, else the second.
        "first": lambda x, vx, y, vy: (np.where(vx, x, y), vx | vy),
        "firstNonZero": lambda x, vx, y, vy: (np.where(vx & (x != 0), x, y), (vx & (x != 0)) | vy),
    }
    return table[op]


def binary_image(op: str, image1: Any, image2: Any) -> Image:
    a, b = as_image(image1, "image1"), as_image(image2, "image2")
    fn = _binary_fn(op)
    bands = []
    for name, ba, bb in pair_bands(op, a, b):
        ptype = _binary_type(op, ba.ptype, bb.ptype)

        def render(g: Grid, ba: Band = ba, bb: Band = bb, ptype: PixelType = ptype) -> Rendered:
            (x, vx), (y, vy) = ba.render(g), bb.render(g)
            if ptype.is_int:
                x, y = x.astype(np.int64, copy=False), y.astype(np.int64, copy=False)
            else:
                x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
            with np.errstate(all="ignore"):
                out, ok = fn(x, vx, y, vy)
            if out.dtype.kind == "f":
                bad = ~np.isfinite(out)
                if bad.any():
                    ok, out = ok & ~bad, np.where(bad, 0.0, out)
            return out, ok

        bands.append(Band(name, ptype, ba.grid or bb.grid, render, proj_extra(ba, bb)))
    return a.with_bands(bands)


_ALIASES = {"bitwise_and": "bitwiseAnd", "bitwise_or": "bitwiseOr", "bitwise_xor": "bitwiseXor", "first_nonzero": "firstNonZero",
            "left_shift": "leftShift", "right_shift": "rightShift"}
for _name in ("and", "or", "min", "max", "pow", "mod", "atan2", "hypot", "bitwiseAnd", "bitwiseOr", "bitwiseXor",
              "leftShift", "rightShift", "first", "firstNonZero", *_ALIASES):
    _op = _ALIASES.get(_name, _name)
    implements(f"Image.{_name}")(lambda ctx, image1, image2, _op=_op: binary_image(_op, image1, image2))
implements("Image.bitwise_not")(lambda ctx, value: _unary(as_image(value, "value"), *_UNARY["bitwiseNot"]))


@implements("Image.clamp")
def image_clamp(ctx: Context, input: Any, low: Any, high: Any) -> Image:
    img = as_image(input, "input")
    if not (is_number(low) and is_number(high)):
        raise ArgumentTypeError("low" if not is_number(low) else "high", "Float", low if not is_number(low) else high)

    def mk(b: Band) -> Band:
        t = b.ptype
        if t.is_int and float(low).is_integer() and float(high).is_integer():
            ptype = PixelType.int_range(max(float(t.min or 0), low), min(float(t.max or 0), high))
        else:
            ptype = t if not t.is_int else PixelType("DOUBLE")

        def render(g: Grid, b: Band = b) -> Rendered:
            x, ok = b.render(g)
            return np.clip(x, low, high), ok

        return Band(b.name, ptype, b.grid, render, proj_extra(b))

    return img.with_bands([mk(b) for b in img.bands])


@implements("Image.unitScale")
def image_unit_scale(ctx: Context, input: Any, low: Any, high: Any) -> Image:
    img = as_image(input, "input")
    span = float(high) - float(low)
    return _unary(img, lambda x: (x - float(low)) / span if span else np.zeros_like(x, dtype=np.float64), _float_type)


@implements("Image.remap")
def image_remap(ctx: Context, image: Any, defaultValue: Any = None, bandName: Any = None, **kw: Any) -> Image:
    """One band: values in `from` become the matching `to`, others `defaultValue` or masked."""
    img = as_image(image, "image")
    src, dst = kw.get("from"), kw.get("to")
    if not (isinstance(src, list) and isinstance(dst, list) and len(src) == len(dst)
            and all(is_number(v) for v in src + dst)):
        raise AlgorithmError("'from' and 'to' must be lists of numbers of the same length.")
    if bandName is not None:
        band = next((b for b in img.bands if b.name == bandName), None)
        if band is None:
            raise AlgorithmError(f"Band '{bandName}' not found. Available bands: [{', '.join(img.band_names)}]")
    elif img.bands:
        band = img.bands[0]
    else:
        raise AlgorithmError("The image has no bands.")
    outs = [*dst, *([defaultValue] if defaultValue is not None else [])]
    ints = all(isinstance(v, int) for v in outs)
    ptype = PixelType.int_range(min(outs), max(outs)) if ints and outs else PixelType("DOUBLE")

    def render(g: Grid) -> Rendered:
        x, ok = band.render(g)
        out = np.full(x.shape, 0 if defaultValue is None else defaultValue, dtype=np.float64)
        hit = np.zeros(x.shape, dtype=bool)
        for a, b in zip(src, dst, strict=True):
            m = ~hit & (x == a)
            out[m] = b
            hit |= m
        return out, ok & (hit if defaultValue is None else True)

    return img.with_bands([Band(band.name, ptype, band.grid, render, proj_extra(band))])


@implements("Image.selfMask")
def image_self_mask(ctx: Context, image: Any) -> Image:
    img = as_image(image, "image")

    def mk(b: Band) -> Band:
        def render(g: Grid, b: Band = b) -> Rendered:
            x, ok = b.render(g)
            return x, ok & (x != 0)

        return Band(b.name, b.ptype, b.grid, render, dict(b.extra))

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)


@implements("Image.where")
def image_where(ctx: Context, input: Any, test: Any, value: Any) -> Image:
    img, t, v = as_image(input, "input"), as_image(test, "test"), as_image(value, "value")
    bands = []
    for (name, ba, bt), (_, _, bv) in zip(pair_bands("where", img, t), pair_bands("where", img, v), strict=True):

        def render(g: Grid, ba: Band = ba, bt: Band = bt, bv: Band = bv) -> Rendered:
            (x, vx), (c, vc), (y, vy) = ba.render(g), bt.render(g), bv.render(g)
            use = vc & (c != 0)
            return np.where(use, y, x), np.where(use, vy, vx)

        bands.append(Band(name, ba.ptype.union(bv.ptype), ba.grid, render, dict(ba.extra)))
    return img.with_bands(bands, keep_meta=True)


# ---------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------
@implements("Image.bandNames")
def image_band_names(ctx: Context, image: Any) -> list[str]:
    return as_image(image, "image").band_names


@implements("Image.bandTypes")
def image_band_types(ctx: Context, image: Any) -> dict[str, Any]:
    return {b.name: band_info(b)["data_type"] for b in as_image(image, "image").bands}


@implements("Image.date")
def image_date(ctx: Context, image: Any) -> Date:
    t = as_image(image, "image").properties.get("system:time_start")
    if t is None:
        raise AlgorithmError("Image has no 'system:time_start' property.")
    return Date(int(t))


@implements("Image.id")
def image_id(ctx: Context, element: Any) -> Any:
    return as_image(element, "element").properties.get("system:id")


# ---------------------------------------------------------------------------------------
# Visualization
# ---------------------------------------------------------------------------------------
def _per_band(v: Any, n: int, arg: str) -> list[float] | None:
    if v is None:
        return None
    if isinstance(v, str):
        v = [float(x) for x in v.split(",") if x.strip()]
    if is_number(v):
        v = [v]
    if not isinstance(v, list) or not all(is_number(x) for x in v) or len(v) not in (1, n):
        raise AlgorithmError(f"Invalid '{arg}': expected a number or {n} numbers, got {v!r}.")
    return [float(x) for x in (v * n if len(v) == 1 else v)]


@implements("Image.visualize")
def image_visualize(ctx: Context, image: Any, bands: Any = None, gain: Any = None, bias: Any = None, min: Any = None,
                    max: Any = None, gamma: Any = None, opacity: Any = None, palette: Any = None,
                    forceRgbOutput: Any = False) -> Image:
    img = as_image(image, "image")
    if bands is not None:
        names = as_str_list([s.strip() for s in bands.split(",")] if isinstance(bands, str) else bands, "bands")
        by = {b.name: b for b in img.bands}
        missing = [n for n in names if n not in by]
        if missing:
            raise AlgorithmError(f"Image.visualize: band '{missing[0]}' not found. Available bands: [{', '.join(by)}]")
        chosen = [by[n] for n in names]
    else:
        chosen = img.bands[:3] if len(img.bands) >= 3 else img.bands[:1]
    n = len(chosen)
    if n not in (1, 3):
        raise AlgorithmError(f"Image.visualize requires 1 or 3 bands, but {n} were given.")
    if (gain is not None or bias is not None) and (min is not None or max is not None):
        raise AlgorithmError("Image.visualize: can't specify both gain/bias and min/max.")
    lo, hi = _per_band(min, n, "min"), _per_band(max, n, "max")
    g, bi = _per_band(gain, n, "gain"), _per_band(bias, n, "bias")
    if g is not None or bi is not None:
        g, bi = g or [1.0] * n, bi or [0.0] * n
        lo = [-b / k for b, k in zip(bi, g, strict=True)]
        hi = [(255.0 - b) / k for b, k in zip(bi, g, strict=True)]
    lo, hi = lo or [0.0] * n, hi or [255.0 if b.ptype.dtype == np.uint8 else 1.0 for b in chosen]
    gammas = _per_band(gamma, n, "gamma")
    if palette is not None:
        if n != 1:
            raise AlgorithmError("Image.visualize: palette is only allowed with 1 band.")
        palette = [p.strip() for p in palette.split(",")] if isinstance(palette, str) else list(palette)
    vis = {"ranges": [{"min": a, "max": b} for a, b in zip(lo, hi, strict=True)],
           "paletteColors": palette, "gamma": gammas[0] if gammas else None,
           "opacity": 1.0 if opacity is None else float(opacity)}

    last: list[tuple[Grid, np.ndarray, np.ndarray]] = []

    def rgba_of(gr: Grid) -> tuple[np.ndarray, np.ndarray]:
        if last and last[0][0] == gr:
            return last[0][1], last[0][2]
        vals = [b.render(gr) for b in chosen]
        rgba = _visualize([b.name for b in chosen], [v for v, _ in vals], [ok for _, ok in vals],
                          [b.ptype.dtype for b in chosen], vis)
        ok = np.ones(rgba.shape[:2], dtype=bool)
        for _, m in vals:
            ok &= m
        last[:] = [(gr, rgba, ok)]
        return rgba, ok

    def channel(c: int) -> Callable[[Grid], Rendered]:
        def render(gr: Grid) -> Rendered:
            rgba, ok = rgba_of(gr)
            return rgba[..., c], ok

        return render

    u8 = PixelType.int_range(0, 255)
    grid = chosen[0].grid
    out = [Band(name, u8, grid, channel(i)) for i, name in enumerate(("vis-red", "vis-green", "vis-blue"))]
    return img.with_bands(out)


@implements("Image.slice")
def image_slice(ctx: Context, image: Any, start: Any, end: Any = None) -> Image:
    """Bands start..end-1 (negative indices count from the end), properties kept."""
    img = as_image(image, "image")
    n = len(img.bands)
    if not is_number(start) or (end is not None and not is_number(end)):
        raise AlgorithmError("Image.slice: start and end must be integers.")
    sl = img.bands[slice(int(start), int(end) if end is not None else None)]
    if not sl:
        raise AlgorithmError(f"Image.slice: no bands in [{start}, {end if end is not None else n}) of an image of {n} bands.")
    return img.with_bands(list(sl), keep_meta=True)


@implements("Image.copyProperties")
def image_copy_properties(ctx: Context, destination: Any = None, source: Any = None, properties: Any = None,
                          exclude: Any = None) -> Any:
    """As Element.copyProperties (every non-system property of `source` unless `properties` names them)."""
    return REGISTRY["Element.copyProperties"].fn(ctx, destination, source, properties, exclude)


@implements("Image.reduceResolution")
def image_reduce_resolution(ctx: Context, image: Any, reducer: Any, bestEffort: Any = False, maxPixels: Any = 64) -> Image:
    """Each output pixel combines the input pixels (at their native resolution) whose centres
    fall inside it, with the reducer (mean, min, max, median, sum, count, mode...); the service
    weights the input pixels by the fraction of them inside, the emulator counts a pixel in
    the output pixel that holds its centre. Bands without a native grid pass unchanged."""
    img = as_image(image, "image")
    if not isinstance(reducer, Reducer) or reducer.pixelwise(np.zeros((1, 1, 1))) is None or len(reducer.outputs) != 1:
        raise AlgorithmError("Image.reduceResolution: the emulator applies single-output per-pixel reducers (mean, min, max, median, sum, count, mode...).")
    limit = int(maxPixels) if maxPixels is not None else 64

    def mk(b: Band) -> Band:
        src = b.grid
        if src is None or src.width is None:
            return b

        def render(g: Grid, b: Band = b) -> Rendered:
            if g.has_shear or src.has_shear or not same_crs(g.crs or g.crs_wkt, src.crs or src.crs_wkt):
                return _reduce_resolution_general(b, g, reducer)
            fx, fy = abs(g.scale_x / src.scale_x), abs(g.scale_y / src.scale_y)
            if fx <= 1 + 1e-9 and fy <= 1 + 1e-9:
                return b.render(g)  # not coarser: nothing to combine
            if math.ceil(fx) * math.ceil(fy) > limit and not bestEffort:
                raise AlgorithmError(f"Image.reduceResolution: too many input pixels per output pixel "
                                     f"({math.ceil(fx) * math.ceil(fy)} > maxPixels {limit}).")
            return _reduce_resolution_general(b, g, reducer)

        return Band(b.name, reduced_type(reducer.kind, b.ptype, limit), b.grid, render, dict(b.extra))

    return img.with_bands([mk(b) for b in img.bands], keep_meta=True)


def _reduce_resolution_general(b: Band, g: Grid, reducer: Reducer) -> Rendered:
    """Render `b` on its native grid over the output's extent, put each native pixel in the
    output pixel holding its centre, and reduce the values of each output pixel."""
    src = b.grid
    assert src is not None
    native = window(src, bounds_in(g, src.crs or src.crs_wkt or "EPSG:4326"), margin=1)
    x, ok = b.render(native)
    # Centres of the native pixels, as continuous (col, row) in the output grid.
    col, row = source_coords_of(native, g)
    ci, ri = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
    inside = ok & (ci >= 0) & (ci < g.width) & (ri >= 0) & (ri < g.height)
    idx = ri[inside] * g.width + ci[inside]
    vals = x[inside].astype(np.float64)
    h, w = g.shape
    order = np.argsort(idx, kind="stable")
    idx, vals = idx[order], vals[order]
    counts = np.bincount(idx, minlength=h * w)
    k = int(counts.max()) if counts.size else 0
    stack = np.full((max(k, 1), h * w), np.nan)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(idx.size) - starts[idx]
    stack[pos, idx] = vals
    out = reducer.pixelwise(stack.reshape(-1, h, w))
    assert out is not None
    r = np.asarray(out[reducer.outputs[0]]).reshape(h, w)
    valid = counts.reshape(h, w) > 0
    if reducer.kind == "count":
        return np.where(valid, r, 0), np.ones((h, w), dtype=bool)
    return np.where(valid, np.nan_to_num(r), 0), valid


def source_coords_of(src: Grid, dst: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(col, row) in `dst` pixel space of the centre of every pixel of `src` ((H, W) arrays)."""
    col, row = source_coords(src, dst)
    if col.ndim == 1:
        col, row = np.broadcast_to(col[None, :], src.shape), np.broadcast_to(row[:, None], src.shape)
    return np.nan_to_num(col, nan=-1.0), np.nan_to_num(row, nan=-1.0)
