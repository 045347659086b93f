"""The feature methods: ``projects.table.computeFeatures`` (the features of any
FeatureCollection expression) and ``projects.assets.listFeatures`` (the features of a table
asset, filtered by ``region`` and ``filter``), each in pages of ``pageSize`` (default 1,000;
the emulator answers at most `MAX_PAGE_SIZE` a page, as "the server may return fewer
features than requested") with an opaque ``nextPageToken`` bound to the request.

Features are GeoJSON (RFC 7946), as the methods' ``Feature`` message says: ``type``,
``geometry`` (EPSG:4326, the ``crs``/``geodesic`` members dropped) and ``properties``
(``system:`` properties left out; Dates as ``{"type": "Date", "value": <ms>}``, as
``getInfo()`` writes them).

Mixed into `ApiRoutes` (`_api_routes.py`), which adds `ROUTES` and `METHOD_IDS` to its tables.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._algorithms import Context
from ._algorithms.placement import transform_geometry
from ._discovery import VERSIONS
from ._errors import invalid_argument
from ._expression import evaluate
from ._http import Request, Response
from ._info import to_info
from ._listing import FilterError, decode_page_token, encode_page_token, parse_filter
from ._messages import build_message, parse_query, parse_request
from ._tables import load_table
from ._values import WGS84, Feature, FeatureCollection, Geometry

__all__ = ["MAX_PAGE_SIZE", "METHOD_IDS", "ROUTES", "FeaturesApi", "feature_json"]

_V = "(" + "|".join(VERSIONS) + ")"
#: (HTTP method, path regex, handler): listFeatures before the catch-all assets.get route.
ROUTES = [
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/table:computeFeatures$"), "compute_features"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/assets/.+):listFeatures$"), "list_features"),
]
METHOD_IDS = {"compute_features": "projects.table.computeFeatures", "list_features": "projects.assets.listFeatures"}
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000


class FeaturesApi:
    """computeFeatures and listFeatures; mixed into `ApiRoutes` (``self.store`` is the asset store)."""

    store: Any

    def compute_features(self, req: Request, version: str, project: str) -> Response:
        body = parse_request(version, "ComputeFeaturesRequest", req.body)
        if "expression" not in body:
            raise invalid_argument("Request is missing required field 'expression'.")
        scope = json.dumps(["computeFeatures", body["expression"]], sort_keys=True)
        offset, size = _page(body.get("pageSize"), body.get("pageToken"), scope)
        value = evaluate(body["expression"], Context(self.store))
        if isinstance(value, Feature):
            value = FeatureCollection([value])  # type: ignore[list-item]
        if not isinstance(value, FeatureCollection):
            got = "null" if value is None else type(value).__name__
            raise invalid_argument(f"ComputeFeatures: the expression must evaluate to a FeatureCollection, got {got}.")
        return _answer(version, "ComputeFeaturesResponse", value.features, offset, size, scope)

    def list_features(self, req: Request, version: str, asset: str) -> Response:
        query = parse_query(version, "projects.assets.listFeatures", req.query)
        scope = json.dumps(["listFeatures", asset, {k: v for k, v in query.items() if k not in ("pageToken", "pageSize")}])
        offset, size = _page(query.get("pageSize"), query.get("pageToken"), scope)
        features: Any = load_table(self.store, asset).features
        keep = _feature_filter(query.get("filter") or "", query.get("region"))
        if keep is not None:
            features = [f for f in features if keep(f)]
        return _answer(version, "ListFeaturesResponse", features, offset, size, scope)


def _page(page_size: Any, token: Any, scope: str) -> tuple[int, int]:
    """(offset, size) of the page a request asks for."""
    size = DEFAULT_PAGE_SIZE if page_size in (None, 0) else int(page_size)
    if size < 0:
        raise invalid_argument("page_size must not be negative.")
    offset = 0
    if token:
        got = decode_page_token(token, scope)
        if got is None:
            raise invalid_argument("Invalid page token.")
        offset = got
    return offset, min(size, MAX_PAGE_SIZE)


def _answer(version: str, schema: str, features: Any, offset: int, size: int, scope: str) -> Response:
    page = [feature_json(f) for f in features[offset : offset + size]]
    out: dict[str, Any] = {"type": "FeatureCollection", "features": page}
    if offset + size < len(features):
        out["nextPageToken"] = encode_page_token(offset + size, scope)
    message = build_message(version, schema, out)
    return Response(200, json.dumps(message, separators=(",", ":"), allow_nan=False).encode())


def feature_json(f: Feature) -> dict[str, Any]:
    """A feature as GeoJSON: geometry in EPSG:4326, properties without ``system:`` ones."""
    props = {k: to_info(v) for k, v in f.properties.items() if not k.startswith("system:")}
    return {"type": "Feature", "geometry": _geometry_json(f.geometry) if f.geometry is not None else None,
            "properties": props}


def _geometry_json(g: Geometry) -> dict[str, Any]:
    if g.type == "GeometryCollection":
        return {"type": g.type, "geometries": [_geometry_json(p) for p in g.geometries]}
    if g.crs != WGS84:
        g = transform_geometry(g, WGS84)
    return {"type": g.type, "coordinates": g.coordinates}


def _feature_filter(text: str, region: str | None) -> Any:
    """listFeatures' ``filter`` (comparisons of properties, ``name`` or ``properties.name``,
    and ``intersects(...)``, joined by AND) and ``region`` (a GeoJSON geometry string), as
    a test of a feature; None when there are neither."""
    if not text.strip() and not region:
        return None
    try:
        keep = parse_filter(_properties_prefixed(text))
        if region:
            area = json.loads(region)
            if not isinstance(area, dict) or "type" not in area:
                raise FilterError("region must be a GeoJSON geometry")
            keep = keep & parse_filter(f"intersects({json.dumps(json.dumps(area))})")
    except (FilterError, ValueError) as e:
        raise invalid_argument(f"Invalid filter: {e}.") from None

    def test(f: Feature) -> bool:
        geom = _geometry_json(f.geometry) if f.geometry is not None else None
        return bool(keep({"properties": {k: to_info(v) for k, v in f.properties.items()}, "geometry": geom}))

    return test


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.:-]*(?=\s*(?:>=|<=|!=|=|<|>))')


def _properties_prefixed(text: str) -> str:
    """``population > 5`` -> ``properties.population > 5`` (strings left as they are)."""

    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.startswith('"') or word.startswith("properties."):
            return word
        return f"properties.{word}"

    return _TOKEN.sub(sub, text)
