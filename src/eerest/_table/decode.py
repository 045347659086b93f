"""One page of GeoJSON features into columns: the geometries as a shapely array (decoded by
GEOS in one call per page, never feature by feature) and the properties as an Arrow table,
typed from their values.

Property types: JSON integers stay 64-bit integers, numbers with a fraction (or integers
mixed with them) are doubles, strings strings, booleans booleans, nulls nulls; a property
whose values are Earth Engine Dates (``{"type": "Date", "value": <ms>}``, as the service
writes a Date) is a UTC timestamp in milliseconds; lists of one type stay lists; anything
else (objects, lists of mixed types, a property of mixed types) is its JSON text.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

__all__ = ["Page", "decode_page", "DATE_TYPE"]

DATE_TYPE = pa.timestamp("ms", tz="UTC")


class Page:
    """A decoded page: ``geometry`` (shapely objects, ``None`` for a feature without one)
    and ``properties`` (one row per feature). A page of points only keeps their coordinates,
    ``xy`` (n, 2), and makes shapely points only when ``geometry`` is asked for: GeoParquet
    and Arrow outputs write their WKB straight from the coordinates."""

    def __init__(self, number: int, geometry: np.ndarray[Any, Any] | None, properties: pa.Table,
                 xy: np.ndarray[Any, Any] | None = None) -> None:
        self.number = number
        self.properties = properties
        self.xy = xy
        self._geometry = geometry

    @property
    def geometry(self) -> np.ndarray[Any, Any]:
        if self._geometry is None:
            assert self.xy is not None
            self._geometry = shapely.points(self.xy)
        return self._geometry

    def __len__(self) -> int:
        return len(self.xy) if self.xy is not None else len(self.geometry)


def decode_page(number: int, features: list[dict[str, Any]], columns: list[str] | None = None) -> Page:
    """The columns of a page of GeoJSON features (``columns``: only these properties, in
    this order, missing ones as nulls)."""
    geometry, xy = _geometries([f.get("geometry") for f in features])
    props = [f.get("properties") or {} for f in features]
    if columns is None:
        names: dict[str, None] = {}
        for p in props:
            names.update(dict.fromkeys(p))
        wanted = list(names)
    else:
        wanted = list(columns)
    arrays = [_column([p.get(name) for p in props]) for name in wanted]
    table = pa.Table.from_arrays(arrays, names=wanted) if wanted else pa.table({})
    return Page(number, geometry, table, xy)


def _geometries(geoms: list[Any]) -> tuple[np.ndarray[Any, Any] | None, np.ndarray[Any, Any] | None]:
    """(shapely geometries, None), or (None, coordinates) when every feature is a 2-D point."""
    n = len(geoms)
    try:
        points = n > 0 and {g["type"] for g in geoms} == {"Point"}
    except (TypeError, KeyError):  # a null geometry, or not an object
        points = False
    if points:
        try:
            xy = np.array([g["coordinates"] for g in geoms], dtype=np.float64)
        except (ValueError, TypeError):  # 3-D points mixed with 2-D ones, or not numbers
            xy = None
        if xy is not None and xy.shape == (n, 2):
            return None, xy
    out = np.full(n, None, dtype=object)
    present = [i for i, g in enumerate(geoms) if g is not None]
    if present:
        text = [json.dumps(geoms[i], separators=(",", ":")) for i in present]
        out[present] = shapely.from_geojson(text)
    return out, None


def _column(values: list[Any]) -> pa.Array:
    first = next((v for v in values if v is not None), None)
    if first is None:
        return pa.nulls(len(values))
    if isinstance(first, dict) and first.get("type") == "Date":
        try:
            ms = [None if v is None else (v["value"] if v["type"] == "Date" else _not_a_date()) for v in values]
            return pa.array(ms, type=pa.int64()).view(DATE_TYPE)
        except (TypeError, KeyError, ValueError, pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # not all Dates: JSON text below
    if not isinstance(first, dict):
        try:
            arr = pa.array(values, from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None
        if arr is not None and not pa.types.is_struct(arr.type) and _plain(arr.type):
            return arr
    return pa.array([None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in values], type=pa.string())


def _not_a_date() -> Any:
    raise ValueError("not a Date")


def _plain(t: pa.DataType) -> bool:
    """A type a JSON value maps to cleanly (not a struct, nor a list of them)."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _plain(t.value_type)
    return not (pa.types.is_struct(t) or pa.types.is_map(t))
