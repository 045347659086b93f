"""Table assets (FeatureCollections on disk) and collections of features made on demand.

A table asset `projects/P/assets/a/t` is two files in the data directory:

    ROOT/P/a/t.json        its EarthEngineAsset JSON, ``{"type": "TABLE", ...}``
    ROOT/P/a/t.geojson     its features: a GeoJSON FeatureCollection (EPSG:4326); a property
                           written ``{"type": "Date", "value": <ms>}`` is a Date, as
                           ``getInfo()`` writes one

Each feature's ``id`` (else its position) is its ``system:index``. A table is read once and
kept while its file is unchanged.

`LazyFeatures` is a list of features computed when indexed (``FeatureCollection.randomPoints``
of a million points costs nothing until a page of it is asked for).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from ._errors import ApiError, invalid_argument
from ._values import Date, Feature, FeatureCollection, Geometry

__all__ = ["LazyFeatures", "load_table", "table_path"]

_TABLES: dict[Path, tuple[int, FeatureCollection]] = {}
_LOCK = threading.Lock()


def table_path(meta_path: Path) -> Path:
    """The GeoJSON file of the table asset whose metadata is `meta_path`."""
    return meta_path.with_suffix(".geojson")


def load_table(store: Any, name: str) -> FeatureCollection:
    """The features of table asset `name` (a 400 naming the asset if it is none)."""
    rec = store.find(name)
    if rec is None:
        raise invalid_argument(f"Table asset '{_short(name)}' not found (does not exist or caller does not have access).")
    if rec.type != "TABLE":
        raise invalid_argument(f"Asset '{_short(name)}' is not a Table (it is {rec.type}).")
    path = table_path(rec.meta_path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise ApiError(500, f"Table asset '{name}' has no feature file ({path.name}).", "INTERNAL") from None
    with _LOCK:
        got = _TABLES.get(path)
    if got is not None and got[0] == mtime:
        return got[1]
    try:
        fc = _parse(json.loads(path.read_text(encoding="utf-8")), name)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ApiError(500, f"The emulator cannot read the table file {path}: {type(e).__name__}: {e}", "INTERNAL") from None
    with _LOCK:
        _TABLES[path] = (mtime, fc)
    return fc


def _short(name: str) -> str:
    return name.split("/assets/", 1)[-1] if name.startswith("projects/earthengine-") else name


def _parse(doc: Any, name: str) -> FeatureCollection:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ValueError("expected a GeoJSON FeatureCollection")
    out = []
    for i, f in enumerate(doc["features"]):
        geom = f.get("geometry")
        props = {k: _value(v) for k, v in (f.get("properties") or {}).items()}
        props["system:index"] = str(f.get("id", i))
        out.append(Feature(Geometry.from_geojson(geom) if geom else None, props))
    return FeatureCollection(out, {}, {"name": name})  # type: ignore[arg-type]


def _value(v: Any) -> Any:
    if isinstance(v, dict) and v.get("type") == "Date" and isinstance(v.get("value"), (int, float)):
        return Date(int(v["value"]))
    return v


class LazyFeatures(Sequence[Feature]):
    """`n` features, feature `i` made by `make(i)` when asked for; slices are lists."""

    def __init__(self, n: int, make: Callable[[int], Feature]) -> None:
        self._n = n
        self._make = make

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Feature: ...
    @overload
    def __getitem__(self, i: slice) -> list[Feature]: ...

    def __getitem__(self, i: int | slice) -> Feature | list[Feature]:
        if isinstance(i, slice):
            return [self._make(k) for k in range(*i.indices(self._n))]
        k = i + self._n if i < 0 else i
        if not 0 <= k < self._n:
            raise IndexError(i)
        return self._make(k)

    def __iter__(self) -> Iterator[Feature]:
        return (self._make(k) for k in range(self._n))

    def __add__(self, other: Sequence[Feature]) -> list[Feature]:
        return [*self, *other]

    def __radd__(self, other: Sequence[Feature]) -> list[Feature]:
        return [*other, *self]
