"""Listing: ``projects.listAssets``, ``projects.assets.listAssets`` and ``projects.assets.listImages``.

Children of a folder or project (folders, images, collections) or the images of a
collection, filtered by the subset of Google's AIP-160 filter language that
``earthengine-api`` writes (``startTime >= "..." AND endTime < "..." AND
intersects("{'type': 'Polygon', ...}") AND properties.CLOUD_COVER < 10``), in pages.
The methods' discovery entries are here too, for documents that lack them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "AssetFilter",
    "FilterError",
    "decode_page_token",
    "encode_page_token",
    "intersects",
    "list_images_filter",
    "parse_filter",
    "with_listing_methods",
]


class FilterError(ValueError):
    """A filter the emulator cannot read or does not implement (the message says which)."""


# -- filters --------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>>=|<=|!=|=|<|>|:)
      | (?P<paren>[()])
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<word>[A-Za-z_][\w.-]*)
    )""",
    re.X,
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    ":": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TIME_FIELDS = ("startTime", "endTime", "updateTime")


@dataclass(frozen=True)
class _Comparison:
    field: str
    op: str
    value: Any

    def __call__(self, asset: dict[str, Any]) -> bool:
        if self.field in _TIME_FIELDS:
            have = asset.get(self.field)
            if have is None:
                return False
            return _OPS[self.op](_time_ms(have), _time_ms(self.value))
        if self.field.startswith("properties."):
            have = (asset.get("properties") or {}).get(self.field.removeprefix("properties."))
        else:
            have = asset.get(self.field)
        if have is None:
            return self.op == "!="
        want = self.value
        if isinstance(have, (int, float)) and not isinstance(have, bool):
            try:
                want = float(want)
            except (TypeError, ValueError):
                return self.op == "!="
        elif not isinstance(want, str):
            want = str(want)
            have = str(have)
        try:
            return bool(_OPS[self.op](have, want))
        except TypeError:
            return False


@dataclass(frozen=True)
class _Intersects:
    geometry: dict[str, Any]

    def __call__(self, asset: dict[str, Any]) -> bool:
        footprint = asset.get("geometry")
        return isinstance(footprint, dict) and intersects(self.geometry, footprint)


@dataclass(frozen=True)
class AssetFilter:
    """A conjunction of conditions on an asset's JSON (empty: everything passes)."""

    conditions: tuple[Callable[[dict[str, Any]], bool], ...] = ()

    def __call__(self, asset: dict[str, Any]) -> bool:
        return all(c(asset) for c in self.conditions)

    def __and__(self, other: AssetFilter) -> AssetFilter:
        return AssetFilter(self.conditions + other.conditions)


def parse_filter(text: str) -> AssetFilter:
    """An AIP-160 filter of comparisons and ``intersects(...)`` joined by AND."""
    tokens = _tokenize(text)
    conditions: list[Callable[[dict[str, Any]], bool]] = []
    i = 0
    while i < len(tokens):
        if conditions:
            if tokens[i] != ("word", "AND"):
                word = tokens[i][1]
                if word in ("OR", "NOT", "-"):
                    raise FilterError(f"the emulator implements filters joined by AND only, not {word}")
                raise FilterError(f"expected AND, got {word!r}")
            i += 1
        kind, word = tokens[i] if i < len(tokens) else ("end", "the end of the filter")
        if (kind, word) == ("word", "intersects"):
            if tokens[i + 1 : i + 2] != [("paren", "(")] or tokens[i + 3 : i + 4] != [("paren", ")")]:
                raise FilterError('intersects takes one quoted GeoJSON geometry: intersects("{...}")')
            conditions.append(_Intersects(_geometry(_literal(tokens[i + 2]))))
            i += 4
            continue
        if kind != "word":
            raise FilterError(f"expected a field name, got {word!r}")
        if i + 2 >= len(tokens) or tokens[i + 1][0] != "op":
            raise FilterError(f"expected a comparison and a value after {word!r}")
        op = tokens[i + 1][1]
        if word not in _TIME_FIELDS and not word.startswith("properties.") and word not in ("type", "name", "id"):
            raise FilterError(
                f"the emulator filters on startTime, endTime, updateTime, type, name, id and properties.*, not {word!r}"
            )
        value = _literal(tokens[i + 2])
        if word in _TIME_FIELDS:
            _time_ms(value)  # readable, or a FilterError now
        conditions.append(_Comparison(word, op, value))
        i += 3
    return AssetFilter(tuple(conditions))


