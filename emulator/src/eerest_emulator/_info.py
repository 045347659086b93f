"""What `projects.value.compute` answers (what `getInfo()` prints) for each kind of computed value.

Images and collections are described as Earth Engine describes them (`type`, `bands` with
`data_type`, `crs`, `crs_transform`, `dimensions`; `id`, `properties`; collections list
their images under `features`); dates, projections and geometries by their JSON forms.
"""

from __future__ import annotations

import math
from typing import Any

from ._errors import invalid_argument
from ._image import Band, Image, ImageCollection
from ._values import Date, DateRange, Feature, FeatureCollection, Geometry, Projection

__all__ = ["to_info"]

_PRECISION = {"INT": "int", "FLOAT": "float", "DOUBLE": "double"}


def to_info(value: Any) -> Any:
    """The JSON value `getInfo()` returns for `value`; a 400 for values that have none."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return value
    if isinstance(value, (list, tuple)):
        return [to_info(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_info(v) for k, v in value.items()}
    if isinstance(value, Image):
        return image_info(value)
    if isinstance(value, FeatureCollection):
        return to_info(value.to_info())
    if isinstance(value, ImageCollection):
        return collection_info(value)
    if isinstance(value, Feature):
        return to_info(value.to_info())
    if isinstance(value, (Date, DateRange, Projection, Geometry)):
        return value.to_info()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    name = type(value).__name__
    raise invalid_argument(f"A {name} has no value to return: getInfo() needs an image, collection, or plain value.")


def band_info(b: Band) -> dict[str, Any]:
    t = b.ptype
    dt: dict[str, Any] = {"type": "PixelType", "precision": _PRECISION[t.precision]}
    if t.is_int:
        dt["min"], dt["max"] = int(t.min), int(t.max)  # type: ignore[arg-type]
    out: dict[str, Any] = {"id": b.name, "data_type": dt}
    g = b.grid
    if g is None:
        out["crs"] = "EPSG:4326"
        out["crs_transform"] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        return out
    if g.width is not None and g.height is not None:
        out["dimensions"] = [g.width, g.height]
    out["crs"] = g.crs or g.crs_wkt
    out["crs_transform"] = [g.scale_x, g.shear_x, g.translate_x, g.shear_y, g.scale_y, g.translate_y]
    return out


def image_info(img: Image) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Image", "bands": [band_info(b) for b in img.bands]}
    props = dict(img.properties)
    sid = props.pop("system:id", None)
    if sid is not None:
        out["id"] = sid
        if "updateTime" in img.meta:
            out["version"] = _version(img.meta["updateTime"])
    if "geometry" in img.meta and "system:footprint" not in props:
        props["system:footprint"] = _footprint(img.meta["geometry"])
    if "sizeBytes" in img.meta:
        props.setdefault("system:asset_size", int(img.meta["sizeBytes"]))
    if props:
        out["properties"] = to_info(props)
    return out


def collection_info(c: ImageCollection) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "ImageCollection", "bands": []}
    name = c.meta.get("name")
    if name:
        out["id"] = name
    if c.properties:
        out["properties"] = to_info(c.properties)
    out["features"] = [image_info(i) for i in c.images]
    return out


def _footprint(geojson: dict) -> dict[str, Any]:
    """Earth Engine reports an image's footprint as the LinearRing of its polygon."""
    if geojson.get("type") == "Polygon" and geojson.get("coordinates"):
        return {"type": "LinearRing", "coordinates": geojson["coordinates"][0]}
    return geojson


def _version(update_time: str) -> int:
    from ._store import parse_time_ms

    try:
        return parse_time_ms(update_time) * 1000
    except ValueError:
        return 0
