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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

__all__ = ["Page", "decode_page", "DATE_TYPE"]

DATE_TYPE = pa.timestamp("ms", tz="UTC")


@dataclass
class Page:
    """A decoded page: ``geometry`` (shapely objects, ``None`` for a feature without one)
    and ``properties`` (one row per feature)."""

    number: int
    geometry: np.ndarray[Any, Any]
    properties: pa.Table

    def __len__(self) -> int:
        return len(self.geometry)


def decode_page(number: int, features: list[dict[str, Any]], columns: list[str] | None = None) -> Page:
    """The columns of a page of GeoJSON features (``columns``: only these properties, in
    this order, missing ones as nulls)."""
    geometry = _geometries([f.get("geometry") for f in features])
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
    return Page(number, geometry, table)


def _geometries(geoms: list[Any]) -> np.ndarray[Any, Any]:
    n = len(geoms)
    if n and all(isinstance(g, dict) and g.get("type") == "Point" for g in geoms):
        xy = np.array([g["coordinates"][:2] for g in geoms], dtype=np.float64)
        if xy.shape == (n, 2):
            return shapely.points(xy)  # type: ignore[no-any-return]
    out = np.full(n, None, dtype=object)
    present = [i for i, g in enumerate(geoms) if g is not None]
    if present:
        text = [json.dumps(geoms[i], separators=(",", ":")) for i in present]
        out[present] = shapely.from_geojson(text)
    return out


def _column(values: list[Any]) -> pa.Array:
    first = next((v for v in values if v is not None), None)
    if first is None:
        return pa.nulls(len(values))
    if isinstance(first, dict) and first.get("type") == "Date" and _all_dates(values):
        return pa.array([None if v is None else v["value"] for v in values], type=pa.int64()).cast(DATE_TYPE)
    if not isinstance(first, dict):
        try:
            arr = pa.array(values, from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None
        if arr is not None and not pa.types.is_struct(arr.type) and _plain(arr.type):
            return arr
    return pa.array([None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in values], type=pa.string())


def _all_dates(values: list[Any]) -> bool:
    return all(v is None or (isinstance(v, dict) and v.get("type") == "Date" and isinstance(v.get("value"), (int, float)))
               for v in values)


def _plain(t: pa.DataType) -> bool:
    """A type a JSON value maps to cleanly (not a struct, nor a list of them)."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _plain(t.value_type)
    return not (pa.types.is_struct(t) or pa.types.is_map(t))
