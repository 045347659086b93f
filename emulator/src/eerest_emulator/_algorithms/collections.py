"""Collection algorithms (lists, iteration, aggregates, columns, composites) and the Reducer constructors.

Each implements the real algorithm of the same name (signature from the catalogue).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _reducers
from .._grid import Grid
from .._image import Band, Image, ImageCollection, Rendered
from .._reducers import Reducer
from .._values import Feature
from .bands import bands_by_name, reduced_type, render_stack
from .coerce import as_collection, as_image, as_image_collection, as_str_list, is_number
from .framework import AlgorithmError, ArgumentTypeError, Context, implements

__all__: list[str] = []


def _reducer(v: Any, arg: str) -> Reducer:
    if isinstance(v, Reducer):
        return v
    raise ArgumentTypeError(arg, "Reducer", v)


def _checked(fn: Callable[..., Reducer]) -> Callable[..., Reducer]:
    """Reducer composition errors become algorithm errors."""

    def wrapped(*a: Any, **k: Any) -> Any:
        try:
            return fn(*a, **k)
        except ValueError as e:
            raise AlgorithmError(f"The eerest emulator cannot build this reducer: {e}.") from None

    return wrapped


# ---------------------------------------------------------------------------------------
# Reducers
# ---------------------------------------------------------------------------------------
for _kind in _reducers.SIMPLE:
    implements(f"Reducer.{_kind}")(lambda ctx, _kind=_kind, **kw: _reducers.simple(_kind))


def _values(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    return np.asarray([v for v in values if v is not None and is_number(v)], dtype=np.float64)


def _pct_names(percentiles: list, outputNames: Any) -> tuple[str, ...]:
    if outputNames is not None:
        names = as_str_list(outputNames, "outputNames")
        if len(names) != len(percentiles):
            raise AlgorithmError(f"Got {len(names)} output names for {len(percentiles)} percentiles.")
        return tuple(names)
    return tuple(f"p{int(p) if float(p).is_integer() else p}" for p in percentiles)


@implements("Reducer.percentile")
def reducer_percentile(ctx: Context, percentiles: Any, outputNames: Any = None, maxBuckets: Any = None,
                       minBucketWidth: Any = None, maxRaw: Any = None) -> Reducer:
    """Exact percentiles (linear interpolation between the sorted values), whatever the number
    of inputs; the service derives them from a histogram above `maxRaw` inputs."""
    if not isinstance(percentiles, list) or not percentiles or not all(is_number(p) and 0 <= p <= 100 for p in percentiles):
        raise AlgorithmError(f"percentiles must be a list of numbers between 0 and 100, got {percentiles!r}.")
    ps = [float(p) for p in percentiles]
    names = _pct_names(percentiles, outputNames)

    def scalar(values: Any) -> list:
        a = _values(values)
        return [None] * len(ps) if a.size == 0 else [float(v) for v in np.percentile(a, ps)]

    def pixel(stack: np.ndarray) -> list:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return list(np.nanpercentile(stack, ps, axis=0))

    return _reducers.parametric(f"percentile{ps}", names, scalar, pixel)


def _auto_histogram(a: np.ndarray, max_buckets: int, min_width: float | None) -> dict | None:
    if a.size == 0:
        return None
    lo, hi = float(a.min()), float(a.max())
    k = math.floor(math.log2(min_width)) if min_width else -20
    while True:
        w = 2.0**k
        if (min_width is None or w >= min_width) and math.floor(hi / w) - math.floor(lo / w) + 1 <= max_buckets:
            break
        k += 1
    start = math.floor(lo / w) * w
    n = math.floor(hi / w) - math.floor(lo / w) + 1
    counts = np.bincount(np.clip(np.floor((a - start) / w).astype(np.int64), 0, n - 1), minlength=n)
    return {"bucketMeans": [start + (i + 0.5) * w for i in range(n)], "bucketMin": start, "bucketWidth": w,
            "histogram": [int(c) for c in counts]}


@implements("Reducer.histogram")
def reducer_histogram(ctx: Context, maxBuckets: Any = None, minBucketWidth: Any = None, maxRaw: Any = None) -> Reducer:
    """A histogram of power-of-2 bucket width (the smallest that fits `maxBuckets`, default 255,
    rounded up to a power of 2), as a dictionary {bucketMeans, bucketMin, bucketWidth, histogram}."""
    mb = int(maxBuckets) if maxBuckets is not None else 255
    if mb <= 0:
        raise AlgorithmError("maxBuckets must be positive.")
    mb = 1 << (mb - 1).bit_length()
    mw = float(minBucketWidth) if minBucketWidth is not None else None
    return _reducers.parametric(f"histogram[{mb}, {mw}]", ("histogram",), lambda v: [_auto_histogram(_values(v), mb, mw)])


@implements("Reducer.fixedHistogram")
def reducer_fixed_histogram(ctx: Context, min: Any, max: Any, steps: Any, cumulative: Any = False) -> Reducer:
    """Counts in `steps` equal buckets over [min, max) (values outside are left out), as a list
    of [bucket start, count] rows; running totals when `cumulative`."""
    lo, hi, n = float(min), float(max), int(steps)
    if n <= 0 or not hi > lo:
        raise AlgorithmError("fixedHistogram needs max > min and a positive number of steps.")
    width = (hi - lo) / n

    def scalar(values: Any) -> list:
        a = _values(values)
        a = a[(a >= lo) & (a < hi)]
        counts = np.bincount(np.clip(np.floor((a - lo) / width).astype(np.int64), 0, n - 1), minlength=n)
        if cumulative:
            counts = np.cumsum(counts)
        return [[[lo + i * width, int(c)] for i, c in enumerate(counts)]]

    return _reducers.parametric(f"fixedHistogram[{lo}, {hi}, {n}, {bool(cumulative)}]", ("histogram",), scalar)


def _frequency_key(v: Any) -> str:
    if isinstance(v, str):
        return v
    if is_number(v) and float(v).is_integer():
        return str(int(v))
    raise AlgorithmError("Reducer.frequencyHistogram of non-integer numbers is not implemented in the eerest emulator "
                         "(the service's key format for them is not known here); cast to integers first, e.g. .int().")


@implements("Reducer.frequencyHistogram")
def reducer_frequency_histogram(ctx: Context) -> Reducer:
    """The number of times each value occurs, as a dictionary {value: count}: integers (keys
    "0", "17"...) and strings; other numbers are refused."""

    def scalar(values: Any) -> list:
        items = values.tolist() if isinstance(values, np.ndarray) else [v for v in values if v is not None]
        counts: dict[str, int] = {}
        for v in items:
            if isinstance(v, float) and math.isnan(v):
                continue
            k = _frequency_key(v)
            counts[k] = counts.get(k, 0) + 1
        return [dict(sorted(counts.items(), key=lambda kv: (not kv[0].lstrip("-").isdigit(), int(kv[0]) if kv[0].lstrip("-").isdigit() else 0, kv[0])))]

    return _reducers.parametric("frequencyHistogram", ("histogram",), scalar)


@implements("Reducer.group")
@_checked
def reducer_group(ctx: Context, reducer: Any, groupField: Any = 0, groupName: Any = "group") -> Reducer:
    return _reducers.group(_reducer(reducer, "reducer"), int(groupField), str(groupName))


@implements("Reducer.linearFit")
def reducer_linear_fit(ctx: Context) -> Reducer:
    return _reducers.linear_fit()


@implements("Reducer.unweighted")
def reducer_unweighted(ctx: Context, reducer: Any) -> Reducer:
    """The reducer itself: the emulator weights every pixel 1 (a pixel is in a region or not)."""
    return _reducer(reducer, "reducer")


@implements("Collection.randomColumn")
def collection_random_column(ctx: Context, collection: Any, columnName: Any = "random", seed: Any = 0,
                             distribution: Any = "uniform", rowKeys: Any = None) -> ImageCollection:
    """A column of pseudo-random numbers, a function of the seed and each row's keys (so the
    same on every call; not the service's numbers): uniform in [0, 1) or standard normal."""
    c = as_collection(collection, "collection")
    if distribution not in ("uniform", "normal"):
        raise AlgorithmError(f"Unknown distribution '{distribution}': expected 'uniform' or 'normal'.")
    keys = as_str_list(rowKeys, "rowKeys") if rowKeys is not None else ["system:index"]
    out = []
    for i, el in enumerate(c.images):
        props = el.properties
        key = repr([int(seed or 0), *(props.get(k, i) for k in keys)]).encode()
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))
        value = float(rng.random() if distribution == "uniform" else rng.standard_normal())
        out.append(_with_property(el, str(columnName), value))
    return c.derived(out)


