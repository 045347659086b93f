"""The argument coercions the algorithm families share: Earth Engine's implicit conversions
(a number is a constant image, a string a date or a projection) and its type errors.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._grid import Grid
from .._image import Band, Image, ImageCollection, Rendered
from .._pixeltype import PixelType
from .._store import parse_time_ms
from .._values import WGS84, Date, Feature, FeatureCollection, Geometry, Projection
from .framework import IMAGE_TYPE, AlgorithmError, ArgumentTypeError

__all__ = [
    "as_collection",
    "as_geodesic",
    "as_geometry",
    "as_image",
    "as_image_collection",
    "as_projection",
    "as_str_list",
    "constant_image",
    "is_feature_collection",
    "is_number",
    "to_ms",
]


def is_number(v: Any) -> bool:
    """An int or a float; not a bool (True is no number to Earth Engine)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def as_image(v: Any, arg: str) -> Image:
    """An Image argument; numbers and lists of numbers become constant images, as in ee."""
    if isinstance(v, Image):
        return v
    if is_number(v) or (isinstance(v, list) and v and all(is_number(x) for x in v)):
        return constant_image(v)
    raise ArgumentTypeError(arg, IMAGE_TYPE, v)


def as_collection(v: Any, arg: str) -> ImageCollection:
    """A collection of images or of features (a FeatureCollection is one kind of it)."""
    if isinstance(v, ImageCollection):
        return v
    raise ArgumentTypeError(arg, "FeatureCollection", v)


def as_image_collection(v: Any, arg: str) -> ImageCollection:
    if isinstance(v, ImageCollection) and not is_feature_collection(v):
        return v
    raise ArgumentTypeError(arg, "ImageCollection", v)


def is_feature_collection(v: Any) -> bool:
    return isinstance(v, FeatureCollection)


def as_str_list(v: Any, arg: str) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return list(v)
    raise ArgumentTypeError(arg, "List<String>", v)


def _full(grid: Grid, value: Any, dtype: Any = None) -> Rendered:
    return np.full(grid.shape, value, dtype=dtype), np.ones(grid.shape, dtype=bool)


def _const_render(g: Grid, value: Any, dtype: np.dtype) -> Rendered:
    return _full(g, value, dtype)


def constant_image(value: Any) -> Image:
    values = value if isinstance(value, list) else [value]
    bands = []
    for i, x in enumerate(values):
        if not is_number(x):
            raise AlgorithmError(f"Invalid constant value {x!r}: expected a number.")
        name = "constant" if not isinstance(value, list) or len(values) == 1 else f"constant_{i}"
        ptype = PixelType.int_range(x, x) if isinstance(x, int) else PixelType("FLOAT")
        dt = np.dtype(np.int64 if isinstance(x, int) else np.float64)
        bands.append(Band(name, ptype, None, functools.partial(_const_render, value=x, dtype=dt)))
    return Image(bands)


def to_ms(v: Any, arg: str) -> int:
    """A Date argument as milliseconds since the epoch: a Date, a number of them, or an ISO date string."""
    if isinstance(v, Date):
        return v.millis
    if is_number(v):
        return int(v)
    if isinstance(v, str):
        try:
            return parse_time_ms(v)
        except ValueError:
            raise AlgorithmError(f"Unable to parse date '{v}'.") from None
    raise ArgumentTypeError(arg, "Date", v)


def as_projection(v: Any, arg: str) -> Projection:
    if isinstance(v, Projection):
        return v
    if isinstance(v, str):
        return Projection.of(v)
    if isinstance(v, dict) and isinstance(v.get("crs"), str):
        return Projection.of(v["crs"], v.get("transform"))
    raise ArgumentTypeError(arg, "Projection", v)


def as_geometry(v: Any, arg: str) -> Geometry:
    if isinstance(v, Geometry):
        return v
    if isinstance(v, Feature) and v.geometry is not None:
        return v.geometry
    if isinstance(v, dict) and "type" in v:
        return Geometry.from_geojson(v)
    raise ArgumentTypeError(arg, "Geometry", v)


def as_geodesic(v: Any, crs: str) -> bool:
    """A `geodesic` argument: as given, or by default whether the geometry's CRS is EPSG:4326."""
    return crs == WGS84 if v is None else bool(v)
