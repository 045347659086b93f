"""The core algorithms: loading assets, band selection, arithmetic and masks, collections
(load, filter, map, limit, mosaic, per-pixel reductions), element properties, dates and filters.

These are declared with their signatures here (`algorithm`); implementations are lazy: image
algorithms return `Image`s whose bands render on demand into the requested grid.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .._grid import Grid
from .._image import Band, Image, ImageCollection, Rendered
from .._pixeltype import PixelType
from .._reducers import Reducer, simple
from .._store import normalize_asset_name, parse_time_ms
from .._values import Date, DateRange, Feature, FeatureCollection
from .bands import bands_by_name, pair_bands, proj_extra, reduced_type, render_stack
from .coerce import (
    as_collection,
    as_image,
    as_image_collection,
    as_str_list,
    constant_image,
    is_feature_collection,
    is_number,
    to_ms,
)
from .framework import AlgorithmError, ArgumentTypeError, Context, Filter, algorithm, implements, type_name
from .placement import footprint

__all__: list[str] = []


# ---------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------
@algorithm("Image.load", "Image", "id:String, version:Long?=-1", "Returns the image given its ID.")
def image_load(ctx: Context, id: Any, version: Any = -1) -> Image:
    if not isinstance(id, str):
        raise ArgumentTypeError("id", "String", id)
    name = normalize_asset_name(id)
    rec = ctx.store.find(name)
    if rec is not None and rec.type != "IMAGE":
        hint = " Load it with ImageCollection.load (ee.ImageCollection)." if rec.type == "IMAGE_COLLECTION" else ""
        raise AlgorithmError(f"Asset '{id}' is {_asset_kind(rec.type)}, not an Image.{hint}")
    if rec is None:
        raise AlgorithmError(f"Image asset '{id}' not found (does not exist or caller does not have access).")
    return ctx.store.image(rec)


def _asset_kind(asset_type: str) -> str:
    """How Earth Engine's messages name an asset type: IMAGE_COLLECTION -> "an ImageCollection"."""
    names = {"IMAGE": "an Image", "IMAGE_COLLECTION": "an ImageCollection", "FOLDER": "a Folder", "TABLE": "a Table"}
    return names.get(asset_type, f"a {asset_type}")


@algorithm("Image.constant", "Image", "value:Object", "Generates an image containing a constant value everywhere.")
def image_constant(ctx: Context, value: Any) -> Image:
    return constant_image(value)


@algorithm(
    "Image.select",
    "Image",
    "input:Image, bandSelectors:List<Object>, newNames:List<String>?=null",
    "Selects bands from an image by name, RE2-compatible regex, or index and optionally renames them.",
)
def image_select(ctx: Context, input: Any, bandSelectors: Any, newNames: Any = None) -> Image:
    img = as_image(input, "input")
    selectors = bandSelectors if isinstance(bandSelectors, list) else [bandSelectors]
    chosen: list[Band] = []
    for sel in selectors:
        if is_number(sel):
            i = int(sel)
            if not 0 <= i < len(img.bands):
                raise AlgorithmError(f"Band index out of bounds: {i}. Image has {len(img.bands)} bands.")
            chosen.append(img.bands[i])
        elif isinstance(sel, str):
            try:
                rx = re.compile(sel)
            except re.error:
                rx = None
            hits = [b for b in img.bands if b.name == sel or (rx is not None and rx.fullmatch(b.name))]
            if not hits:
                raise AlgorithmError(
                    f"Pattern '{sel}' did not match any bands. Available bands: [{', '.join(img.band_names)}]"
                )
            chosen.extend(hits)
        else:
            raise ArgumentTypeError("bandSelectors", "List<Object>", bandSelectors)
    if newNames is not None:
        names = as_str_list(newNames, "newNames")
        if len(names) != len(chosen):
            raise AlgorithmError(
                f"Can't rename {len(chosen)} bands to {len(names)} new names: the counts must match."
            )
        chosen = [b.renamed(n) for b, n in zip(chosen, names, strict=False)]
    return img.with_bands(chosen, keep_meta=True)


