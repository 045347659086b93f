"""Geometries, projections and features: constructors, operations, footprints and spatial filters.

Geometry tests are on pixel centres (as Earth Engine rasterises regions); geodesic edges
are treated as straight lines in their CRS, which differs from Earth Engine only for long
edges. Each implements the real algorithm of the same name (signature from the catalogue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._grid import same_crs
from .._reproject import pyproj_crs, transform_points
from .._values import WGS84, Feature, FeatureCollection, Geometry, Projection, in_ring
from .coerce import as_geodesic, as_geometry, as_image, as_projection, is_number
from .framework import AlgorithmError, ArgumentTypeError, Context, Filter, implements
from .placement import IDENTITY, band_projection, footprint, from_projection, to_projection, transform_geometry

__all__: list[str] = []


# ---------------------------------------------------------------------------------------
# Constructors
# ---------------------------------------------------------------------------------------
def _crs_of(crs: Any) -> str:
    return WGS84 if crs is None else as_projection(crs, "crs").crs


def _placed(coords: Any, crs: Any, geodesic: Any = None) -> tuple[Any, str, bool, tuple[float, ...] | None]:
    """Coordinates given in the projection `crs` (None: EPSG:4326) as (coordinates in its CRS,
    the CRS, geodesic, the projection's transform or None): the arguments of `Geometry`. A
    projection with an affine transform (`image.projection()`) gives coordinates in its pixels:
    they are carried through the transform (kept as the geometry's units), and edges are planar."""
    p = Projection(WGS84) if crs is None else as_projection(crs, "crs")
    if tuple(p.transform) != IDENTITY:
        if geodesic:
            raise AlgorithmError("A geodesic geometry cannot be in a projection with an affine transform.")
        return from_projection(coords, p.transform), p.crs, False, tuple(p.transform)
    return coords, p.crs, as_geodesic(geodesic, p.crs), None


def _geometry(kind: str, placed: tuple[Any, str, bool, tuple[float, ...] | None]) -> Geometry:
    coords, crs, geodesic, units = placed
    return Geometry(kind, coords, crs, geodesic, units=units)


def _coords(v: Any, arg: str) -> Any:
    if not isinstance(v, list):
        raise ArgumentTypeError(arg, "List<Object>", v)
    return v


def _ring(points: list) -> list:
    return points if points and points[0] == points[-1] else [*points, points[0]]


@implements("GeometryConstructors.Point")
def geometry_point(ctx: Context, coordinates: Any, crs: Any = None) -> Geometry:
    c = _coords(coordinates, "coordinates")
    if len(c) != 2 or not all(is_number(x) for x in c):
        raise AlgorithmError(f"Invalid point coordinates {c!r}: expected [x, y].")
    return _geometry("Point", _placed(c, crs))


@implements("GeometryConstructors.MultiPoint")
def geometry_multipoint(ctx: Context, coordinates: Any, crs: Any = None) -> Geometry:
    return _geometry("MultiPoint", _placed(_coords(coordinates, "coordinates"), crs))


@implements("GeometryConstructors.LineString")
def geometry_linestring(ctx: Context, coordinates: Any, crs: Any = None, geodesic: Any = None, maxError: Any = None) -> Geometry:
    return _geometry("LineString", _placed(_coords(coordinates, "coordinates"), crs, geodesic))


@implements("GeometryConstructors.MultiLineString")
def geometry_multilinestring(ctx: Context, coordinates: Any, crs: Any = None, geodesic: Any = None, maxError: Any = None) -> Geometry:
    return _geometry("MultiLineString", _placed(_coords(coordinates, "coordinates"), crs, geodesic))


@implements("GeometryConstructors.LinearRing")
def geometry_linearring(ctx: Context, coordinates: Any, crs: Any = None, geodesic: Any = None, maxError: Any = None) -> Geometry:
    return _geometry("LinearRing", _placed(_ring(_coords(coordinates, "coordinates")), crs, geodesic))


@implements("GeometryConstructors.Polygon")
def geometry_polygon(ctx: Context, coordinates: Any, crs: Any = None, geodesic: Any = None, maxError: Any = None,
                     evenOdd: Any = True) -> Geometry:
    rings = _coords(coordinates, "coordinates")
    if rings and rings[0] and is_number(rings[0][0]):
        rings = [rings]  # a single ring given as a list of points
    return _geometry("Polygon", _placed([_ring(r) for r in rings], crs, geodesic))


@implements("GeometryConstructors.MultiPolygon")
def geometry_multipolygon(ctx: Context, coordinates: Any, crs: Any = None, geodesic: Any = None, maxError: Any = None,
                          evenOdd: Any = True) -> Geometry:
    polys = [[_ring(r) for r in p] for p in _coords(coordinates, "coordinates")]
    return _geometry("MultiPolygon", _placed(polys, crs, geodesic))


def _rectangle(xmin: float, ymin: float, xmax: float, ymax: float, crs: str, geodesic: bool) -> Geometry:
    ring = [[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax], [xmin, ymin]]
    return Geometry("Polygon", [ring], crs, geodesic)


@implements("GeometryConstructors.Rectangle")
def geometry_rectangle(ctx: Context, coordinates: Any, crs: Any = None, geodesic: Any = None, evenOdd: Any = True) -> Geometry:
    c = _coords(coordinates, "coordinates")
    flat = [x for p in c for x in p] if c and isinstance(c[0], list) else c
    if len(flat) != 4 or not all(is_number(x) for x in flat):
        raise AlgorithmError(f"Invalid rectangle coordinates {c!r}: expected [xmin, ymin, xmax, ymax].")
    x0, y0, x1, y1 = (float(x) for x in flat)
    r = _rectangle(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), WGS84, False)
    return _geometry("Polygon", _placed(r.coordinates, crs, bool(geodesic) if geodesic is not None else False))


@implements("GeometryConstructors.BBox")
def geometry_bbox(ctx: Context, west: Any, south: Any, east: Any, north: Any) -> Geometry:
    return _rectangle(float(west), float(south), float(east), float(north), WGS84, False)


@implements("GeometryConstructors.MultiGeometry")
def geometry_multigeometry(ctx: Context, geometries: Any, crs: Any = None, geodesic: Any = None, maxError: Any = None) -> Geometry:
    parts = tuple(as_geometry(g, "geometries") for g in geometries)
    return Geometry("GeometryCollection", None, _crs_of(crs), as_geodesic(geodesic, _crs_of(crs)), parts)


# ---------------------------------------------------------------------------------------
# Geometry and projection operations
# ---------------------------------------------------------------------------------------
@implements("Geometry.bounds")
def geometry_bounds(ctx: Context, geometry: Any, maxError: Any = None, proj: Any = None) -> Geometry:
    p = as_projection(proj, "proj") if proj is not None else Projection(WGS84)
    g = as_geometry(geometry, "geometry")
    if tuple(p.transform) == IDENTITY:
        return _rectangle(*g.bounds(p.crs), p.crs, False)
    # The bounding box in the projection's units (its pixels), as a polygon in its CRS.
    pts = np.asarray(to_projection(transform_geometry(g, p.crs).points().tolist(), p.transform))
    r = _rectangle(float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()), p.crs, False)
    return Geometry("Polygon", from_projection(r.coordinates, p.transform), p.crs, False, units=tuple(p.transform))


