"""Reducers: what `Reducer.*` builds and what reduceRegion, reduceColumns and collection reductions apply.

A reducer takes `inputs` columns of values and gives one value per output name. Simple
reducers have one input; `repeat` and `combine` compose them as Earth Engine does. Each
simple reducer has a scalar form (over a 1-D array of valid values) and, where it makes
sense per pixel, a pixelwise form over a stack with NaN for masked values.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GroupReducer", "LinearFitReducer", "Reducer", "SIMPLE", "combine", "group", "linear_fit", "parametric", "repeat", "set_outputs", "simple"]


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*a: Any, **k: Any) -> Any:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*a, **k)

    return wrapped


def _num(x: Any) -> Any:
    """A numpy scalar as a plain Python number (None for NaN: no valid input)."""
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and np.isnan(x):
        return None
    return x


def _list(v: Any) -> list:
    return v.tolist() if isinstance(v, np.ndarray) else list(v)


@dataclass(frozen=True)
class _Simple:
    outputs: tuple[str, ...]
    scalar: Callable[[list], list]  # valid values (a list) -> one value per output
    pixel: Callable[[np.ndarray], list[Any]] | None = None  # (N, H, W) NaN-masked -> per output (H, W)


def _arr(values: Any) -> np.ndarray:
    """Valid values as an array (pixel columns arrive as arrays of valid values, property
    columns as lists that may hold None)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64) if values.dtype.kind == "f" else values
    return np.asarray([v for v in values if v is not None], dtype=np.float64)


def _stat(fn: Callable[[np.ndarray], Any], empty: Any = None) -> Callable[[list], list]:
    def scalar(values: list) -> list:
        a = _arr(values)
        return [empty if a.size == 0 else _num(_quiet(fn)(a))]

    return scalar


def _pix(fn: Callable[..., Any]) -> Callable[[np.ndarray], list[Any]]:
    return lambda stack: [_quiet(fn)(stack, axis=0)]


def _count_scalar(values: Any) -> list:
    if isinstance(values, np.ndarray):
        return [int(values.size)]
    return [sum(v is not None for v in values)]


def _first(values: Any) -> list:
    return [_num(values[0]) if len(values) else None]


def _last(values: Any) -> list:
    return [_num(values[-1]) if len(values) else None]


def _mode_scalar(values: Any) -> list:
    a = _arr(values)
    if a.size == 0:
        return [None]
    uniq, counts = np.unique(a, return_counts=True)
    return [_num(uniq[np.argmax(counts)])]  # the smallest of the most frequent values


def _mode_pixel(stack: np.ndarray) -> list[Any]:
    """Per pixel, the most frequent valid value (the smallest on ties); NaN where none is valid."""
    best = np.full(stack.shape[1:], np.nan)
    best_n = np.zeros(stack.shape[1:], dtype=np.int64)
    for v in stack:
        n = np.sum(stack == v[None], axis=0)
        better = ~np.isnan(v) & ((n > best_n) | ((n == best_n) & (v < best)))
        best = np.where(better, v, best)
        best_n = np.where(better, n, best_n)
    return [best]