@algorithm("Image.rename", "Image", "input:Image, names:List<String>", "Rename the bands of an image.")
def image_rename(ctx: Context, input: Any, names: Any) -> Image:
    img = as_image(input, "input")
    new = as_str_list(names, "names")
    if len(new) != len(img.bands):
        raise AlgorithmError(f"Can't rename {len(img.bands)} bands to {len(new)} new names.")
    return img.with_bands([b.renamed(n) for b, n in zip(img.bands, new, strict=False)], keep_meta=True)


def _arith_type(op: str, ta: PixelType, tb: PixelType) -> PixelType:
    if ta.is_int and tb.is_int:
        a0, a1, b0, b1 = ta.min, ta.max, tb.min, tb.max
        if op == "add":
            return PixelType.int_range(a0 + b0, a1 + b1)  # type: ignore[operator]
        if op == "subtract":
            return PixelType.int_range(a0 - b1, a1 - b0)  # type: ignore[operator]
        if op == "multiply":
            p = [a0 * b0, a0 * b1, a1 * b0, a1 * b1]  # type: ignore[operator]
            return PixelType.int_range(min(p), max(p))
        if op == "divide":
            m = max(abs(a0), abs(a1))  # type: ignore[arg-type]
            return PixelType.int_range(-m if a0 < 0 or b0 < 0 else 0, m)  # type: ignore[operator]
        return PixelType.int_range(0, 1)
    if op in ("gt", "gte", "lt", "lte", "eq", "neq"):
        return PixelType.int_range(0, 1)
    return ta.union(tb)


def _compute(op: str, ta: PixelType, tb: PixelType, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ints = ta.is_int and tb.is_int
    if ints:
        x, y = x.astype(np.int64, copy=False), y.astype(np.int64, copy=False)
    else:
        x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        if op == "add":
            return x + y
        if op == "subtract":
            return x - y
        if op == "multiply":
            return x * y
        if op == "divide":
            zero = y == 0
            safe = np.where(zero, 1, y)
            q = (np.trunc(x / safe).astype(np.int64) if ints else x / safe)
            return np.where(zero, 0, q)
        cmp = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal,
               "eq": np.equal, "neq": np.not_equal}[op]
        return cmp(x, y).astype(np.uint8)


def _binary(op: str, image1: Any, image2: Any) -> Image:
    a, b = as_image(image1, "image1"), as_image(image2, "image2")
    bands = []
    for name, ba, bb in pair_bands(op, a, b):
        ptype = _arith_type(op, ba.ptype, bb.ptype)

        def render(g: Grid, ba: Band = ba, bb: Band = bb) -> Rendered:
            (x, vx), (y, vy) = ba.render(g), bb.render(g)
            return _compute(op, ba.ptype, bb.ptype, x, y), vx & vy

        bands.append(Band(name, ptype, ba.grid or bb.grid, render, proj_extra(ba, bb)))
    return a.with_bands(bands)


_BINARY_DOCS = {
    "add": "Adds the first value to the second for each matched pair of bands in image1 and image2.",
    "subtract": "Subtracts the second value from the first for each matched pair of bands in image1 and image2.",
    "multiply": "Multiplies the first value by the second for each matched pair of bands in image1 and image2.",
    "divide": "Divides the first value by the second, returning 0 for division by 0 for each matched pair of bands.",
    "gt": "Returns 1 if and only if the first value is greater than the second.",
    "gte": "Returns 1 if and only if the first value is greater than or equal to the second.",
    "lt": "Returns 1 if and only if the first value is less than the second.",
    "lte": "Returns 1 if and only if the first value is less than or equal to the second.",
    "eq": "Returns 1 if and only if the first value is equal to the second.",
    "neq": "Returns 1 if and only if the first value is not equal to the second.",
}
for _op, _doc in _BINARY_DOCS.items():
    algorithm(f"Image.{_op}", "Image", "image1:Image, image2:Image", _doc)(
        lambda ctx, image1, image2, _op=_op: _binary(_op, image1, image2)
    )