def _with_property(el: Any, name: str, value: Any) -> Any:
    if isinstance(el, Feature):
        return Feature(el.geometry, {**el.properties, name: value})
    return Image(el.bands, {**el.properties, name: value}, dict(el.meta))


@implements("Reducer.combine")
@_checked
def reducer_combine(ctx: Context, reducer1: Any, reducer2: Any, outputPrefix: Any = "", sharedInputs: Any = False) -> Reducer:
    return _reducers.combine(_reducer(reducer1, "reducer1"), _reducer(reducer2, "reducer2"), outputPrefix or "", bool(sharedInputs))


@implements("Reducer.repeat")
@_checked
def reducer_repeat(ctx: Context, reducer: Any, count: Any) -> Reducer:
    return _reducers.repeat(_reducer(reducer, "reducer"), int(count))


@implements("Reducer.setOutputs")
@_checked
def reducer_set_outputs(ctx: Context, reducer: Any, outputs: Any) -> Reducer:
    return _reducers.set_outputs(_reducer(reducer, "reducer"), as_str_list(outputs, "outputs"))


@implements("Reducer.getOutputs")
def reducer_get_outputs(ctx: Context, reducer: Any) -> list[str]:
    return _reducer(reducer, "reducer").outputs


# ---------------------------------------------------------------------------------------
# Collections as lists
# ---------------------------------------------------------------------------------------
@implements("Collection.toList")
def collection_to_list(ctx: Context, collection: Any, count: Any, offset: Any = 0) -> list[Image]:
    c = as_collection(collection, "collection")
    start = int(offset or 0)
    return c.images[start : start + int(count)]