@implements("Geometry.coordinates")
def geometry_coordinates(ctx: Context, geometry: Any) -> Any:
    return as_geometry(geometry, "geometry").projected()


@implements("Geometry.type")
def geometry_type(ctx: Context, geometry: Any) -> str:
    return as_geometry(geometry, "geometry").type


@implements("Geometry.projection")
def geometry_projection(ctx: Context, geometry: Any) -> Projection:
    return Projection(as_geometry(geometry, "geometry").crs)


@implements("Geometry.transform")
def geometry_transform(ctx: Context, geometry: Any, proj: Any = None, maxError: Any = None, geodesic: Any = None) -> Geometry:
    g = as_geometry(geometry, "geometry")
    # The emulator keeps every geometry in its CRS's units; a projection's affine transform
    # only changes the units its coordinates are given in (`units`), not the points.
    p = as_projection(proj, "proj") if proj is not None else Projection(WGS84)
    out = transform_geometry(g, p.crs, geodesic)
    if tuple(p.transform) == IDENTITY:
        return out
    return Geometry(out.type, out.coordinates, out.crs, False, units=tuple(p.transform))


@implements("Projection")
def projection(ctx: Context, crs: Any, transform: Any = None, transformWkt: Any = None) -> Projection:
    if transformWkt is not None:
        raise AlgorithmError("The eerest emulator does not support transformWkt; give transform.")
    if isinstance(crs, Projection):
        return crs if transform is None else Projection.of(crs.crs, transform)
    if not isinstance(crs, str):
        raise ArgumentTypeError("crs", "String", crs)
    return Projection.of(crs, transform)