@algorithm(
    "Image.normalizedDifference",
    "Image",
    "input:Image, bandNames:List<String>?=null",
    "Computes the normalized difference between two bands: (first - second) / (first + second). "
    "The output band is 'nd'; a negative value in either input masks the output pixel.",
)
def image_normalized_difference(ctx: Context, input: Any, bandNames: Any = None) -> Image:
    img = as_image(input, "input")
    if bandNames is None:
        if len(img.bands) < 2:
            raise AlgorithmError(f"Need 2 bands, got {len(img.bands)}.")
        b1, b2 = img.bands[0], img.bands[1]
    else:
        names = as_str_list(bandNames, "bandNames")
        if len(names) != 2:
            raise AlgorithmError(f"Need exactly 2 band names, got {len(names)}.")
        by = {b.name: b for b in img.bands}
        for n in names:
            if n not in by:
                raise AlgorithmError(
                    f"Pattern '{n}' did not match any bands. Available bands: [{', '.join(img.band_names)}]"
                )
        b1, b2 = by[names[0]], by[names[1]]

    def render(g: Grid) -> Rendered:
        (x, vx), (y, vy) = b1.render(g), b2.render(g)
        x, y = x.astype(np.float64), y.astype(np.float64)
        s = x + y
        with np.errstate(all="ignore"):
            nd = np.where(s == 0, 0.0, (x - y) / np.where(s == 0, 1.0, s))
        valid = vx & vy & (x >= 0) & (y >= 0) & (s != 0)
        return np.where(valid, nd, 0.0), valid

    return img.with_bands([Band("nd", PixelType("FLOAT"), b1.grid or b2.grid, render, proj_extra(b1, b2))])


def _masked(img: Image, mask: Image, combine: bool) -> Image:
    """Mask each band of `img` by the matching mask band (or the only one); 0 in the mask masks."""
    masks = mask.bands if len(mask.bands) == len(img.bands) else [mask.bands[0]] * len(img.bands)
    bands = []
    for ba, bm in zip(img.bands, masks, strict=False):

        def render(g: Grid, ba: Band = ba, bm: Band = bm) -> Rendered:
            (x, vx), (m, vm) = ba.render(g), bm.render(g)
            keep = vm & (m != 0)
            return x, (vx & keep) if combine else keep

        bands.append(Band(ba.name, ba.ptype, ba.grid, render, dict(ba.extra)))
    return img.with_bands(bands, keep_meta=True)


@algorithm(
    "Image.updateMask",
    "Image",
    "image:Image, mask:Image",
    "Updates an image's mask at all positions where the existing mask is not zero.",
)
def image_update_mask(ctx: Context, image: Any, mask: Any) -> Image:
    img, m = as_image(image, "image"), as_image(mask, "mask")
    if len(m.bands) not in (1, len(img.bands)):
        raise AlgorithmError(f"Mask must have 1 band or as many bands as the image ({len(img.bands)}).")
    return _masked(img, m, combine=True)


@algorithm(
    "Image.mask",
    "Image",
    "image:Image, mask:Image?=null",
    "Gets or sets an image's mask; with a mask, replaces the mask of the image.",
)
def image_mask(ctx: Context, image: Any, mask: Any = None) -> Image:
    img = as_image(image, "image")
    if mask is None:
        def mk(b: Band) -> Band:
            def render(g: Grid) -> Rendered:
                return b.render(g)[1].astype(np.uint8), np.ones(g.shape, dtype=bool)

            return Band(b.name, PixelType.int_range(0, 1), b.grid, render, proj_extra(b))
        return img.with_bands([mk(b) for b in img.bands])
    m = as_image(mask, "mask")
    if len(m.bands) not in (1, len(img.bands)):
        raise AlgorithmError(f"Mask must have 1 band or as many bands as the image ({len(img.bands)}).")
    return _masked(img, m, combine=False)


