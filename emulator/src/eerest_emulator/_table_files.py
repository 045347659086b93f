"""Feature collections as files: CSV, GeoJSON and KML, as table exports write them and
table downloads (``getDownloadURL`` of a FeatureCollection) return them."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ._info import to_info
from ._values import FeatureCollection

__all__ = ["TABLE_CONTENT_TYPES", "TABLE_SUFFIX", "encode_table", "feature_rows"]

TABLE_SUFFIX = {"CSV": ".csv", "GEO_JSON": ".geojson", "KML": ".kml"}
TABLE_CONTENT_TYPES = {"CSV": "text/csv", "GEO_JSON": "application/geo+json",
                       "KML": "application/vnd.google-earth.kml+xml"}


def encode_table(fc: FeatureCollection, fmt: str, selectors: list[str] | None) -> bytes:
    """The collection in one of `TABLE_SUFFIX`'s formats, `selectors` choosing the columns."""
    columns, feats = feature_rows(fc, selectors)
    if fmt == "CSV":
        return _csv(columns, feats, selectors)
    if fmt == "GEO_JSON":
        return _geojson(columns, feats)
    return _kml(columns, feats)


def feature_rows(fc: FeatureCollection, selectors: list[str] | None) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, features as {"id", "properties", "geometry"} dicts)."""
    feats = []
    columns: list[str] = []
    for i, f in enumerate(fc.features):
        # Values as getInfo gives them: a Date is {"type": "Date", "value": ms}, never its repr.
        props = {k: to_info(v) for k, v in f.properties.items() if not k.startswith("system:")}
        for k in props:
            if k not in columns:
                columns.append(k)
        feats.append({"id": str(f.properties.get("system:index", i)), "properties": props,
                      "geometry": f.geometry.to_info() if f.geometry is not None else None})
    if selectors:
        columns = [c for c in selectors if c not in ("system:index", ".geo")]
    return columns, feats


def _csv(columns: list[str], feats: list[dict[str, Any]], selectors: list[str] | None) -> bytes:
    head = list(selectors) if selectors else ["system:index", *columns, ".geo"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    for f in feats:
        row = []
        for c in head:
            if c == "system:index":
                row.append(f["id"])
            elif c == ".geo":
                row.append(json.dumps(f["geometry"], separators=(",", ":")) if f["geometry"] else "")
            else:
                v = f["properties"].get(c)
                row.append("" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else v)
        w.writerow(row)
    return buf.getvalue().encode()


def _geojson(columns: list[str], feats: list[dict[str, Any]]) -> bytes:
    out = {"type": "FeatureCollection", "columns": {c: "" for c in columns},
           "features": [{"type": "Feature", "id": f["id"], "geometry": f["geometry"],
                         "properties": {c: f["properties"].get(c) for c in columns}} for f in feats]}
    return json.dumps(out).encode()


def _kml(columns: list[str], feats: list[dict[str, Any]]) -> bytes:
    from xml.sax.saxutils import escape

    def coords(c: Any) -> str:
        return " ".join(f"{x},{y}" for x, y, *_ in c)

    def geom(g: dict[str, Any] | None) -> str:
        if not g:
            return ""
        t, c = g["type"], g.get("coordinates") or []
        if t == "Point":
            return f"<Point><coordinates>{c[0]},{c[1]}</coordinates></Point>"
        if t == "LineString":
            return f"<LineString><coordinates>{coords(c)}</coordinates></LineString>"
        if t == "Polygon":
            rings = [f"<outerBoundaryIs><LinearRing><coordinates>{coords(c[0])}</coordinates></LinearRing></outerBoundaryIs>"]
            rings += [f"<innerBoundaryIs><LinearRing><coordinates>{coords(r)}</coordinates></LinearRing></innerBoundaryIs>" for r in c[1:]]
            return f"<Polygon>{''.join(rings)}</Polygon>"
        parts = [{"type": t.removeprefix("Multi"), "coordinates": p} for p in c or []] if t.startswith("Multi") else [
            dict(p) for p in g.get("geometries") or []]
        return f"<MultiGeometry>{''.join(geom(p) for p in parts)}</MultiGeometry>"

    marks = []
    for f in feats:
        data = "".join(f'<Data name="{escape(c)}"><value>{escape(str(f["properties"].get(c, "")))}</value></Data>' for c in columns)
        marks.append(f"<Placemark id=\"{escape(f['id'])}\"><ExtendedData>{data}</ExtendedData>{geom(f['geometry'])}</Placemark>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            + "".join(marks) + "</Document></kml>\n").encode()
