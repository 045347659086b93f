"""The non-image values algorithms pass around: dates, date ranges, projections and geometries.

Numbers, strings, lists and dictionaries are plain Python values; these classes are the
Earth Engine types that need an identity of their own (a Date is not a number to `getInfo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import invalid_argument
from ._grid import Grid, same_crs
from ._image import ImageCollection
from ._reproject import check_crs, pyproj_crs, transform_points

__all__ = ["Date", "DateRange", "Feature", "FeatureCollection", "Geometry", "Projection", "WGS84", "in_ring", "nominal_unit"]

WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class Date:
    """A point in time, in milliseconds since the Unix epoch (UTC)."""

    millis: int

    def to_info(self) -> dict[str, Any]:
        return {"type": "Date", "value": self.millis}


@dataclass(frozen=True)
class DateRange:
    """A half-open time interval [start, end) in milliseconds."""

    start: int
    end: int

    def contains(self, ms: int) -> bool:
        return self.start <= ms < self.end

    def to_info(self) -> dict[str, Any]:
        return {"type": "DateRange", "dates": [self.start, self.end]}


@dataclass(frozen=True)
class Projection:
    """A CRS and an affine transform from pixel to CRS coordinates (6 numbers, GDAL order a b c d e f)."""

    crs: str
    transform: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

    @classmethod
    def of(cls, crs: str, transform: Any = None) -> Projection:
        check_crs(crs)
        t = tuple(float(x) for x in transform) if transform is not None else (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
        if len(t) != 6:
            raise invalid_argument(f"A projection transform has 6 numbers, got {len(t)}.")
        return cls(crs, t)

    @classmethod
    def of_grid(cls, g: Grid) -> Projection:
        return cls(g.crs or g.crs_wkt or WGS84, (g.scale_x, g.shear_x, g.translate_x, g.shear_y, g.scale_y, g.translate_y))

    def at_scale(self, scale: float) -> Projection:
        """This CRS with square pixels of `scale` metres (degrees are taken at the equator)."""
        unit = nominal_unit(self.crs)
        s = float(scale) / unit
        return Projection(self.crs, (s, 0.0, self.transform[2], 0.0, -s, self.transform[5]))

    def metres_per_unit(self) -> float:
        """Metres per unit of this projection's CRS."""
        return nominal_unit(self.crs)

    @property
    def nominal_scale(self) -> float:
        """The pixel size in metres (as Earth Engine's `nominalScale`)."""
        return abs(self.transform[0]) * nominal_unit(self.crs)

    def grid(self, width: int | None = None, height: int | None = None) -> Grid:
        a, b, c, d, e, f = self.transform
        return Grid(self.crs, a, b, c, d, e, f, width, height)

    def to_info(self) -> dict[str, Any]:
        return {"type": "Projection", "crs": self.crs, "transform": list(self.transform)}


def nominal_unit(crs: str) -> float:
    """Metres per CRS unit: 1 for projected CRSs, the length of a degree at the equator otherwise."""
    c = pyproj_crs(crs)
    return 111319.49079327357 if c.is_geographic else 1.0