@algorithm(
    "Image.unmask",
    "Image",
    "input:Image, value:Image?=null, sameFootprint:Boolean?=true",
    "Replaces masked pixels with the given value (default 0).",
)
def image_unmask(ctx: Context, input: Any, value: Any = None, sameFootprint: Any = True) -> Image:
    img = as_image(input, "input")
    fill = as_image(0 if value is None else value, "value")
    keep_footprint = sameFootprint is None or bool(sameFootprint)
    bands = []
    for name, ba, bf in pair_bands("unmask", img, fill):
        def render(g: Grid, ba: Band = ba, bf: Band = bf) -> Rendered:
            (x, vx), (f, vf) = ba.render(g), bf.render(g)
            filled = vf & ba.footprint(g) if keep_footprint else vf  # sameFootprint: not beyond the input's
            return np.where(vx, x, f), vx | filled

        bands.append(Band(name, ba.ptype.union(bf.ptype), ba.grid, render, dict(ba.extra)))
    return img.with_bands(bands, keep_meta=True)


@algorithm(
    "Image.addBands",
    "Image",
    "dstImg:Image, srcImg:Image, names:List<String>?=null, overwrite:Boolean?=false",
    "Returns an image containing all bands copied from the first input and selected bands from the second.",
)
def image_add_bands(ctx: Context, dstImg: Any, srcImg: Any, names: Any = None, overwrite: Any = False) -> Image:
    dst, src = as_image(dstImg, "dstImg"), as_image(srcImg, "srcImg")
    add = src.bands if names is None else [b for b in src.bands if b.name in as_str_list(names, "names")]
    out = list(dst.bands)
    for b in add:
        idx = next((i for i, x in enumerate(out) if x.name == b.name), None)
        if idx is None:
            out.append(b)
        elif overwrite:
            out[idx] = b
        else:
            # As Earth Engine does: a clashing name gets the first free suffix _1, _2, ...
            taken = {x.name for x in out}
            k = 1
            while f"{b.name}_{k}" in taken:
                k += 1
            out.append(b.renamed(f"{b.name}_{k}"))
    return dst.with_bands(out, keep_meta=True)


# ---------------------------------------------------------------------------------------
# Collections
# ---------------------------------------------------------------------------------------
@algorithm("ImageCollection.load", "ImageCollection", "id:String, version:Long?=null", "Returns the image collection given its ID.")
def collection_load(ctx: Context, id: Any, version: Any = None) -> ImageCollection:
    if not isinstance(id, str):
        raise ArgumentTypeError("id", "String", id)
    rec = ctx.store.find(normalize_asset_name(id))
    if rec is not None and rec.type != "IMAGE_COLLECTION":
        hint = " Load it with Image.load (ee.Image)." if rec.type == "IMAGE" else ""
        raise AlgorithmError(f"Asset '{id}' is {_asset_kind(rec.type)}, not an ImageCollection.{hint}")
    if rec is None:
        raise AlgorithmError(
            f"ImageCollection asset '{id}' not found (does not exist or caller does not have access)."
        )
    return ctx.store.collection(rec)


@algorithm("ImageCollection.fromImages", "ImageCollection", "images:List<Image>", "Returns the image collection containing the given images.")
def collection_from_images(ctx: Context, images: Any) -> ImageCollection:
    if not isinstance(images, list):
        raise ArgumentTypeError("images", "List<Image>", images)
    return ImageCollection([as_image(i, "images") for i in images])


@algorithm("Collection.first", "Element", "collection:FeatureCollection", "Returns the first entry from a given collection.")
def collection_first(ctx: Context, collection: Any) -> Image | None:
    c = as_collection(collection, "collection")
    return c.images[0] if c.images else None


