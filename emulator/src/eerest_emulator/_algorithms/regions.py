"""Reductions over regions: reduceRegion, reduceRegions and getRegion.

Each implements the real algorithm of the same name (signature from the catalogue).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._grid import Grid, bounds_in
from .._image import Image
from .._reducers import Reducer
from .._reproject import transform_points
from .._values import WGS84, Feature, FeatureCollection, Geometry, Projection
from .coerce import as_geometry, as_image, as_image_collection
from .framework import AlgorithmError, ArgumentTypeError, Context, implements
from .placement import target_projection, window

__all__: list[str] = []


def region_pixels(img: Image, geometry: Any, scale: Any, crs: Any, crsTransform: Any) -> tuple[Grid, np.ndarray, Projection]:
    """The grid a region reduction computes in (the image's projection unless `crs`,
    `crsTransform` or `scale` say otherwise), and which of its pixels are in the region
    (centres inside `geometry`, or the image's extent)."""
    native = img.native_grid
    default = Projection.of_grid(native) if native is not None else None
    if default is None and crs is None and crsTransform is None and scale is None:
        default = Projection(WGS84)
    proj = target_projection(crs, crsTransform, scale, default)
    if scale is not None and crs is None and default is not None:
        proj = default.at_scale(float(scale))
    geom = as_geometry(geometry, "geometry") if geometry is not None else None
    if geom is not None:
        g = window(proj.grid(), geom.bounds(proj.crs))
        return g, geom.mask(g), proj
    if native is None:
        raise AlgorithmError("Provide a 'geometry' to reduce an unbounded image.")
    g = native if crs is None and crsTransform is None and scale is None else window(proj.grid(), bounds_in(native, proj.crs))
    return g, np.ones(g.shape, dtype=bool), proj


# ---------------------------------------------------------------------------------------
# reduceRegion
# ---------------------------------------------------------------------------------------
@implements("Image.reduceRegion")
def image_reduce_region(ctx: Context, image: Any, reducer: Any, geometry: Any = None, scale: Any = None, crs: Any = None,
                        crsTransform: Any = None, bestEffort: Any = False, maxPixels: Any = 10_000_000,
                        tileScale: Any = 1.0) -> dict[str, Any]:
    img = as_image(image, "image")
    if not isinstance(reducer, Reducer):
        raise ArgumentTypeError("reducer", "Reducer", reducer)
    g, region, _ = region_pixels(img, geometry, scale, crs, crsTransform)
    count = int(region.sum())
    limit = int(maxPixels) if maxPixels is not None else 10_000_000
    if count > limit and not bestEffort:
        raise AlgorithmError(f"Too many pixels in the region. Found {count}, but maxPixels allows only {limit}. "
                             "Ensure that you are not aggregating at a higher resolution than you intended.")
    columns = []
    rendered = [b.render(g) for b in img.bands]
    joint = region
    if reducer.inputs > 1:  # a reducer of several inputs reads the pixels where all of them are valid
        for _, ok in rendered:
            joint = joint & ok
    for x, ok in rendered:
        columns.append(x[ok & joint])
    if reducer.inputs == 1:
        out: dict[str, Any] = {}
        multi = len(reducer.outputs) > 1
        for b, col in zip(img.bands, columns, strict=True):
            res = reducer.reduce([col])
            for name, v in res.items():
                out[f"{b.name}_{name}" if multi else b.name] = v
        return out
    if reducer.inputs != len(columns):
        raise AlgorithmError(f"Need {reducer.inputs} bands for the reducer, got {len(columns)}.")
    return reducer.reduce(columns)


@implements("ImageCollection.getRegion")
def collection_get_region(ctx: Context, collection: Any, geometry: Any, scale: Any = None, crs: Any = None,
                          crsTransform: Any = None) -> list[list[Any]]:
    """Rows [id, longitude, latitude, time, bands...] for each pixel of the region in each image."""
    c = as_image_collection(collection, "collection")
    geom = as_geometry(geometry, "geometry")
    if not c.images:
        return [["id", "longitude", "latitude", "time"]]
    first = c.images[0]
    default = Projection.of_grid(first.native_grid) if first.native_grid is not None else Projection(WGS84)
    proj = target_projection(crs, crsTransform, None, default)
    if scale is not None:
        proj = proj.at_scale(float(scale))
    g = window(proj.grid(), geom.bounds(proj.crs))
    rows, cols = np.nonzero(geom.mask(g))
    x = g.translate_x + g.scale_x * (cols + 0.5) + g.shear_x * (rows + 0.5)
    y = g.translate_y + g.shear_y * (cols + 0.5) + g.scale_y * (rows + 0.5)
    lon, lat = transform_points(x, y, proj.crs, WGS84) if proj.crs != WGS84 else (x, y)
    names = [b.name for b in first.bands]
    out: list[list[Any]] = [["id", "longitude", "latitude", "time", *names]]
    for img in c.images:
        rendered = {b.name: b.render(g) for b in img.bands}
        for k in range(len(rows)):
            r, cc = rows[k], cols[k]
            vals = [rendered[n][0][r, cc].item() if n in rendered and rendered[n][1][r, cc] else None for n in names]
            out.append([img.properties.get("system:index"), float(lon[k]), float(lat[k]),
                        img.properties.get("system:time_start"), *vals])
    return out


@implements("Image.reduceRegions")
def image_reduce_regions(ctx: Context, image: Any, collection: Any, reducer: Any, scale: Any = None, crs: Any = None,
                         crsTransform: Any = None, tileScale: Any = 1.0, maxPixelsPerRegion: Any = None) -> FeatureCollection:
    """Each feature with the reduction of the image over its geometry added as properties (named
    for the reducer's outputs with a 1-band image, e.g. `mean` and `stdDev` of a combined
    reducer, else as reduceRegion names them)."""
    img = as_image(image, "image")
    if not isinstance(collection, FeatureCollection):
        raise ArgumentTypeError("collection", "FeatureCollection", collection)
    out = []
    for f in collection.features:
        if f.geometry is None:
            raise AlgorithmError("A feature of the collection has no geometry.")
        got = image_reduce_region(ctx, img, reducer, f.geometry, scale, crs, crsTransform,
                                  maxPixels=maxPixelsPerRegion or 10_000_000)
        if len(img.bands) == 1 and reducer.inputs == 1:  # named for the reducer's outputs only
            band = img.bands[0].name
            outs = reducer.outputs
            got = {outs[0]: got[band]} if len(outs) == 1 else {o: got[f"{band}_{o}"] for o in outs}
        out.append(Feature(f.geometry, {**f.properties, **got}))
    return collection.derived(out)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------
# Sampling (every pixel: random subsets would not match the service's anyway)
# ---------------------------------------------------------------------------------------
def _pixel_features(img: Image, g: Grid, region: np.ndarray, crs: str, extra: dict[str, Any], geometries: bool,
                    drop_nulls: bool, start: int) -> list[Feature]:
    rows, cols = np.nonzero(region)
    rendered = [(b.name, *b.render(g)) for b in img.bands]
    if geometries:
        x = g.translate_x + g.scale_x * (cols + 0.5) + g.shear_x * (rows + 0.5)
        y = g.translate_y + g.shear_y * (cols + 0.5) + g.scale_y * (rows + 0.5)
        lon, lat = transform_points(x, y, crs, WGS84) if crs != WGS84 else (x, y)
    out: list[Feature] = []
    for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
        values = {n: (v[r, c].item() if ok[r, c] else None) for n, v, ok in rendered}
        if drop_nulls and any(v is None for v in values.values()):
            continue
        geom = Geometry("Point", [float(lon[k]), float(lat[k])]) if geometries else None
        out.append(Feature(geom, {**extra, **values, "system:index": str(start + len(out))}))
    return out


@implements("Image.sample")
def image_sample(ctx: Context, image: Any, region: Any = None, scale: Any = None, projection: Any = None,
                 factor: Any = None, numPixels: Any = None, seed: Any = 0, dropNulls: Any = True,
                 tileScale: Any = 1.0, geometries: Any = False) -> FeatureCollection:
    """Every pixel of the region as a feature of band values (factor and numPixels, which
    sample at random, are not supported)."""
    if factor is not None or numPixels is not None:
        raise AlgorithmError("The eerest emulator samples every pixel only: leave factor and numPixels unset.")
    img = as_image(image, "image")
    g, mask, proj = region_pixels(img, region, scale, projection, None)
    return FeatureCollection(_pixel_features(img, g, mask, proj.crs, {}, bool(geometries), bool(dropNulls), 0))  # type: ignore[arg-type]


@implements("Image.sampleRegions")
def image_sample_regions(ctx: Context, image: Any, collection: Any, properties: Any = None, scale: Any = None,
                         projection: Any = None, tileScale: Any = 1.0, geometries: Any = False) -> FeatureCollection:
    """The pixels of every feature's geometry, with the feature's properties (or those named)."""
    img = as_image(image, "image")
    if not isinstance(collection, FeatureCollection):
        raise ArgumentTypeError("collection", "FeatureCollection", collection)
    out: list[Feature] = []
    for f in collection.features:
        if f.geometry is None:
            raise AlgorithmError("A feature of the collection has no geometry.")
        g, mask, proj = region_pixels(img, f.geometry, scale, projection, None)
        keep = f.properties if properties is None else {k: f.properties.get(k) for k in properties}
        keep = {k: v for k, v in keep.items() if k != "system:index"}
        out += _pixel_features(img, g, mask, proj.crs, keep, bool(geometries), True, len(out))
    return FeatureCollection(out)  # type: ignore[arg-type]


#: The most pixels `sampleRectangle` returns, as on the service.
_SAMPLE_RECTANGLE_MAX = 262_144


@implements("Image.sampleRectangle")
def image_sample_rectangle(ctx: Context, image: Any, region: Any = None, properties: Any = None, defaultValue: Any = None,
                           defaultArrayValue: Any = None) -> Feature:
    """A feature whose properties are the bands as 2-D lists (rows north to south) over the
    pixels of the image's projection that cover the region's bounding box; masked pixels take
    `defaultValue` (without it, a masked pixel is an error)."""
    img = as_image(image, "image")
    g, _, _ = region_pixels(img, region, None, None, None)
    h, w = g.shape
    if h * w > _SAMPLE_RECTANGLE_MAX:
        raise AlgorithmError(f"Image.sampleRectangle: Too many pixels in sample; must be <= {_SAMPLE_RECTANGLE_MAX}. Got {h * w}.")
    out: dict[str, Any] = {}
    for b in img.bands:
        x, ok = b.render(g)
        if not ok.all():
            if defaultValue is None:
                raise AlgorithmError("Image.sampleRectangle: Array band has masked pixels; give defaultValue to fill them.")
            x = np.where(ok, x.astype(object), defaultValue)  # any default, whatever the band type (numpy 2.5 refuses -1 in uint16)
        out[b.name] = x.tolist()
    if properties is not None:
        out.update({k: img.properties[k] for k in properties if k in img.properties})
    geom = as_geometry(region, "region") if region is not None else None
    return Feature(geom, out)