_PROJ: dict[str, Callable[..., Any]] = {
    "crs": lambda ctx, projection: as_projection(projection, "projection").crs,
    "nominalScale": lambda ctx, proj: as_projection(proj, "proj").nominal_scale,
    "atScale": lambda ctx, projection, meters: as_projection(projection, "projection").at_scale(float(meters)),
    "transform": lambda ctx, projection: _transform_wkt(as_projection(projection, "projection")),
    "wkt": lambda ctx, projection: _crs_wkt(as_projection(projection, "projection").crs),
    "scale": lambda ctx, projection, x, y: _scaled(as_projection(projection, "projection"), float(x), float(y)),
    "translate": lambda ctx, projection, x, y: _translated(as_projection(projection, "projection"), float(x), float(y)),
}
for _op, _f in _PROJ.items():
    implements(f"Projection.{_op}")(_f)


def _transform_wkt(p: Projection) -> str:
    a, b, c, d, e, f = p.transform
    return f'PARAM_MT["Affine", PARAMETER["num_row", 3], PARAMETER["num_col", 3], PARAMETER["elt_0_0", {a}], PARAMETER["elt_0_1", {b}], PARAMETER["elt_0_2", {c}], PARAMETER["elt_1_0", {d}], PARAMETER["elt_1_1", {e}], PARAMETER["elt_1_2", {f}]]'


def _crs_wkt(crs: str) -> str:
    return pyproj_crs(crs).to_wkt(version="WKT1_GDAL")


def _scaled(p: Projection, x: float, y: float) -> Projection:
    a, b, c, d, e, f = p.transform
    return Projection(p.crs, (a * x, b * y, c, d * x, e * y, f))


def _translated(p: Projection, x: float, y: float) -> Projection:
    a, b, c, d, e, f = p.transform
    return Projection(p.crs, (a, b, c + a * x + b * y, d, e, f + d * x + e * y))


def _intersects(a: Geometry, b: Geometry) -> bool:
    """Whether two geometries intersect, tested in `b`'s CRS on vertices and edges."""
    pa = a.points()
    if a.crs != b.crs and pa.size:
        x, y = transform_points(pa[:, 0], pa[:, 1], a.crs, b.crs)
        pa = np.column_stack([x, y])
    pb = b.points()
    if pa.size == 0 or pb.size == 0:
        return False
    ax0, ay0, ax1, ay1 = pa[:, 0].min(), pa[:, 1].min(), pa[:, 0].max(), pa[:, 1].max()
    bx0, by0, bx1, by1 = pb[:, 0].min(), pb[:, 1].min(), pb[:, 0].max(), pb[:, 1].max()
    if ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0:
        return False
    for poly in b.rings():
        if in_ring(pa[:, 0], pa[:, 1], poly[0]).any():
            return True
    for poly in a.rings():
        ring = poly[0]
        if a.crs != b.crs:
            x, y = transform_points(ring[:, 0], ring[:, 1], a.crs, b.crs)
            ring = np.column_stack([x, y])
        if in_ring(pb[:, 0], pb[:, 1], ring).any():
            return True
    return _edges_cross(pa, pb)