@dataclass(frozen=True)
class Geometry:
    """A GeoJSON geometry (Point, LineString, Polygon, their Multi- forms, LinearRing) in a CRS."""

    type: str
    coordinates: Any
    crs: str = WGS84
    geodesic: bool = True
    geometries: tuple[Geometry, ...] = field(default=())
    #: The affine transform of the projection the geometry was given in or transformed to
    #: (its units: pixels), or None. `coordinates` stay in the CRS's units; `projected`
    #: gives them in the projection's, as `coordinates()` and `getInfo()` answer them.
    units: tuple[float, ...] | None = None

    def projected(self) -> Any:
        """The coordinates in the projection's units (see `units`)."""
        if self.units is None or self.coordinates is None:
            return self.coordinates
        a, b, c, d, e, f = self.units
        det = a * e - b * d

        def walk(v: Any) -> Any:
            if v and isinstance(v[0], (int, float)):
                x, y = float(v[0]) - c, float(v[1]) - f
                return [(e * x - b * y) / det, (-d * x + a * y) / det]
            return [walk(p) for p in v]

        return walk(self.coordinates)

    @classmethod
    def from_geojson(cls, d: Any) -> Geometry:
        if not isinstance(d, dict) or "type" not in d:
            raise invalid_argument(f"Invalid GeoJSON geometry: {str(d)[:200]}")
        crs = WGS84
        if isinstance(d.get("crs"), dict):
            crs = d["crs"].get("properties", {}).get("name", WGS84)
        if d["type"] == "GeometryCollection":
            return cls("GeometryCollection", None, crs, bool(d.get("geodesic", True)),
                       tuple(cls.from_geojson(g) for g in d.get("geometries") or []))
        if "coordinates" not in d:
            raise invalid_argument(f"Invalid GeoJSON geometry of type {d['type']}: no coordinates.")
        return cls(d["type"], d["coordinates"], crs, bool(d.get("geodesic", crs == WGS84)))

    def to_info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.type == "GeometryCollection":
            out["geometries"] = [g.to_info() for g in self.geometries]
        else:
            out["coordinates"] = self.projected()
        if self.crs != WGS84:
            out["crs"] = {"type": "name", "properties": {"name": self.crs}}
        elif not self.geodesic and self.type not in ("Point", "MultiPoint"):
            out["geodesic"] = False
        return out

    def points(self) -> np.ndarray:
        """All vertices, an (N, 2) array in this geometry's CRS."""
        if self.type == "GeometryCollection":
            parts = [g.points() for g in self.geometries]
            return np.concatenate(parts) if parts else np.zeros((0, 2))
        return np.asarray(_flatten(self.coordinates), dtype=np.float64).reshape(-1, 2)

    def bounds(self, crs: str | None = None) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in `crs` (default: this geometry's own CRS)."""
        p = self.points()
        if p.size == 0:
            raise invalid_argument("The geometry is empty.")
        x, y = p[:, 0], p[:, 1]
        if crs is not None and not same_crs(crs, self.crs):
            x, y = transform_points(x, y, self.crs, crs)
        return float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))

    def rings(self) -> list[list[np.ndarray]]:
        """Polygons as lists of rings ((N, 2) arrays), for area geometries; [] otherwise."""
        if self.type == "Polygon":
            return [[np.asarray(r, dtype=np.float64)[:, :2] for r in self.coordinates]]
        if self.type == "MultiPolygon":
            return [[np.asarray(r, dtype=np.float64)[:, :2] for r in poly] for poly in self.coordinates]
        if self.type == "LinearRing":
            return [[np.asarray(self.coordinates, dtype=np.float64)[:, :2]]]
        if self.type == "GeometryCollection":
            return [p for g in self.geometries for p in g.rings()]
        return []

    def mask(self, grid: Grid) -> np.ndarray:
        """Pixels of `grid` (H, W) whose centre lies inside this geometry; for points and lines,
        the pixels that contain a vertex."""
        assert grid.width is not None and grid.height is not None
        h, w = grid.height, grid.width
        polys = self.rings()
        out = np.zeros((h, w), dtype=bool)
        if polys:
            u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
            x = grid.translate_x + grid.scale_x * u + grid.shear_x * v
            y = grid.translate_y + grid.shear_y * u + grid.scale_y * v
            gcrs = grid.crs or grid.crs_wkt
            if gcrs and not same_crs(gcrs, self.crs):
                x, y = transform_points(x, y, gcrs, self.crs)
            for poly in polys:
                inside = in_ring(x, y, poly[0])
                for hole in poly[1:]:
                    inside &= ~in_ring(x, y, hole)
                out |= inside
        if self.type in ("Point", "MultiPoint", "LineString", "MultiLineString"):
            p = self.points()
            gx, gy = p[:, 0], p[:, 1]
            gcrs = grid.crs or grid.crs_wkt
            if gcrs and not same_crs(gcrs, self.crs):
                gx, gy = transform_points(gx, gy, self.crs, gcrs)
            det = grid.scale_x * grid.scale_y - grid.shear_x * grid.shear_y
            dx, dy = gx - grid.translate_x, gy - grid.translate_y
            col = np.floor((grid.scale_y * dx - grid.shear_x * dy) / det).astype(np.int64)
            row = np.floor((-grid.shear_y * dx + grid.scale_x * dy) / det).astype(np.int64)
            ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
            out[row[ok], col[ok]] = True
        return out


def in_ring(x: np.ndarray, y: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd test of points (x, y) against a closed or open ring."""
    inside = np.zeros(x.shape, dtype=bool)
    xs, ys = ring[:, 0], ring[:, 1]
    n = len(ring)
    for i in range(n):
        x1, y1, x2, y2 = xs[i - 1], ys[i - 1], xs[i], ys[i]
        if y1 == y2:
            continue
        crosses = (y1 > y) != (y2 > y)
        xint = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < xint)
    return inside


def _flatten(c: Any) -> list:
    if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
        return [float(c[0]), float(c[1])]
    out: list = []
    for x in c or []:
        out.extend(_flatten(x))
    return out


@dataclass(frozen=True)
class Feature:
    """A geometry (or none) with properties."""

    geometry: Geometry | None
    properties: dict = field(default_factory=dict)

    def to_info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "Feature", "geometry": self.geometry.to_info() if self.geometry else None}
        if "system:index" in self.properties:
            out["id"] = str(self.properties["system:index"])
        props = {k: v for k, v in self.properties.items() if not k.startswith("system:")}
        if props:
            out["properties"] = props
        return out


@dataclass(eq=False)
class FeatureCollection(ImageCollection):
    """Features with collection properties. The features are kept in `images`, the field the
    collection algorithms (size, filter, map, limit, aggregates...) share with image collections."""

    @property
    def features(self) -> list[Feature]:
        return self.images  # type: ignore[return-value]

    def to_info(self) -> dict[str, Any]:
        columns: dict[str, str] = {}
        feats = []
        for i, f in enumerate(self.features):
            for k, v in f.properties.items():
                columns.setdefault(k, _column_type(v))
            info = f.to_info()
            info["id"] = str(f.properties.get("system:index", i))
            info["properties"] = {k: v for k, v in f.properties.items() if not k.startswith("system:")}
            feats.append(info)
        out: dict[str, Any] = {"type": "FeatureCollection", "columns": {**columns, "system:index": "String"},
                               "features": feats}
        if self.properties:
            out["properties"] = self.properties
        return out


def _column_type(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "Object"
    if isinstance(v, (int, float)):
        return "Number" if isinstance(v, float) else "Integer"
    return "String" if isinstance(v, str) else "Object"