@algorithm("Collection.size", "Integer", "collection:FeatureCollection", "Returns the number of elements in the collection.")
def collection_size(ctx: Context, collection: Any) -> int:
    return len(as_collection(collection, "collection").images)


def _prop(img: Image, key: str) -> Any:
    return img.properties.get(key)


def _sort_key(v: Any) -> tuple:
    if v is None:
        return (1, 0)
    if isinstance(v, (int, float)):
        return (0, 0, v)
    return (0, 1, str(v))


@algorithm(
    "Collection.limit",
    "FeatureCollection",
    "collection:FeatureCollection, limit:Integer?=null, key:String?=null, ascending:Boolean?=true",
    "Applies an ordering and limit to a given collection.",
)
def collection_limit(ctx: Context, collection: Any, limit: Any = None, key: Any = None, ascending: Any = True) -> ImageCollection:
    c = as_collection(collection, "collection")
    images = list(c.images)
    if key is not None:
        if not isinstance(key, str):
            raise ArgumentTypeError("key", "String", key)
        images.sort(key=lambda i: _sort_key(_prop(i, key)), reverse=not ascending)
    if limit is not None:
        if not is_number(limit):
            raise ArgumentTypeError("limit", "Integer", limit)
        images = images[: max(int(limit), 0)]
    return c.derived(images)


@algorithm(
    "Collection.filter",
    "FeatureCollection",
    "collection:FeatureCollection, filter:Object",
    "Applies a filter to a given collection.",
)
def collection_filter(ctx: Context, collection: Any, filter: Any) -> ImageCollection:
    c = as_collection(collection, "collection")
    if not isinstance(filter, Filter):
        raise AlgorithmError("The eerest emulator supports only Filter objects (not filter strings).")
    return c.derived([i for i in c.images if filter.test(i)])


@algorithm(
    "Collection.map",
    "FeatureCollection",
    "collection:FeatureCollection, baseAlgorithm:Algorithm, dropNulls:Boolean?=false",
    "Maps an algorithm over a collection.",
)
def collection_map(ctx: Context, collection: Any, baseAlgorithm: Any, dropNulls: Any = False) -> ImageCollection:
    c = as_collection(collection, "collection")
    if not callable(baseAlgorithm):
        raise ArgumentTypeError("baseAlgorithm", "Algorithm", baseAlgorithm)
    kind = Feature if is_feature_collection(c) else Image
    out = []
    for img in c.images:
        r = baseAlgorithm(img)
        if r is None and dropNulls:
            continue
        if not isinstance(r, kind) and not (kind is Image and isinstance(r, Feature)):
            raise AlgorithmError(f"The mapped function must return a {kind.__name__}, got {type_name(r)}.")
        out.append(r)
    if kind is Image and out and all(isinstance(r, Feature) for r in out):
        # an image collection mapped to features (a time series: one feature per image)
        return FeatureCollection(out, dict(c.properties))  # type: ignore[arg-type]
    if kind is Image and any(isinstance(r, Feature) for r in out):
        raise AlgorithmError("The mapped function must return an Image for every image, or a Feature for every one.")
    return c.derived(out)


@algorithm("Element.set", "Element", "object:Element, key:String, value:Object?=null", "Overrides one property of an element.")
def element_set(ctx: Context, object: Any, key: Any, value: Any = None) -> Any:
    if isinstance(object, ImageCollection):
        return type(object)(list(object.images), {**object.properties, str(key): value}, dict(object.meta))
    if isinstance(object, Feature):
        return Feature(object.geometry, {**object.properties, str(key): value})
    img = as_image(object, "object")
    out = Image(list(img.bands), dict(img.properties), dict(img.meta))
    out.properties[str(key)] = value
    return out