def _edges_cross(pa: np.ndarray, pb: np.ndarray) -> bool:
    def orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        return np.sign((q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0]))

    a0, a1 = pa[:-1][:, None, :], pa[1:][:, None, :]
    b0, b1 = pb[:-1][None, :, :], pb[1:][None, :, :]
    if a0.size == 0 or b0.size == 0:
        return False
    o1, o2 = orient(a0, a1, b0), orient(a0, a1, b1)
    o3, o4 = orient(b0, b1, a0), orient(b0, b1, a1)
    return bool(((o1 != o2) & (o3 != o4)).any())


def _filter_geometry(ctx: Context, leftField: Any = None, rightValue: Any = None, rightField: Any = None,
                     leftValue: Any = None, maxError: Any = None) -> Filter:
    if leftField not in (".all", ".geo", None) or rightField is not None:
        raise AlgorithmError("The eerest emulator supports spatial filters only on an element's geometry ('.geo'/'.all').")
    other = as_geometry(rightValue if rightValue is not None else leftValue, "rightValue")

    def test(element: Any) -> bool:
        if isinstance(element, Feature):
            return element.geometry is not None and _intersects(element.geometry, other)
        fp = footprint(element)
        return fp is None or _intersects(fp, other)

    return Filter(test)


implements("Filter.intersects")(_filter_geometry)


@implements("Feature")
def feature(ctx: Context, geometry: Any = None, metadata: Any = None, geometryKey: Any = None) -> Feature:
    geom = as_geometry(geometry, "geometry") if geometry is not None else None
    return Feature(geom, dict(metadata or {}))


@implements("Collection")
def collection(ctx: Context, features: Any) -> FeatureCollection:
    """`ee.FeatureCollection([features])`: features (geometries become features without properties)."""
    if not isinstance(features, list):
        raise ArgumentTypeError("features", "List<Element>", features)
    out = []
    for i, f in enumerate(features):
        if isinstance(f, Geometry):
            f = Feature(f, {})
        if not isinstance(f, Feature):
            raise AlgorithmError(f"The eerest emulator builds feature collections of features only, got {type(f).__name__}.")
        out.append(f if "system:index" in f.properties else Feature(f.geometry, {**f.properties, "system:index": str(i)}))
    return FeatureCollection(out)  # type: ignore[arg-type]


@implements("Feature.setGeometry")
def feature_set_geometry(ctx: Context, feature: Any, geometry: Any = None) -> Feature:
    if not isinstance(feature, Feature):
        raise ArgumentTypeError("feature", "Feature", feature)
    return Feature(as_geometry(geometry, "geometry") if geometry is not None else None, dict(feature.properties))


@implements("Image.geometry")
def image_geometry(ctx: Context, feature: Any, maxError: Any = None, proj: Any = None, geodesics: Any = None) -> Geometry:
    if isinstance(feature, Feature):
        if feature.geometry is None:
            raise AlgorithmError("The feature has no geometry.")
        return feature.geometry
    fp = footprint(as_image(feature, "feature"))
    if fp is None:
        return _rectangle(-180.0, -90.0, 180.0, 90.0, WGS84, False)
    if proj is not None:
        crs = as_projection(proj, "proj").crs
        return transform_geometry(fp, crs)
    return fp if fp.crs == WGS84 else transform_geometry(fp, WGS84)


implements("Element.geometry")(image_geometry)
implements("Feature.geometry")(image_geometry)


