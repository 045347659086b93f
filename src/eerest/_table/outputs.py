"""Where ``read_table``'s pages go: a GeoDataFrame or an Arrow table (pages kept, joined at
the end), or a GeoParquet 1.1 file (each page a row group as it arrives).

The file is written as ``x.parquet.partial`` and renamed when complete. A page whose
properties do not fit the file's schema so far (a property first seen late, or integers
that turn out to be doubles) starts a new segment ``x.parquet.partial.1``; at the end the
segments are copied, batch by batch, into one file of the schema that fits them all, so
memory stays bounded by a page whatever the pages hold. With ``resume=True`` a failed read
leaves its segments and a record of the next page's token (``x.parquet.partial.json``), and
the same read run again continues from that page.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from eerest._table.decode import DATE_TYPE, Page

__all__ = ["ArrowOutput", "FrameOutput", "ParquetOutput", "open_output", "geo_metadata", "to_frame"]

GEOMETRY = "geometry"
BBOX = "bbox"
_BBOX_TYPE = pa.struct([(k, pa.float64()) for k in ("xmin", "ymin", "xmax", "ymax")])
_GEOARROW_WKB = {b"ARROW:extension:name": b"geoarrow.wkb"}
_TYPE_NAMES = ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
               "GeometryCollection"]


def open_output(out: Any, resume: bool, key: str) -> ArrowOutput | FrameOutput | ParquetOutput:
    from eerest.errors import InvalidRequestError

    if out is None:
        return FrameOutput()
    if isinstance(out, str) and out == "arrow":
        return ArrowOutput()
    if isinstance(out, (str, os.PathLike)):
        path = Path(out)
        if path.suffix.lower() not in (".parquet", ".geoparquet"):
            raise InvalidRequestError(f"out={str(out)!r}: read_table writes GeoParquet (.parquet); "
                                      "for a GeoDataFrame pass out=None, for an Arrow table out='arrow'")
        return ParquetOutput(path, resume, key)
    raise InvalidRequestError(f"out must be None, 'arrow' or a path ending in .parquet, not {type(out).__name__}")


def _crs_json() -> dict[str, Any] | None:
    try:
        import pyproj
    except ImportError:  # omitted, the GeoParquet default, OGC:CRS84, is the same longitude/latitude
        return None
    return pyproj.CRS("EPSG:4326").to_json_dict()


class _Extent:
    """The geometry types and bounding box of what was written so far."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.bbox = [np.inf, np.inf, -np.inf, -np.inf]

    def add(self, page: Page, bounds: np.ndarray[Any, Any]) -> None:
        if page.xy is not None:
            self.types.add("Point")
        else:
            ids = shapely.get_type_id(page.geometry)
            self.types |= {_TYPE_NAMES[i] for i in np.unique(ids) if i >= 0}
        if len(bounds) and not np.isnan(bounds).all():
            lo = np.nanmin(bounds, axis=0)
            hi = np.nanmax(bounds, axis=0)
            self.bbox = [min(self.bbox[0], lo[0]), min(self.bbox[1], lo[1]), max(self.bbox[2], hi[2]), max(self.bbox[3], hi[3])]


def geo_metadata(extent: _Extent, covering: bool) -> dict[str, Any]:
    """The GeoParquet 1.1 ``geo`` metadata of a WKB ``geometry`` column in EPSG:4326."""
    column: dict[str, Any] = {"encoding": "WKB", "geometry_types": sorted(extent.types), "edges": "planar"}
    crs = _crs_json()
    if crs is not None:
        column["crs"] = crs
    if np.isfinite(extent.bbox).all():
        column["bbox"] = [float(v) for v in extent.bbox]
    if covering:
        column["covering"] = {BBOX: {k: [BBOX, k] for k in ("xmin", "ymin", "xmax", "ymax")}}
    return {"version": "1.1.0", "primary_column": GEOMETRY, "columns": {GEOMETRY: column}}