@algorithm("Element.get", "Object", "object:Element, property:String", "Extract a property from an element.")
def element_get(ctx: Context, object: Any, property: Any) -> Any:
    if isinstance(object, (ImageCollection, Feature)):
        return object.properties.get(property)
    img = as_image(object, "object")
    if property == "system:footprint" and property not in img.properties:
        fp = footprint(img)  # as Earth Engine reports it: the ring of the footprint polygon
        if fp is not None and fp.type == "Polygon":
            return type(fp)("LinearRing", fp.coordinates[0], fp.crs, fp.geodesic)
        return fp
    return img.properties.get(property)


@algorithm(
    "ImageCollection.mosaic",
    "Image",
    "collection:ImageCollection",
    "Composites all the images in a collection, using the mask; later images are on top.",
)
def collection_mosaic(ctx: Context, collection: Any) -> Image:
    c = as_image_collection(collection, "collection")
    bands = []
    for name, bs in bands_by_name(c):
        ptype = bs[0].ptype
        for b in bs[1:]:
            ptype = ptype.union(b.ptype)

        def render(g: Grid, bs: list[Band] = bs, ptype: PixelType = ptype) -> Rendered:
            out = np.zeros(g.shape, dtype=ptype.dtype)
            ok = np.zeros(g.shape, dtype=bool)
            for b in bs:
                x, v = b.render(g)
                out[v] = x[v]
                ok |= v
            return out, ok

        bands.append(Band(name, ptype, bs[0].grid, render))
    return Image(bands)


_REDUCERS = ("median", "mean", "min", "max", "sum", "count", "mode", "product", "and", "or")


def _reduce(c: ImageCollection, reducer: Reducer, suffix: bool) -> Image:
    """Per-pixel reduction of the images' bands, matched by name; masked pixels are left out."""
    bands = []
    n = len(c.images)
    for name, bs in bands_by_name(c):
        t = bs[0].ptype
        for b in bs[1:]:
            t = t.union(b.ptype)
        for kind, outputs in reducer.parts:
            for out_name in outputs:
                band_name = f"{name}_{out_name}" if suffix else name
                bands.append(Band(band_name, reduced_type(kind, t, n), bs[0].grid, _reduce_renderer(bs, reducer, out_name)))
    return Image(bands)


def _reduce_renderer(bs: list[Band], reducer: Reducer, out_name: str) -> Callable[[Grid], Rendered]:
    def render(g: Grid) -> Rendered:
        vals, valid = render_stack(bs, g)
        any_valid = valid.any(axis=0)
        got = reducer.pixelwise(np.where(valid, vals, np.nan))
        assert got is not None
        r = got[out_name]
        if out_name == "count" or reducer.kind == "count":
            return r, np.ones(g.shape, dtype=bool)
        return np.where(any_valid, np.nan_to_num(r), 0), np.asarray(any_valid)

    return render


for _kind in _REDUCERS:
    algorithm(
        f"reduce.{_kind}",
        "Image",
        "collection:ImageCollection",
        f"Reduces an image collection by calculating the {_kind} of all values at each pixel across the stack "
        "of all matching bands. Bands are matched by name.",
    )(lambda ctx, collection, _kind=_kind: _reduce(as_image_collection(collection, "collection"), simple(_kind), suffix=False))


@algorithm(
    "ImageCollection.reduce",
    "Image",
    "collection:ImageCollection, reducer:Reducer, parallelScale:Float?=1",
    "Applies a reducer across all of the images in a collection; output bands are named '<band>_<reducer>'.",
)
def collection_reduce(ctx: Context, collection: Any, reducer: Any, parallelScale: Any = 1) -> Image:
    c = as_image_collection(collection, "collection")
    if not isinstance(reducer, Reducer):
        raise ArgumentTypeError("reducer", "Reducer", reducer)
    if hasattr(reducer, "pixelwise_pairs"):
        return _reduce_pairs(c, reducer)
    if reducer.pixelwise(np.zeros((1, 1, 1))) is None:
        raise AlgorithmError(f"The eerest emulator cannot apply the reducer [{', '.join(reducer.outputs)}] per pixel.")
    return _reduce(c, reducer, suffix=True)