@implements("Image.projection")
def image_projection(ctx: Context, image: Any) -> Projection:
    img = as_image(image, "image")
    p = next((band_projection(b) for b in img.bands if b.grid is not None), None)
    return p if p is not None else Projection(WGS84)


@implements("Geometry.area")
def geometry_area(ctx: Context, geometry: Any, maxError: Any = None, proj: Any = None) -> float:
    """Square metres: geodesic on the WGS84 ellipsoid for EPSG:4326 geometries, planar in `proj` otherwise."""
    g = as_geometry(geometry, "geometry")
    if proj is not None and as_projection(proj, "proj").crs != g.crs:
        g = transform_geometry(g, as_projection(proj, "proj").crs)
    total = 0.0
    for poly in g.rings():
        for k, ring in enumerate(poly):
            if g.crs == WGS84 and proj is None:
                from pyproj import Geod

                a, _ = Geod(ellps="WGS84").polygon_area_perimeter(ring[:, 0], ring[:, 1])
                a = abs(a)
            else:
                x, y = ring[:, 0], ring[:, 1]
                a = abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2
            total += a if k == 0 else -a
    return total


@implements("ErrorMargin")
def error_margin(ctx: Context, value: Any = None, unit: Any = "meters") -> dict[str, Any]:
    """An error margin; the emulator's geometry operations are exact, so it is only carried along."""
    return {"type": "ErrorMargin", "unit": unit, "value": value}


# ---------------------------------------------------------------------------------------
# Buffers, centroids and tests between geometries
# ---------------------------------------------------------------------------------------
def _local_crs(g: Geometry) -> str:
    """An azimuthal equidistant CRS (metres) centred on the geometry, for geodesic measures."""
    x0, y0, x1, y1 = g.bounds(WGS84)
    return f"+proj=aeqd +lat_0={(y0 + y1) / 2} +lon_0={(x0 + x1) / 2} +datum=WGS84 +units=m +no_defs"


def _work_crs(g: Geometry, proj: Any) -> tuple[str, float]:
    """The CRS a buffer or centroid is computed in and its metres per unit: `proj`'s, else a
    local equidistant one for a geodesic geometry, else the geometry's own."""
    if proj is not None:
        p = as_projection(proj, "proj")
        return p.crs, 1.0  # distances in the units of `proj`'s coordinate system
    if g.geodesic or g.crs == WGS84:
        return _local_crs(g), 1.0
    return g.crs, 1.0


def _in(g: Geometry, crs: str) -> Geometry:
    if same_crs(g.crs, crs):
        return g
    return Geometry(g.type, _walk_transform(g.coordinates, g.crs, crs), crs, False,
                    tuple(_in(p, crs) for p in g.geometries))


def _walk_transform(c: Any, src: str, dst: str) -> Any:
    if c is None:
        return None
    if c and is_number(c[0]):
        x, y = transform_points(np.array([c[0]], dtype=float), np.array([c[1]], dtype=float), src, dst)
        return [float(x[0]), float(y[0])]
    return [_walk_transform(p, src, dst) for p in c]


def _circle(x: float, y: float, r: float, n: int = 64) -> list:
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    ring = [[float(x + r * np.cos(a)), float(y + r * np.sin(a))] for a in t]
    return [*ring, ring[0]]


