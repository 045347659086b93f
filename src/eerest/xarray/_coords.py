"""Coordinates of a pixel grid, as xarray and rioxarray read them: ``x``/``y`` at pixel
centres, and a ``spatial_ref`` coordinate carrying the CRS and transform (CF grid mapping)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from eerest.errors import InvalidRequestError
from eerest.tiling import PixelGrid

__all__ = ["GRID_MAPPING", "grid_mapping_attrs", "xy_coords"]

#: The name of the coordinate holding the CRS (rioxarray's default).
GRID_MAPPING = "spatial_ref"

_CRS_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:[A-Za-z0-9_.-]+$")


def xy_coords(grid: PixelGrid) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``(x, y)``: the centres of the grid's columns and rows in CRS units."""
    sx, shx, tx, shy, sy, ty = grid.transform
    if shx or shy:
        raise InvalidRequestError(
            f"the grid's transform {grid.transform} is sheared or rotated, and x/y coordinates need a north-up "
            "grid: use shearX = shearY = 0"
        )
    x = tx + sx * (np.arange(grid.width, dtype=np.float64) + 0.5)
    y = ty + sy * (np.arange(grid.height, dtype=np.float64) + 0.5)
    return x, y


def grid_mapping_attrs(grid: PixelGrid) -> dict[str, Any]:
    """Attributes of the ``spatial_ref`` coordinate: CF grid-mapping attributes when pyproj
    is installed, and always ``spatial_ref`` (WKT, or the CRS code) and GDAL's ``GeoTransform``
    so that ``ds.rio.crs`` and ``ds.rio.transform()`` work."""
    sx, shx, tx, shy, sy, ty = grid.transform
    attrs: dict[str, Any] = {}
    crs = grid.crs.strip()
    wkt = None if _CRS_CODE.match(crs) else crs
    cf = _cf_attrs(crs)
    if cf is not None:
        attrs.update(cf)
        wkt = cf["crs_wkt"]
    if wkt is not None:
        attrs["crs_wkt"] = wkt
    attrs["spatial_ref"] = wkt or crs
    if _CRS_CODE.match(crs):
        attrs["crs_code"] = crs
    attrs["GeoTransform"] = " ".join(repr(float(v)) for v in (tx, sx, shx, ty, shy, sy))
    return attrs


def _cf_attrs(crs: str) -> dict[str, Any] | None:
    """pyproj's CF grid-mapping attributes of ``crs`` (with ``crs_wkt``), if pyproj is installed."""
    try:
        import pyproj
    except ImportError:
        return None
    try:
        proj_crs = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return None
    return {**proj_crs.to_cf(), "crs_wkt": proj_crs.to_wkt()}