_POINT_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _wkb_columns(page: Page, bbox: bool) -> tuple[list[pa.Array], list[pa.Field], np.ndarray[Any, Any]]:
    if page.xy is not None:  # points: WKB and bounds straight from the coordinates
        n = len(page.xy)
        rec = np.empty(n, dtype=_POINT_WKB)
        rec["order"], rec["type"], rec["x"], rec["y"] = 1, 1, page.xy[:, 0], page.xy[:, 1]
        offsets = np.arange(0, (n + 1) * _POINT_WKB.itemsize, _POINT_WKB.itemsize, dtype=np.int32)
        geom = pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rec.tobytes())])
        bounds = np.column_stack([page.xy, page.xy])
        missing = np.zeros(n, dtype=bool)
    else:
        wkb = shapely.to_wkb(page.geometry, flavor="iso")
        missing = shapely.is_missing(page.geometry)
        geom = pa.array(wkb, type=pa.binary(), mask=missing)
        bounds = shapely.bounds(page.geometry)
    arrays = [geom]
    fields = [pa.field(GEOMETRY, pa.binary()) if bbox else pa.field(GEOMETRY, pa.binary(), metadata=_GEOARROW_WKB)]
    if bbox:
        arrays.append(pa.StructArray.from_arrays([pa.array(bounds[:, k]) for k in range(4)],
                                                 fields=list(_BBOX_TYPE), mask=pa.array(missing) if missing.any() else None))
        fields.append(pa.field(BBOX, _BBOX_TYPE))
    return arrays, fields, bounds


def _page_table(page: Page, bbox: bool, extent: _Extent) -> pa.Table:
    """The page as one Arrow table: its properties, then ``geometry`` (WKB) and ``bbox``."""
    arrays, fields, bounds = _wkb_columns(page, bbox)
    extent.add(page, bounds)
    props = page.properties
    names = [n for n in props.column_names if n not in (GEOMETRY, BBOX)]
    return pa.Table.from_arrays([props.column(n) for n in names] + arrays,
                                schema=pa.schema([props.schema.field(n) for n in names] + fields))