def _reduce_pairs(c: ImageCollection, reducer: Any) -> Image:
    """A 2-input reducer (linearFit) per pixel: each image's first band is x, its second y;
    output bands are the reducer's outputs."""
    if not c.images or any(len(img.bands) != 2 for img in c.images):
        raise AlgorithmError(f"The reducer [{', '.join(reducer.outputs)}] needs images of 2 bands (x, y).")
    xs, ys = [img.bands[0] for img in c.images], [img.bands[1] for img in c.images]

    def render(g: Grid, name: str) -> Rendered:
        (xv, xok), (yv, yok) = render_stack(xs, g), render_stack(ys, g)
        ok = xok & yok
        got = reducer.pixelwise_pairs(np.where(ok, xv, np.nan), np.where(ok, yv, np.nan))[name]
        valid = ok.sum(axis=0) >= 2
        return np.where(valid & np.isfinite(got), got, 0.0), valid & np.isfinite(got)

    grid = next((b.grid for b in ys + xs if b.grid is not None), None)
    return Image([Band(name, PixelType("DOUBLE"), grid, functools.partial(render, name=name)) for name in reducer.outputs])


# ---------------------------------------------------------------------------------------
# Dates and filters
# ---------------------------------------------------------------------------------------

@algorithm("Date", "Date", "value:Object, timeZone:String?=null", "Creates a Date (milliseconds since the epoch).")
def date(ctx: Context, value: Any, timeZone: Any = None) -> Date:
    return Date(to_ms(value, "value"))


@algorithm(
    "DateRange",
    "DateRange",
    "start:Object, end:Object?=null, timeZone:String?=null",
    "Creates a DateRange with the given start (inclusive) and end (exclusive).",
)
def date_range(ctx: Context, start: Any, end: Any = None, timeZone: Any = None) -> DateRange:
    if isinstance(start, DateRange) and end is None:  # filterDate(ee.DateRange(...)): the range itself
        return start
    s = to_ms(start, "start")
    return DateRange(s, s + 1 if end is None else to_ms(end, "end"))


_FILTER_ARGS = "leftField:String?=null, rightValue:Object?=null, rightField:String?=null, leftValue:Object?=null"


def _binary_filter(name: str, test: Callable[[Any, Any], bool], description: str) -> None:
    def make(ctx: Context, leftField: Any = None, rightValue: Any = None, rightField: Any = None, leftValue: Any = None) -> Filter:
        if (leftField is None) == (leftValue is None) and leftField is None:
            raise AlgorithmError("Either leftField or leftValue must be specified.")

        def pred(img: Image) -> bool:
            left = _plain(_prop(img, leftField) if leftField is not None else leftValue)
            right = _plain(_prop(img, rightField) if rightField is not None else rightValue)
            if left is None or right is None:
                return False
            try:
                return bool(test(left, right))
            except TypeError:
                return False

        return Filter(pred)

    algorithm(name, "Filter", _FILTER_ARGS, description)(make)


def _plain(v: Any) -> Any:
    """Dates compare as milliseconds in filters."""
    return v.millis if isinstance(v, Date) else v


def _contains(rng: Any, value: Any) -> bool:
    if isinstance(rng, DateRange):
        v = value if is_number(value) else parse_time_ms(value)
        return rng.start <= v < rng.end
    raise TypeError


_binary_filter("Filter.equals", lambda a, b: a == b, "A filter that passes if the operands are equal.")
_binary_filter("Filter.notEquals", lambda a, b: a != b, "A filter that passes if the operands are not equal.")
_binary_filter("Filter.lessThan", lambda a, b: a < b, "A filter that passes if the left operand is less than the right.")
_binary_filter("Filter.lessThanOrEquals", lambda a, b: a <= b, "A filter that passes if the left operand is less than or equal to the right.")
_binary_filter("Filter.greaterThan", lambda a, b: a > b, "A filter that passes if the left operand is greater than the right.")
_binary_filter("Filter.greaterThanOrEquals", lambda a, b: a >= b, "A filter that passes if the left operand is greater than or equal to the right.")
_binary_filter("Filter.inList", lambda a, b: a in b, "A filter that passes if the left operand is in the right operand, a list.")
_binary_filter("Filter.listContains", lambda a, b: b in a, "A filter that passes if the left operand, a list, contains the right.")
_binary_filter("Filter.dateRangeContains", _contains, "A filter that passes if the left operand, a date range, contains the right operand, a date.")