@implements("Collection.iterate")
def collection_iterate(ctx: Context, collection: Any, function: Any, first: Any = None) -> Any:
    c = as_collection(collection, "collection")
    if not callable(function):
        raise ArgumentTypeError("function", "Algorithm", function)
    acc = first
    for img in c.images:
        acc = function(img, acc)
    return acc


@implements("Collection.merge")
def collection_merge(ctx: Context, collection1: Any, collection2: Any) -> ImageCollection:
    a, b = as_collection(collection1, "collection1"), as_collection(collection2, "collection2")
    if type(a) is not type(b):
        raise AlgorithmError("Can't merge an image collection with a feature collection.")
    return a.derived(a.images + b.images)


implements("ImageCollection.merge")(lambda ctx, collection1, collection2: collection_merge(ctx, collection1, collection2))


@implements("Collection.distinct")
def collection_distinct(ctx: Context, collection: Any, properties: Any) -> ImageCollection:
    c = as_collection(collection, "collection")
    keys = as_str_list(properties, "properties")
    seen, out = set(), []
    for img in c.images:
        k = repr([img.properties.get(p) for p in keys])
        if k not in seen:
            seen.add(k)
            out.append(img)
    return c.derived(out)


@implements("Collection.reduceColumns")
def collection_reduce_columns(ctx: Context, collection: Any, reducer: Any, selectors: Any, weightSelectors: Any = None) -> dict:
    c = as_collection(collection, "collection")
    r = _reducer(reducer, "reducer")
    cols = as_str_list(selectors, "selectors")
    if len(cols) != r.inputs:
        raise AlgorithmError(f"Need {r.inputs} input selectors for the reducer, got {len(cols)}.")
    rows = [[img.properties.get(p) for p in cols] for img in c.images]
    rows = [row for row in rows if all(v is not None for v in row)]
    return r.reduce([[row[i] for row in rows] for i in range(len(cols))])


def _aggregate(name: str, kind: str) -> None:
    def fn(ctx: Context, collection: Any, property: Any) -> Any:
        c = as_collection(collection, "collection")
        values: list[Any] = [img.properties[property] for img in c.images if img.properties.get(property) is not None]
        if kind == "array":
            return values
        if kind == "count":
            return len(values)
        if kind == "count_distinct":
            return len({repr(v) for v in values})
        if kind == "first":
            return values[0] if values else None
        if kind in ("min", "max") and not all(is_number(v) for v in values):
            return (min if kind == "min" else max)(values) if values else None
        nums = np.asarray([v for v in values if is_number(v)], dtype=np.float64)
        if kind == "stats":
            return _stats(nums)
        if kind == "histogram":
            return {str(v): values.count(v) for v in dict.fromkeys(values)}
        if nums.size == 0:
            return 0 if kind in ("sum",) else None
        ops: dict[str, Callable[[np.ndarray], Any]] = {"min": np.min, "max": np.max, "mean": np.mean, "sum": np.sum, "product": np.prod,
               "sample_sd": lambda a: np.std(a, ddof=1), "sample_var": lambda a: np.var(a, ddof=1),
               "total_sd": np.std, "total_var": np.var}
        out = ops[kind](nums).item()
        if kind in ("min", "max", "sum", "product") and all(isinstance(v, int) for v in values):
            return int(out)
        return out

    implements(name)(fn)