SIMPLE: dict[str, _Simple] = {
    "mean": _Simple(("mean",), _stat(np.mean), _pix(np.nanmean)),
    "median": _Simple(("median",), _stat(np.median), _pix(np.nanmedian)),
    "min": _Simple(("min",), _stat(np.min), _pix(np.nanmin)),
    "max": _Simple(("max",), _stat(np.max), _pix(np.nanmax)),
    "sum": _Simple(("sum",), _stat(np.sum, 0), _pix(np.nansum)),
    "product": _Simple(("product",), _stat(np.prod, 1), _pix(np.nanprod)),
    "count": _Simple(("count",), _count_scalar, lambda s: [np.sum(~np.isnan(s), axis=0)]),
    "stdDev": _Simple(("stdDev",), _stat(np.std), _pix(np.nanstd)),
    "variance": _Simple(("variance",), _stat(np.var), _pix(np.nanvar)),
    "sampleStdDev": _Simple(("stdDev",), _stat(lambda a: np.std(a, ddof=1)), _pix(lambda s, axis: np.nanstd(s, axis=axis, ddof=1))),
    "sampleVariance": _Simple(("variance",), _stat(lambda a: np.var(a, ddof=1)), _pix(lambda s, axis: np.nanvar(s, axis=axis, ddof=1))),
    "minMax": _Simple(("min", "max"), lambda v: _stat(np.min)(v) + _stat(np.max)(v),
                      lambda s: [_quiet(np.nanmin)(s, axis=0), _quiet(np.nanmax)(s, axis=0)]),
    "mode": _Simple(("mode",), _mode_scalar, _mode_pixel),
    "and": _Simple(("and",), lambda v: [int(all(bool(x) for x in _list(v) if x is not None))],
                   lambda s: [np.where(np.isnan(s), 1, s != 0).all(axis=0).astype(np.float64)]),
    "or": _Simple(("or",), lambda v: [int(any(bool(x) for x in _list(v) if x is not None))],
                  lambda s: [np.where(np.isnan(s), 0, s != 0).any(axis=0).astype(np.float64)]),
    "first": _Simple(("first",), _first),
    "last": _Simple(("last",), _last),
    "toList": _Simple(("list",), lambda v: [_list(v)]),
    "countDistinct": _Simple(("count",), lambda v: [len({_key(x) for x in _list(v) if x is not None})]),
    "anyNonZero": _Simple(("any",), lambda v: [int(any(bool(x) for x in _list(v) if x is not None))],
                          lambda s: [np.where(np.isnan(s), 0, s != 0).any(axis=0).astype(np.float64)]),
    "allNonZero": _Simple(("all",), lambda v: [int(all(bool(x) for x in _list(v) if x is not None))],
                          lambda s: [np.where(np.isnan(s), 1, s != 0).all(axis=0).astype(np.float64)]),
}


def _key(x: Any) -> Any:
    return repr(x) if isinstance(x, (list, dict)) else x


@dataclass(frozen=True)
class Reducer:
    """A reducer: `parts` are (simple kind, output names) applied to consecutive input groups.

    `shared` parts all read the same inputs (combine with sharedInputs); otherwise each part
    reads its own inputs, in order. `repeat` > 1 makes each output a list over repeated inputs.
    """

    parts: tuple[tuple[str, tuple[str, ...]], ...]
    shared: bool = False
    repeat: int = 1
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """The simple kind of a one-part reducer ("mean", ...); "" for composed reducers."""
        return self.parts[0][0] if len(self.parts) == 1 and self.repeat == 1 else ""

    @property
    def outputs(self) -> list[str]:
        return [o for _, outs in self.parts for o in outs]

    @property
    def inputs(self) -> int:
        per = 1 if self.shared else len(self.parts)
        return per * self.repeat

    def reduce(self, columns: list[list]) -> dict[str, Any]:
        """Reduce `inputs` columns of values (None: masked/missing) to {output: value}."""
        out: dict[str, Any] = {}
        for k, (kind, names) in enumerate(self.parts):
            per_repeat = []
            for r in range(self.repeat):
                idx = (0 if self.shared else k) + r * (1 if self.shared else len(self.parts))
                per_repeat.append(SIMPLE[kind].scalar(columns[idx]))
            for j, name in enumerate(names):
                vals = [res[j] for res in per_repeat]
                out[name] = vals if self.repeat > 1 else vals[0]
        return out

    def pixelwise(self, stack: np.ndarray) -> dict[str, Any] | None:
        """Per-pixel reduction of a (N, H, W) NaN-masked stack (one input), or None if unsupported."""
        if self.repeat != 1 or (len(self.parts) > 1 and not self.shared):
            return None
        out: dict[str, Any] = {}
        for kind, names in self.parts:
            pix = SIMPLE[kind].pixel
            if pix is None:
                return None
            for name, arr in zip(names, pix(stack), strict=True):
                out[name] = arr
        return out


def simple(kind: str, outputs: tuple[str, ...] | None = None) -> Reducer:
    return Reducer(((kind, outputs or SIMPLE[kind].outputs),))


def combine(r1: Reducer, r2: Reducer, prefix: str, shared: bool) -> Reducer:
    if r1.repeat != 1 or r2.repeat != 1:
        raise ValueError("combining repeated reducers")
    parts2 = tuple((k, tuple(prefix + o for o in outs)) for k, outs in r2.parts)
    if shared and not (r1.shared or len(r1.parts) == 1):
        raise ValueError("sharedInputs with reducers of different input counts")
    return Reducer(r1.parts + parts2, shared=shared)


def repeat(r: Reducer, count: int) -> Reducer:
    if r.repeat != 1 or len(r.parts) != 1:
        raise ValueError("repeating a composed reducer")
    return Reducer(r.parts, repeat=r.repeat * count)