def list_images_filter(
    start_time: str | None, end_time: str | None, region: str | None, properties: Sequence[str] = ()
) -> AssetFilter:
    """The filter of listImages' own parameters (what earthengine-api turns into a filter string)."""
    conditions: list[Callable[[dict[str, Any]], bool]] = []
    for t in (start_time, end_time):
        if t:
            _time_ms(t)
    if start_time:
        conditions.append(_Comparison("startTime", ">=", start_time))
    if end_time:
        conditions.append(_Comparison("endTime", "<", end_time))
    if region:
        conditions.append(_Intersects(_geometry(region)))
    out = AssetFilter(tuple(conditions))
    for p in properties:
        name = p.strip()
        out = out & parse_filter(name if name.startswith("properties.") else f"properties.{name}")
    return out


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FilterError(f"cannot read the filter at {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _literal(token: tuple[str, str]) -> Any:
    kind, text = token
    if kind == "string":
        return json.loads(text)
    if kind == "number":
        return float(text)
    if kind == "word":
        return {"true": True, "false": False}.get(text, text)
    raise FilterError(f"expected a value, got {text!r}")


def _geometry(text: Any) -> dict[str, Any]:
    """A GeoJSON geometry from GeoJSON (double or single quotes, as earthengine-api writes it) or WKT."""
    if not isinstance(text, str):
        raise FilterError("region must be a GeoJSON or WKT geometry, as a string")
    if _WKT.match(text):
        return _from_wkt(text)
    try:
        geometry = json.loads(text.replace("'", '"'))
    except ValueError:
        raise FilterError(f"region must be a GeoJSON or WKT geometry, got {text[:40]!r}") from None
    if not isinstance(geometry, dict) or "coordinates" not in geometry or "type" not in geometry:
        raise FilterError("region must be a GeoJSON geometry with type and coordinates")
    return geometry


_WKT_TYPES = {t.upper(): t for t in ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")}
_WKT = re.compile(rf"^\s*({'|'.join(_WKT_TYPES)})\s*(\(.*\))\s*$", re.I | re.S)
_WKT_NUMBER = r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


def _from_wkt(text: str) -> dict[str, Any]:
    """The GeoJSON geometry of 2-D WKT (POINT, LINESTRING, POLYGON and their MULTI forms)."""
    m = _WKT.match(text)
    assert m is not None
    kind = _WKT_TYPES[m.group(1).upper()]
    body = re.sub(rf"({_WKT_NUMBER})\s+({_WKT_NUMBER})", r"[\1, \2]", m.group(2))
    try:
        coords = json.loads(body.replace("(", "[").replace(")", "]"))
    except ValueError:
        raise FilterError(f"cannot read the WKT {text[:40]!r} (2-D coordinates only)") from None
    try:
        if kind == "Point":
            coords = coords[0]
        elif kind == "MultiPoint":  # MULTIPOINT (1 2, 3 4) or MULTIPOINT ((1 2), (3 4))
            coords = [c[0] if c and isinstance(c[0], list) else c for c in coords]
    except (IndexError, TypeError):
        raise FilterError(f"cannot read the WKT {text[:40]!r}") from None
    return {"type": kind, "coordinates": coords}


def _time_ms(value: Any) -> float:
    from ._store import parse_time_ms

    try:
        return parse_time_ms(value)
    except (TypeError, ValueError):
        raise FilterError(f"{value!r} is not an RFC 3339 time") from None


# -- geometry -------------------------------------------------------------------------------
def _parts(geometry: dict[str, Any]) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """(points and lines as coordinate arrays, polygons as lists of rings) of a GeoJSON geometry."""
    kind = geometry.get("type")
    coords: Any = geometry.get("coordinates")
    lines: list[np.ndarray] = []
    polygons: list[list[np.ndarray]] = []
    if kind == "GeometryCollection":
        for g in geometry.get("geometries") or []:
            a, b = _parts(g)
            lines += a
            polygons += b
        return lines, polygons
    try:
        if kind == "Point":
            lines.append(np.asarray([coords], dtype=float)[:, :2])
        elif kind in ("MultiPoint", "LineString"):
            lines.append(np.asarray(coords, dtype=float)[:, :2])
        elif kind == "MultiLineString":
            lines += [np.asarray(c, dtype=float)[:, :2] for c in coords]
        elif kind == "Polygon":
            polygons.append([np.asarray(r, dtype=float)[:, :2] for r in coords])
        elif kind == "MultiPolygon":
            polygons += [[np.asarray(r, dtype=float)[:, :2] for r in p] for p in coords]
        else:
            raise FilterError(f"unsupported geometry type {kind!r}")
    except (TypeError, ValueError, IndexError):
        raise FilterError(f"malformed {kind} coordinates") from None
    return lines, polygons


def _in_polygon(points: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Even-odd rule over all rings (holes included)."""
    inside = np.zeros(len(points), dtype=bool)
    x, y = points[:, 0][:, None], points[:, 1][:, None]
    for ring in rings:
        x0, y0 = ring[:-1, 0], ring[:-1, 1]
        x1, y1 = ring[1:, 0], ring[1:, 1]
        crosses = ((y0 > y) != (y1 > y)) & (x < (x1 - x0) * (y - y0) / np.where(y1 == y0, 1, y1 - y0) + x0)
        inside ^= (crosses.sum(axis=1) % 2).astype(bool)
    return inside


def _segments(lines: Iterable[np.ndarray]) -> np.ndarray:
    segs = [np.stack([c[:-1], c[1:]], axis=1) for c in lines if len(c) > 1]
    singles = [np.stack([c, c], axis=1) for c in lines if len(c) == 1]
    return np.concatenate(segs + singles) if segs or singles else np.zeros((0, 2, 2))


def _segments_cross(a: np.ndarray, b: np.ndarray) -> bool:
    if not len(a) or not len(b):
        return False
    p, r = a[:, None, 0], (a[:, 1] - a[:, 0])[:, None]
    q, s = b[None, :, 0], (b[:, 1] - b[:, 0])[None]

    def cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.asarray(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])

    denom = cross(r, s)
    qp = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = cross(qp, s) / denom
        u = cross(qp, r) / denom
    proper = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    if proper.any():
        return True
    # parallel or degenerate segments: touching if collinear and their boxes overlap
    collinear = (denom == 0) & (cross(qp, r) == 0)
    lo_a, hi_a = np.minimum(a[:, 0], a[:, 1])[:, None], np.maximum(a[:, 0], a[:, 1])[:, None]
    lo_b, hi_b = np.minimum(b[:, 0], b[:, 1])[None], np.maximum(b[:, 0], b[:, 1])[None]
    overlap = np.all((lo_a <= hi_b) & (lo_b <= hi_a), axis=-1)
    return bool((collinear & overlap).any())


def intersects(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two GeoJSON geometries (same planar coordinates) share at least one point."""
    lines_a, polys_a = _parts(a)
    lines_b, polys_b = _parts(b)
    edges_a = _segments(lines_a + [r for p in polys_a for r in p])
    edges_b = _segments(lines_b + [r for p in polys_b for r in p])
    if _segments_cross(edges_a, edges_b):
        return True
    vertices_a = np.concatenate([c for c in lines_a + [r for p in polys_a for r in p]] or [np.zeros((0, 2))])
    vertices_b = np.concatenate([c for c in lines_b + [r for p in polys_b for r in p]] or [np.zeros((0, 2))])
    return any(_in_polygon(vertices_a, rings).any() for rings in polys_b) or any(
        _in_polygon(vertices_b, rings).any() for rings in polys_a
    )


# -- paging ---------------------------------------------------------------------------------
def encode_page_token(offset: int, scope: str) -> str:
    """An opaque token for the page starting at `offset` of the listing `scope` (a hash of the request)."""
    raw = json.dumps({"o": offset, "s": _digest(scope)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, scope: str) -> int | None:
    """The offset of a token made by `encode_page_token` for the same `scope`, else None."""
    try:
        d = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(d["o"])
        ok = d["s"] == _digest(scope) and offset >= 0
    except (ValueError, KeyError, TypeError):
        return None
    return offset if ok else None


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


# -- discovery entries ----------------------------------------------------------------------
_SCOPES = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/cloud-platform.read-only",
    "https://www.googleapis.com/auth/earthengine",
    "https://www.googleapis.com/auth/earthengine.readonly",
]
_VIEW = {
    "description": "Specifies how much detail is returned in the list.",
    "enum": ["EARTH_ENGINE_ASSET_VIEW_UNSPECIFIED", "FULL", "BASIC"],
    "location": "query",
    "type": "string",
}


def _q(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "location": "query", "type": kind, **extra}


def _list_method(
    version: str, mid: str, verb: str, pattern: str, flat: str, response: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": f"earthengine.{mid}",
        "httpMethod": "GET",
        "path": f"{version}/{{+parent}}:{verb}",
        "flatPath": f"{version}/{flat}:{verb}",
        "parameters": {
            "parent": {"location": "path", "required": True, "type": "string", "pattern": pattern},
            "pageSize": _q("integer", "The maximum number of results per page.", format="int32"),
            "pageToken": _q("string", "A token identifying a page of results the server should return."),
            "filter": _q("string", "An additional filter query to apply (https://google.aip.dev/160)."),
            "view": _VIEW,
            **extra,
        },
        "parameterOrder": ["parent"],
        "response": {"$ref": response},
        "scopes": _SCOPES,
    }


def with_listing_methods(doc: dict[str, Any], version: str) -> dict[str, Any]:
    """Add the listing methods and their response messages when `doc` lacks them."""
    projects = doc.setdefault("resources", {}).setdefault("projects", {})
    projects.setdefault("methods", {}).setdefault(
        "listAssets",
        _list_method(version, "projects.listAssets", "listAssets", "^projects/[^/]+$", "projects/{projectsId}", "ListAssetsResponse", {}),
    )
    assets = projects.setdefault("resources", {}).setdefault("assets", {}).setdefault("methods", {})
    flat = "projects/{projectsId}/assets/{assetsId}"
    assets.setdefault(
        "listAssets",
        _list_method(version, "projects.assets.listAssets", "listAssets", "^projects/[^/]+/assets/.*$", flat, "ListAssetsResponse", {}),
    )
    assets.setdefault(
        "listImages",
        _list_method(
            version,
            "projects.assets.listImages",
            "listImages",
            "^projects/[^/]+/assets/.*$",
            flat,
            "ListImagesResponse",
            {
                "startTime": _q("string", "The minimum start time (inclusive).", format="google-datetime"),
                "endTime": _q("string", "The maximum end time (exclusive).", format="google-datetime"),
                "region": _q("string", "A GeoJSON geometry the images must intersect."),
                "properties": _q("string", "Property filters, e.g. 'classification=urban'.", repeated=True),
            },
        ),
    )
    schemas = doc.setdefault("schemas", {})
    for name, field in (("ListAssetsResponse", "assets"), ("ListImagesResponse", "images")):
        schemas.setdefault(
            name,
            {
                "id": name,
                "type": "object",
                "description": f"The response of {name.removesuffix('Response').replace('List', 'list')}.",
                "properties": {
                    field: {"type": "array", "items": {"$ref": "EarthEngineAsset"}},
                    "nextPageToken": {"type": "string", "description": "A token to retrieve the next page of results."},
                },
            },
        )
    return doc
