"""Regions without pyproj code: bounds of geometries, bounds moved between CRSs, the grid of
an existing GeoTIFF, and the guards that refuse a bbox given in the wrong units.

pyproj (``pip install 'eerest[geo]'``) is imported only to move bounds between CRSs and to
read a CRS's area of use; everything else is plain Python.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from eerest._extras import missing_extra
from eerest.errors import InvalidRequestError

__all__ = ["check_bbox_units", "geometry_bounds", "outside_footprint", "read_tiff_grid", "transform_bounds"]

Bounds = tuple[float, float, float, float]

#: Geographic (lon/lat) CRSs known without pyproj: the ones Earth Engine users meet.
_GEOGRAPHIC = {"EPSG:4326", "EPSG:4269", "EPSG:4258", "EPSG:4267", "EPSG:4283", "EPSG:4674", "CRS:84", "OGC:CRS84"}
_UTM = re.compile(r"^EPSG:(326|327)(0[1-9]|[1-5][0-9]|60)$")


def _pyproj() -> Any:
    try:
        import pyproj
    except ImportError:
        raise missing_extra("Moving a region between CRSs", "pyproj", "geo") from None
    return pyproj


def transform_bounds(src: str, dst: str, bounds: Sequence[float]) -> Bounds:
    """``bounds`` (xmin, ymin, xmax, ymax) in ``src`` as the bounds in ``dst`` of the box's
    edges densified (21 points a side, as rasterio's ``transform_bounds``): a lon/lat box
    becomes the projected box that covers it."""
    pyproj = _pyproj()
    try:
        transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
        out = transformer.transform_bounds(*bounds, densify_pts=21)
    except pyproj.exceptions.CRSError as exc:
        raise InvalidRequestError(f"cannot move the region from {src} to {dst}: {exc}") from None
    if not all(math.isfinite(v) for v in out):
        raise InvalidRequestError(
            f"the region {tuple(bounds)} in {src} has no finite bounds in {dst}: is it inside {dst}'s area of use?"
        )
    return tuple(float(v) for v in out)  # type: ignore[return-value]


def _positions(coords: Any) -> Iterator[tuple[float, float]]:
    if isinstance(coords, (int, float)):
        raise InvalidRequestError("a GeoJSON position must be a list of numbers, not a bare number")
    if coords and isinstance(coords[0], (int, float)):
        yield float(coords[0]), float(coords[1])
        return
    for inner in coords:
        yield from _positions(inner)


def _geometries(obj: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    kind = obj.get("type")
    if kind == "FeatureCollection":
        for feature in obj.get("features") or ():
            yield from _geometries(feature)
    elif kind == "Feature":
        if obj.get("geometry"):
            yield from _geometries(obj["geometry"])
    elif kind == "GeometryCollection":
        for geometry in obj.get("geometries") or ():
            yield from _geometries(geometry)
    else:
        yield obj


def _geojson(geometry: Any) -> tuple[Mapping[str, Any], str]:
    """A geometry's GeoJSON and its CRS: a GeoJSON dict, anything with
    ``__geo_interface__`` (shapely, geopandas) or an ``ee.Geometry``."""
    if hasattr(geometry, "toGeoJSON") and hasattr(geometry, "encode_cloud_value"):  # ee.Geometry
        try:
            geometry = geometry.toGeoJSON()
        except Exception as exc:  # ee.EEException: a computed geometry has no local GeoJSON
            raise InvalidRequestError(
                f"this ee.Geometry is computed on the server ({exc}); pass its GeoJSON instead, "
                "e.g. client.compute_value(geometry)"
            ) from None
    elif hasattr(geometry, "__geo_interface__"):
        geometry = geometry.__geo_interface__
    if not isinstance(geometry, Mapping) or "type" not in geometry:
        raise InvalidRequestError(
            f"geometry must be GeoJSON, a shapely/geopandas geometry or an ee.Geometry, not {type(geometry).__name__}"
        )
    crs = "EPSG:4326"
    named = geometry.get("crs")
    if isinstance(named, Mapping):
        name = (named.get("properties") or {}).get("name")
        if isinstance(name, str) and name:
            crs = name
    return geometry, crs


def geometry_bounds(geometry: Any) -> tuple[Bounds, str]:
    """The bounds of a geometry (GeoJSON, shapely/geopandas or ``ee.Geometry``) and their
    CRS (GeoJSON's lon/lat unless it names another)."""
    data, crs = _geojson(geometry)
    xs: list[float] = []
    ys: list[float] = []
    for part in _geometries(data):
        for x, y in _positions(part.get("coordinates") or ()):
            xs.append(x)
            ys.append(y)
    if not xs:
        raise InvalidRequestError("the geometry has no coordinates: a grid needs a region with an extent")
    if not all(math.isfinite(v) for v in (*xs, *ys)):
        raise InvalidRequestError("the geometry has a coordinate that is not a finite number")
    return (min(xs), min(ys), max(xs), max(ys)), crs


def _is_geographic(crs: str) -> bool | None:
    """Whether ``crs`` is lon/lat; ``None`` when neither pyproj nor the known list can say."""
    code = crs.strip().upper()
    if code in _GEOGRAPHIC:
        return True
    if _UTM.match(code) or code in ("EPSG:3857", "EPSG:900913"):
        return False
    try:
        import pyproj
    except ImportError:
        return None
    try:
        return bool(pyproj.CRS.from_user_input(crs).is_geographic)
    except pyproj.exceptions.CRSError:
        return None


def _looks_like_degrees(bounds: Bounds) -> bool:
    xmin, ymin, xmax, ymax = bounds
    return -180 <= xmin <= xmax <= 360 and -90 <= ymin <= ymax <= 90


def check_bbox_units(crs: str, scale: float, bounds: Bounds) -> None:
    """Refuse a bbox that is surely in the wrong units for ``crs``: degrees under a projected
    CRS, metres under a geographic one, or a scale in metres under a geographic CRS."""
    geographic = _is_geographic(crs)
    xmin, ymin, xmax, ymax = bounds
    if geographic is False and _looks_like_degrees(bounds):
        raise InvalidRequestError(
            f"the bbox {bounds} looks like longitude/latitude degrees, but {crs} is a projected CRS (in metres); "
            f'pass bbox_crs="EPSG:4326" to give the box in lon/lat, e.g. '
            f'PixelGrid.from_bbox("{crs}", {scale:g}, {bounds}, bbox_crs="EPSG:4326")'
        )
    if geographic is True:
        if not _looks_like_degrees(bounds):
            raise InvalidRequestError(
                f"the bbox {bounds} is not in degrees, but {crs} is a geographic CRS (lon/lat); give the box in "
                f"degrees, or name the CRS it is in with bbox_crs= (e.g. a UTM zone such as 'EPSG:32633')"
            )
        if scale >= 1 and (xmax - xmin) < 2 * scale and (ymax - ymin) < 2 * scale:
            raise InvalidRequestError(
                f"scale={scale:g} is in degrees under {crs}, which makes the bbox {bounds} less than 2x2 pixels; "
                f"for ~{scale:g} m pixels pass scale={scale / 111_320:.3g} (degrees), or a projected crs in metres"
            )


def outside_footprint(crs: str, bounds: Bounds, footprint: Any) -> bool | None:
    """Whether the box ``bounds`` (in ``crs``) misses an asset's footprint (GeoJSON in
    lon/lat) entirely, by their bounding boxes; ``None`` when that cannot be told (no
    footprint, no pyproj, a CRS pyproj does not know)."""
    if not footprint:
        return None
    try:
        (fx0, fy0, fx1, fy1), footprint_crs = geometry_bounds(footprint)
        gx0, gy0, gx1, gy1 = transform_bounds(crs, footprint_crs, bounds)
    except (InvalidRequestError, ImportError):
        return None
    if fx1 - fx0 >= 359:  # global footprints (and ones across the antimeridian): no verdict
        return None
    return gx1 < fx0 or gx0 > fx1 or gy1 < fy0 or gy0 > fy1


def read_tiff_grid(path: str | os.PathLike[str]) -> tuple[int, int, tuple[float, ...], str]:
    """(width, height, transform, CRS code) of a GeoTIFF, from its header alone."""
    try:
        import tifffile
    except ImportError:
        raise missing_extra("Reading a GeoTIFF's grid", "tifffile", "geotiff") from None
    from eerest._formats.geotiff_read import georeference

    try:
        with tifffile.TiffFile(os.fspath(path)) as tif:
            page = tif.pages[0]
            transform, crs = georeference(page)
            width, height = int(page.imagewidth), int(page.imagelength)
    except (OSError, tifffile.TiffFileError) as exc:
        raise InvalidRequestError(f"cannot read the grid of {os.fspath(path)!r}: {exc}") from None
    if transform is None or crs is None:
        missing = (
            "georeferencing (no ModelTransformation or ModelPixelScale/Tiepoint)"
            if transform is None
            else "an EPSG code"
        )
        raise InvalidRequestError(f"{os.fspath(path)!r} has no {missing}; give the grid explicitly")
    return width, height, transform, crs