def set_outputs(r: Reducer, names: list[str]) -> Reducer:
    if len(names) != len(r.outputs):
        raise ValueError(f"expected {len(r.outputs)} output names, got {len(names)}")
    it = iter(names)
    return Reducer(tuple((k, tuple(next(it) for _ in outs)) for k, outs in r.parts), r.shared, r.repeat)


def parametric(kind: str, outputs: tuple[str, ...], scalar: Callable[[list], list],
               pixel: Callable[[np.ndarray], list[Any]] | None = None) -> Reducer:
    """A reducer with arguments (percentile, histograms): `kind` names it with its arguments
    (e.g. "percentile[10, 50]"), and is registered beside the simple kinds on first use."""
    SIMPLE.setdefault(kind, _Simple(outputs, scalar, pixel))
    return Reducer(((kind, outputs),))


@dataclass(frozen=True)
class GroupReducer(Reducer):
    """`Reducer.group`: the inner reducer applied to the inputs per distinct value of the
    group field (one more input, at `group_field`); output `groups`, a list of dictionaries
    {groupName: value, outputs...} in ascending order of the value."""

    inner: Reducer | None = None
    group_field: int = 0
    group_name: str = "group"

    @property
    def kind(self) -> str:
        return ""

    @property
    def outputs(self) -> list[str]:
        return ["groups"]

    @property
    def inputs(self) -> int:
        assert self.inner is not None
        return self.inner.inputs + 1

    def reduce(self, columns: list[list]) -> dict[str, Any]:
        assert self.inner is not None
        if len({len(c) for c in columns}) > 1:
            raise ValueError("Reducer.group needs its inputs from the same pixels or rows")
        keys = np.asarray(_list(columns[self.group_field]), dtype=object)
        rest = [c for i, c in enumerate(columns) if i != self.group_field]
        out = []
        ok = np.array([k is not None for k in keys], dtype=bool)
        for key in sorted({_num(k) for k in keys[ok]}):
            sel = ok & (keys == key)
            cols = [np.asarray(c)[sel] if isinstance(c, np.ndarray) else [v for v, s in zip(c, sel, strict=True) if s] for c in rest]
            out.append({self.group_name: key, **self.inner.reduce(cols)})
        return {"groups": out}

    def pixelwise(self, stack: np.ndarray) -> dict[str, Any] | None:
        return None


def group(inner: Reducer, group_field: int, group_name: str) -> Reducer:
    if not 0 <= group_field <= inner.inputs:
        raise ValueError(f"groupField {group_field} is not one of the {inner.inputs + 1} inputs")
    return GroupReducer(inner.parts, inner.shared, inner.repeat, inner=inner, group_field=group_field, group_name=group_name)


@dataclass(frozen=True)
class LinearFitReducer(Reducer):
    """`Reducer.linearFit`: least squares y = scale x + offset over 2 inputs (x, y); outputs
    `scale` and `offset`. Per pixel (ImageCollection.reduce) each image gives x and y as its
    two bands."""

    @property
    def kind(self) -> str:
        return ""

    @property
    def outputs(self) -> list[str]:
        return ["scale", "offset"]

    @property
    def inputs(self) -> int:
        return 2

    def reduce(self, columns: list[list]) -> dict[str, Any]:
        if len({len(c) for c in columns}) > 1:
            raise ValueError("linearFit needs its two inputs from the same pixels or rows")
        x, y = (np.asarray(_list(c), dtype=np.float64) for c in columns)
        scale, offset = _fit(x[None], y[None])
        return {"scale": _num(scale[0]), "offset": _num(offset[0])}

    def pixelwise(self, stack: np.ndarray) -> dict[str, Any] | None:
        return None

    def pixelwise_pairs(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """Per pixel fit over (N, H, W) stacks of x and y, NaN where masked."""
        return dict(zip(("scale", "offset"), _fit(x, y, axis=0), strict=True))


@_quiet
def _fit(x: np.ndarray, y: np.ndarray, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    ok = ~(np.isnan(x) | np.isnan(y))
    n = ok.sum(axis=axis)
    xm = np.where(ok, x, 0).sum(axis=axis) / n
    ym = np.where(ok, y, 0).sum(axis=axis) / n
    dx = np.where(ok, x - np.expand_dims(xm, axis), 0)
    dy = np.where(ok, y - np.expand_dims(ym, axis), 0)
    scale = (dx * dy).sum(axis=axis) / (dx * dx).sum(axis=axis)
    return scale, ym - scale * xm


def linear_fit() -> Reducer:
    return LinearFitReducer((("linearFit", ("scale", "offset")),))