def _as_filters(v: Any, arg: str) -> list[Filter]:
    if isinstance(v, list) and all(isinstance(f, Filter) for f in v):
        return v
    raise ArgumentTypeError(arg, "List<Filter>", v)


@algorithm("Filter.and", "Filter", "filters:List<Filter>", "Combines two or more filters using boolean AND.")
def filter_and(ctx: Context, filters: Any) -> Filter:
    fs = _as_filters(filters, "filters")
    return Filter(lambda img: all(f.test(img) for f in fs))


@algorithm("Filter.or", "Filter", "filters:List<Filter>", "Combines two or more filters using boolean OR.")
def filter_or(ctx: Context, filters: Any) -> Filter:
    fs = _as_filters(filters, "filters")
    return Filter(lambda img: any(f.test(img) for f in fs))


@algorithm("Filter.not", "Filter", "filter:Filter", "Returns a filter that passes if the given filter fails.")
def filter_not(ctx: Context, filter: Any) -> Filter:
    if not isinstance(filter, Filter):
        raise ArgumentTypeError("filter", "Filter", filter)
    return Filter(lambda img: not filter.test(img))

_binary_filter("Filter.eq", lambda a, b: a == b, "A filter that passes if the operands are equal.")
_binary_filter("Filter.stringContains", lambda a, b: str(b) in str(a), "A filter that passes if the left string contains the right one.")
_binary_filter("Filter.stringStartsWith", lambda a, b: str(a).startswith(str(b)), "A filter that passes if the left string starts with the right one.")
_binary_filter("Filter.stringEndsWith", lambda a, b: str(a).endswith(str(b)), "A filter that passes if the left string ends with the right one.")


@implements("Filter.notNull")
def filter_not_null(ctx: Context, properties: Any) -> Filter:
    names = as_str_list(properties, "properties")
    return Filter(lambda e: all(_prop(e, n) is not None for n in names))


@implements("Filter.rangeContains")
def filter_range_contains(ctx: Context, field: Any, minValue: Any, maxValue: Any) -> Filter:
    def test(e: Any) -> bool:
        v = _plain(_prop(e, field))
        try:
            return v is not None and _plain(minValue) <= v <= _plain(maxValue)
        except TypeError:
            return False

    return Filter(test)


_CALENDAR_FIELDS = ("year", "month", "hour", "minute", "day_of_year", "day_of_month", "day_of_week")


@implements("Filter.calendarRange")
def filter_calendar_range(ctx: Context, start: Any, end: Any = None, field: Any = "day_of_year") -> Filter:
    """On `system:time_start` in UTC; 1-based months and days, Monday = 1; end < start wraps around."""
    if field not in _CALENDAR_FIELDS:
        raise AlgorithmError(f"Unknown calendar field '{field}'; expected one of {', '.join(_CALENDAR_FIELDS)}.")
    lo = int(start)
    hi = lo if end is None else int(end)

    def value(ms: int) -> int:
        t = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
        return {"year": t.year, "month": t.month, "hour": t.hour, "minute": t.minute,
                "day_of_year": t.timetuple().tm_yday, "day_of_month": t.day, "day_of_week": t.isoweekday()}[field]

    def test(e: Any) -> bool:
        ms = _prop(e, "system:time_start")
        if ms is None:
            return False
        v = value(int(ms))
        return lo <= v <= hi if lo <= hi else (v >= lo or v <= hi)

    return Filter(test)