def _stats(a: np.ndarray) -> dict[str, Any]:
    if a.size == 0:
        return {"max": None, "mean": None, "min": None, "sample_sd": None, "sample_var": None, "sum": 0,
                "sum_sq": 0, "total_count": 0, "total_sd": None, "total_var": None, "valid_count": 0, "weight_sum": 0,
                "weighted_sum": 0}
    return {"max": a.max().item(), "mean": a.mean().item(), "min": a.min().item(),
            "sample_sd": np.std(a, ddof=1).item() if a.size > 1 else 0.0,
            "sample_var": np.var(a, ddof=1).item() if a.size > 1 else 0.0, "sum": a.sum().item(),
            "sum_sq": (a * a).sum().item(), "total_count": int(a.size), "total_sd": np.std(a).item(),
            "total_var": np.var(a).item(), "valid_count": int(a.size), "weight_sum": float(a.size),
            "weighted_sum": a.sum().item()}


for _kind in ("array", "count", "count_distinct", "first", "histogram", "max", "mean", "min", "product", "sample_sd",
              "sample_var", "stats", "sum", "total_sd", "total_var"):
    _aggregate(f"AggregateFeatureCollection.{_kind}", _kind)


# ---------------------------------------------------------------------------------------
# Composites
# ---------------------------------------------------------------------------------------
@implements("ImageCollection.qualityMosaic")
def collection_quality_mosaic(ctx: Context, collection: Any, qualityBand: Any) -> Image:
    """Per pixel, all bands of the image with the highest valid quality value (earliest on ties)."""
    c = as_image_collection(collection, "collection")
    if not isinstance(qualityBand, str):
        raise ArgumentTypeError("qualityBand", "String", qualityBand)
    for img in c.images:
        if qualityBand not in img.band_names:
            raise AlgorithmError(f"Band '{qualityBand}' not found in an image of the collection. "
                                 f"Available bands: [{', '.join(img.band_names)}]")
    quality = [next(b for b in img.bands if b.name == qualityBand) for img in c.images]
    pick: list[tuple[Grid, np.ndarray, np.ndarray]] = []

    def winner(g: Grid) -> tuple[np.ndarray, np.ndarray]:
        if pick and pick[0][0] == g:
            return pick[0][1], pick[0][2]
        vals, valid = render_stack(quality, g)
        q = np.where(valid, vals, -np.inf)
        idx = np.argmax(q, axis=0)
        any_valid = valid.any(axis=0)
        pick[:] = [(g, idx, np.asarray(any_valid))]
        return idx, np.asarray(any_valid)

    bands = []
    for name, bs in bands_by_name(c):
        if len(bs) != len(c.images):
            raise AlgorithmError(f"Band '{name}' is missing from some images of the collection.")
        ptype = bs[0].ptype
        for b in bs[1:]:
            ptype = ptype.union(b.ptype)

        def render(g: Grid, bs: list[Band] = bs) -> Rendered:
            idx, any_valid = winner(g)
            vals, valid = render_stack(bs, g)
            take = np.take_along_axis(vals, idx[None], axis=0)[0]
            ok = np.take_along_axis(valid, idx[None], axis=0)[0] & any_valid
            return take, np.asarray(ok)

        bands.append(Band(name, ptype, bs[0].grid, render))
    return Image(bands)


@implements("ImageCollection.toBands")
def collection_to_bands(ctx: Context, collection: Any) -> Image:
    """One image of every image's bands, named '<system:index>_<band>'."""
    c = as_image_collection(collection, "collection")
    bands = []
    for i, img in enumerate(c.images):
        prefix = str(img.properties.get("system:index", i))
        bands += [b.renamed(f"{prefix}_{b.name}") for b in img.bands]
    return Image(bands)


@implements("Image.reduce")
def image_reduce(ctx: Context, image: Any, reducer: Any) -> Image:
    """Per pixel, a reduction across the image's bands; one output band per reducer output."""
    img = as_image(image, "image")
    r = _reducer(reducer, "reducer")
    if not img.bands:
        raise AlgorithmError("Image.reduce: the image has no bands.")
    if r.pixelwise(np.zeros((1, 1, 1))) is None:
        raise AlgorithmError(f"The eerest emulator cannot apply the reducer [{', '.join(r.outputs)}] per pixel.")
    t = img.bands[0].ptype
    for b in img.bands[1:]:
        t = t.union(b.ptype)
    bands = []
    for kind, outputs in r.parts:
        for name in outputs:

            def render(g: Grid, name: str = name) -> Rendered:
                vals, valid = render_stack(img.bands, g)
                any_valid = valid.any(axis=0)
                got = r.pixelwise(np.where(valid, vals, np.nan))
                assert got is not None
                if r.kind == "count":
                    return got[name], np.ones(g.shape, dtype=bool)
                return np.where(any_valid, np.nan_to_num(got[name]), 0), np.asarray(any_valid)

            bands.append(Band(name, reduced_type(kind, t, len(img.bands)), img.bands[0].grid, render))
    return img.with_bands(bands, keep_meta=True)