@implements("Geometry.buffer")
def geometry_buffer(ctx: Context, geometry: Any, distance: Any, maxError: Any = None, proj: Any = None) -> Geometry:
    """The geometry grown (shrunk, for a negative distance) by `distance` metres: computed in a
    local azimuthal equidistant projection for geodesic geometries, in the CRS otherwise (in the
    units of `proj` when given). Points are buffered to 64-vertex circles; other geometries need
    shapely (`pip install shapely`)."""
    g = as_geometry(geometry, "geometry")
    if not is_number(distance):
        raise ArgumentTypeError("distance", "Float", distance)
    d = float(distance)
    crs, _ = _work_crs(g, proj)
    local = _in(g, crs)
    if g.type in ("Point", "MultiPoint"):
        if d <= 0:
            raise AlgorithmError("The buffer of a point by a distance that is not positive is empty.")
        pts = local.points()
        polys = [[_circle(float(x), float(y), d)] for x, y in pts]
        out = Geometry("Polygon", polys[0], crs, False) if len(polys) == 1 else Geometry("MultiPolygon", polys, crs, False)
    else:
        try:
            import shapely.geometry
        except ImportError:
            raise AlgorithmError("The eerest emulator buffers lines and polygons with shapely: pip install shapely.") from None
        shp = shapely.geometry.shape({"type": local.type if local.type != "LinearRing" else "LineString",
                                      "coordinates": local.coordinates}).buffer(d, quad_segs=16)
        if shp.is_empty:
            raise AlgorithmError("The buffer is empty.")
        info = shapely.geometry.mapping(shp)
        out = Geometry(info["type"], _lists(info["coordinates"]), crs, False)
    back = g.crs if proj is None else crs
    res = _in(out, back)
    return Geometry(res.type, res.coordinates, back, back == WGS84 and g.geodesic)


def _lists(c: Any) -> Any:
    if isinstance(c, (list, tuple)) and c and is_number(c[0]):
        return [float(c[0]), float(c[1])]
    return [_lists(p) for p in c]


@implements("Geometry.centroid")
def geometry_centroid(ctx: Context, geometry: Any, maxError: Any = None, proj: Any = None) -> Geometry:
    """The centroid of the highest-dimension parts (area-weighted for polygons, length-weighted
    for lines, the mean of points), in `proj`'s CRS if given, else EPSG:4326."""
    g = as_geometry(geometry, "geometry")
    crs, _ = _work_crs(g, proj)
    local = _in(g, crs)
    polys = local.rings()
    if polys:
        total, cx, cy = 0.0, 0.0, 0.0
        for poly in polys:
            for k, ring in enumerate(poly):
                x, y = ring[:, 0], ring[:, 1]
                x1, y1 = np.roll(x, -1), np.roll(y, -1)
                cross = x * y1 - x1 * y
                a = cross.sum() / 2
                if a == 0:
                    continue
                sign = 1.0 if k == 0 else -1.0
                sa = sign * abs(a)
                cx += sa * ((x + x1) * cross).sum() / (6 * a)
                cy += sa * ((y + y1) * cross).sum() / (6 * a)
                total += sa
        if total == 0:
            raise AlgorithmError("The polygon has no area: no centroid.")
        px, py = cx / total, cy / total
    else:
        pts = local.points()
        if pts.size == 0:
            raise AlgorithmError("The geometry is empty: no centroid.")
        if local.type in ("LineString", "MultiLineString"):
            lines = [np.asarray(local.coordinates, dtype=float)] if local.type == "LineString" else [np.asarray(c, dtype=float) for c in local.coordinates]
            seg_len = [np.hypot(*np.diff(ln, axis=0).T) for ln in lines]
            mids = [(ln[1:] + ln[:-1]) / 2 for ln in lines]
            lens = np.concatenate(seg_len)
            m = np.concatenate(mids)
            px, py = (m * lens[:, None]).sum(axis=0) / lens.sum() if lens.sum() > 0 else pts.mean(axis=0)
        else:
            px, py = pts.mean(axis=0)
    out_crs = as_projection(proj, "proj").crs if proj is not None else WGS84
    x, y = transform_points(np.array([px]), np.array([py]), crs, out_crs)
    return Geometry("Point", [float(x[0]), float(y[0])], out_crs, out_crs == WGS84)


@implements("Geometry.intersects")
def geometry_intersects(ctx: Context, left: Any, right: Any, maxError: Any = None, proj: Any = None) -> bool:
    """Whether the geometries share a point (vertices inside the other, or crossing edges)."""
    return _intersects(as_geometry(left, "left"), as_geometry(right, "right"))