# -- schemas that fit every page -------------------------------------------------------------
def unify(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema every page's table converts to: fields in order of first appearance; nulls
    take the other pages' type, integers and doubles meet as doubles, anything else that
    differs becomes (JSON) text."""
    types: dict[str, list[pa.DataType]] = {}
    meta: dict[str, pa.Field] = {}
    for s in schemas:
        for f in s:
            types.setdefault(f.name, []).append(f.type)
            meta.setdefault(f.name, f)
    out = []
    for name, ts in types.items():
        known = {t for t in ts if not pa.types.is_null(t)}
        if not known:
            t: pa.DataType = pa.null()
        elif len(known) == 1:
            t = known.pop()
        elif all(pa.types.is_integer(k) or pa.types.is_floating(k) for k in known):
            t = pa.float64()
        else:
            t = pa.string()
        out.append(meta[name].with_type(t))
    return pa.schema(out)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order and types (missing ones null)."""
    arrays = []
    for f in schema:
        if f.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table.column(f.name)
        if col.type != f.type:
            col = _cast(col, f.type)
        arrays.append(col)
    return pa.Table.from_arrays(arrays, schema=schema)


def _cast(col: pa.ChunkedArray, t: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_string(t) and not pa.types.is_string(col.type):
        if col.type == DATE_TYPE:
            values = [None if v is None else json.dumps({"type": "Date", "value": v}) for v in col.cast(pa.int64()).to_pylist()]
        else:
            values = [None if v is None else json.dumps(v) for v in col.to_pylist()]
        return pa.chunked_array([pa.array(values, type=pa.string())])
    return col.cast(t)


# -- outputs ---------------------------------------------------------------------------------
class _Kept:
    """Pages kept in memory, joined at the end."""

    bbox = False

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.extent = _Extent()
        self.rows = 0

    def resume_from(self) -> tuple[str | None, int]:
        return None, 0

    def write(self, page: Page, next_token: str | None) -> None:
        self.tables.append(_page_table(page, self.bbox, self.extent))
        self.rows += len(page)

    def table(self) -> pa.Table:
        if not self.tables:
            return pa.table({GEOMETRY: pa.array([], pa.binary())}, schema=pa.schema([pa.field(GEOMETRY, pa.binary(), metadata=_GEOARROW_WKB)]))
        schema = unify([t.schema for t in self.tables])
        table = pa.concat_tables([conform(t, schema) for t in self.tables])
        self.tables = []
        return table

    def abort(self, keep: bool) -> None:
        self.tables = []


class ArrowOutput(_Kept):
    def finish(self) -> pa.Table:
        table = self.table()
        field = table.schema.field(GEOMETRY)
        meta = dict(_GEOARROW_WKB)
        crs = _crs_json()
        if crs is not None:
            meta[b"ARROW:extension:metadata"] = json.dumps({"crs": crs}).encode()
        table = table.set_column(table.schema.get_field_index(GEOMETRY), field.with_metadata(meta), table.column(GEOMETRY))
        geo = json.dumps(geo_metadata(self.extent, covering=False)).encode()
        return table.replace_schema_metadata({b"geo": geo})


class FrameOutput(_Kept):
    def __init__(self) -> None:
        super().__init__()
        self.geometry: list[np.ndarray[Any, Any]] = []

    def write(self, page: Page, next_token: str | None) -> None:
        self.tables.append(page.properties)
        self.geometry.append(page.geometry)
        self.rows += len(page)

    def finish(self) -> Any:
        if not self.tables:
            props = pa.table({})
        else:
            schema = unify([t.schema for t in self.tables])
            props = pa.concat_tables([conform(t, schema) for t in self.tables])
        geometry = np.concatenate(self.geometry) if self.geometry else np.array([], dtype=object)
        self.tables, self.geometry = [], []
        return to_frame(props, geometry)


def to_frame(props: pa.Table, geometry: np.ndarray[Any, Any]) -> Any:
    """A GeoDataFrame (EPSG:4326) of ``geometry`` and the properties: integers as integers
    (pandas' nullable ``Int64`` where some are null), booleans likewise, dates as UTC datetimes."""
    import geopandas
    import pandas as pd

    columns: dict[str, Any] = {}
    for name in props.column_names:
        col = props.column(name)
        t = col.type
        if (pa.types.is_integer(t) or pa.types.is_boolean(t)) and col.null_count:
            columns[name] = pd.array(col.to_pylist(), dtype="Int64" if pa.types.is_integer(t) else "boolean")
        elif pa.types.is_null(t):
            columns[name] = pd.Series([None] * len(col), dtype=object)
        else:
            columns[name] = col.to_pandas()
    index = pd.RangeIndex(len(geometry))
    frame = pd.DataFrame({k: (v.set_axis(index) if isinstance(v, pd.Series) else v) for k, v in columns.items()},
                         index=index)
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries(geometry, crs="EPSG:4326"), crs="EPSG:4326")


class ParquetOutput:
    """A GeoParquet 1.1 file, each page a row group as it arrives (see the module's docstring)."""

    def __init__(self, path: Path, resume: bool, key: str) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.record = path.with_name(path.name + ".partial.json")
        self.key = key
        self.extent = _Extent()
        self.rows = 0
        self.pages = 0
        self.segments: list[pa.Schema] = []  # the schema of each segment file
        self.writer: pq.ParquetWriter | None = None
        self.token: str | None = None
        if resume and self.record.exists():
            self._load_record()
        else:
            self._clear()
        path.parent.mkdir(parents=True, exist_ok=True)

    def _segment(self, k: int) -> Path:
        return self.partial if k == 0 else self.partial.with_name(f"{self.partial.name}.{k}")

    def _clear(self) -> None:
        for p in self.partial.parent.glob(self.partial.name + "*"):
            p.unlink()

    def _load_record(self) -> None:
        try:
            rec = json.loads(self.record.read_text())
            ok = rec.get("key") == self.key and all(self._segment(k).exists() for k in range(rec["segments"]))
        except (ValueError, KeyError, OSError):
            ok = False
        if not ok:  # another read's leftovers, or incomplete: start over
            self._clear()
            return
        self.token, self.pages, self.rows = rec["token"], rec["pages"], rec["rows"]
        self.segments = [pq.read_schema(self._segment(k)) for k in range(rec["segments"])]
        self.extent.types = set(rec["types"])
        self.extent.bbox = [float(v) if v is not None else b for v, b in zip(rec["bbox"], self.extent.bbox, strict=True)]

    def resume_from(self) -> tuple[str | None, int]:
        """(page token, page number) to start from: (None, 0) unless resuming."""
        return self.token, self.pages

    def write(self, page: Page, next_token: str | None) -> None:
        table = _page_table(page, True, self.extent)
        if self.writer is None or not _fits(table.schema, self.writer.schema):
            self._close_writer()
            schema = unify([*self.segments[-1:], table.schema]) if self.segments else table.schema
            self.segments.append(schema)
            self.writer = _writer(self._segment(len(self.segments) - 1), schema)
        table = conform(table, self.writer.schema)
        self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += len(page)
        self.pages += 1
        self.token = next_token

    def _close_writer(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def finish(self) -> str:
        if not self.segments:  # no features at all: an empty file of geometry and bbox
            t = _page_table(Page(0, np.array([], dtype=object), pa.table({})), True, self.extent)
            pq.write_table(t, self.partial)
            self.segments = [t.schema]
        geo = json.dumps(geo_metadata(self.extent, covering=True)).encode()
        if len(self.segments) == 1 and self.writer is not None:  # one schema throughout: no copy
            self.writer.add_key_value_metadata({"geo": geo.decode()})
            self._close_writer()
            os.replace(self.partial, self.path)
            return self._done()
        self._close_writer()
        final = unify(self.segments)
        out = self.partial.with_name(self.partial.name + ".merged")
        with _writer(out, final) as writer:
            for k in range(len(self.segments)):
                source = pq.ParquetFile(self._segment(k))
                for g in range(source.num_row_groups):
                    writer.write_table(conform(source.read_row_group(g), final), row_group_size=1 << 30)
            writer.add_key_value_metadata({"geo": geo.decode()})
        os.replace(out, self.path)
        return self._done()

    def _done(self) -> str:
        self._clear()
        with contextlib.suppress(FileNotFoundError):
            self.record.unlink()
        return str(self.path)

    def abort(self, keep: bool) -> None:
        """After a failure: the segments and the record of where to go on (``keep``), or nothing."""
        self._close_writer()
        if keep and self.segments:
            rec = {"key": self.key, "token": self.token, "pages": self.pages, "rows": self.rows,
                   "segments": len(self.segments), "types": sorted(self.extent.types),
                   "bbox": [v if np.isfinite(v) else None for v in self.extent.bbox]}
            if self.token is None and self.pages:  # the last page was written: nothing to go on from
                rec["token"] = None
            self.record.write_text(json.dumps(rec))
        else:
            self._clear()


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A Parquet writer without the serialized Arrow schema: readers then take the schema's
    metadata (GeoParquet's ``geo``, added when the file is finished) from the file's footer."""
    return pq.ParquetWriter(path, schema, compression="zstd", store_schema=False)


def _fits(schema: pa.Schema, target: pa.Schema) -> bool:
    """Whether a page of ``schema`` converts to ``target`` without losing anything."""
    names = set(target.names)
    for f in schema:
        if f.name not in names:
            return False
        t = target.field(f.name).type
        if f.type != t and not pa.types.is_null(f.type):
            return False
    return True
