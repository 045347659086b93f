"""Regions without pyproj code: PixelGrid.from_bbox(bbox_crs=), from_geometry and from_file,
and the guards that refuse a bbox in the wrong units. pyproj is the oracle for moved bounds."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer

import eerest
from eerest.tiling import PixelGrid

SCENE = "projects/eerest/assets/sample/scenes/20240524"
LONLAT = (14.55, 47.95, 14.6, 48.0)  # a small box in Austria, in UTM zone 33N


def _bounds(grid: PixelGrid) -> tuple[float, float, float, float]:
    sx, _, tx, _, sy, ty = grid.transform
    return tx, ty + sy * grid.height, tx + sx * grid.width, ty


def test_lonlat_bbox_moves_into_the_projected_crs_and_is_covered() -> None:
    grid = PixelGrid.from_bbox("EPSG:32633", 10, LONLAT, bbox_crs="EPSG:4326")
    want = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform_bounds(*LONLAT, densify_pts=21)
    xmin, ymin, xmax, ymax = _bounds(grid)
    assert xmin <= want[0] < xmin + 10 and xmax - 10 < want[2] <= xmax
    assert ymin <= want[1] < ymin + 10 and ymax - 10 < want[3] <= ymax
    assert grid.crs == "EPSG:32633" and grid.transform[0] == 10 and grid.transform[4] == -10
    # every corner of the lon/lat box falls inside the grid
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    for lon in (LONLAT[0], LONLAT[2]):
        for lat in (LONLAT[1], LONLAT[3]):
            x, y = to_utm.transform(lon, lat)
            assert xmin <= x <= xmax and ymin <= y <= ymax


def test_degrees_under_a_projected_crs_are_refused_with_the_fix() -> None:
    with pytest.raises(eerest.InvalidRequestError, match=r'bbox_crs="EPSG:4326"'):
        PixelGrid.from_bbox("EPSG:32633", 10, LONLAT)


def test_metres_under_a_geographic_crs_are_refused() -> None:
    with pytest.raises(eerest.InvalidRequestError, match="not in degrees"):
        PixelGrid.from_bbox("EPSG:4326", 0.0001, (533120, 5301840, 534120, 5311840))


def test_a_scale_in_metres_under_a_geographic_crs_is_refused() -> None:
    with pytest.raises(eerest.InvalidRequestError, match=r"scale=30 is in degrees.*scale=0.000269"):
        PixelGrid.from_bbox("EPSG:4326", 30, LONLAT)


def test_valid_boxes_pass_the_guards() -> None:
    assert PixelGrid.from_bbox("EPSG:4326", 0.01, LONLAT).width == 5
    assert PixelGrid.from_bbox("EPSG:32633", 10, (533120, 5301840, 534120, 5311840)).width == 100
    assert PixelGrid.from_bbox("EPSG:4326", 1, (-180, -90, 180, 90)).width == 360  # a global 1-degree grid


def _polygon(box: tuple[float, float, float, float]) -> dict[str, Any]:
    x0, y0, x1, y1 = box
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def test_from_geometry_takes_geojson_shapely_features_and_ee_geometries(ee_emulator: Any) -> None:
    shapely = pytest.importorskip("shapely.geometry")
    ee = pytest.importorskip("ee")
    from google.oauth2.credentials import Credentials
    want = PixelGrid.from_bbox("EPSG:32633", 10, LONLAT, bbox_crs="EPSG:4326")
    polygon = _polygon(LONLAT)
    assert PixelGrid.from_geometry(polygon, crs="EPSG:32633", scale=10) == want
    assert PixelGrid.from_geometry(shapely.shape(polygon), crs="EPSG:32633", scale=10) == want
    feature = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": polygon, "properties": {}}]}
    assert PixelGrid.from_geometry(feature, crs="EPSG:32633", scale=10) == want
    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    try:
        rectangle = ee.Geometry.Rectangle(list(LONLAT))
        assert PixelGrid.from_geometry(rectangle, crs="EPSG:32633", scale=10) == want
        with pytest.raises(eerest.InvalidRequestError, match="computed on the server"):
            PixelGrid.from_geometry(rectangle.buffer(10), crs="EPSG:32633", scale=10)
    finally:
        ee.Reset()


def test_from_geometry_honours_a_named_crs_and_points() -> None:
    utm = {**_polygon((533120, 5301840, 534120, 5311840)), "crs": {"type": "name", "properties": {"name": "EPSG:32633"}}}
    assert PixelGrid.from_geometry(utm, crs="EPSG:32633", scale=10) == PixelGrid(
        100, 1000, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633"
    )
    point = PixelGrid.from_geometry({"type": "Point", "coordinates": [14.57, 47.97]}, crs="EPSG:4326", scale=0.01)
    assert (point.width, point.height) == (1, 1)
    x, y = 14.57, 47.97
    sx, _, tx, _, sy, ty = point.transform
    assert tx <= x <= tx + sx and ty + sy <= y <= ty


def test_from_geometry_refuses_what_is_not_a_geometry() -> None:
    with pytest.raises(eerest.InvalidRequestError, match="geometry must be GeoJSON"):
        PixelGrid.from_geometry([1, 2], crs="EPSG:4326", scale=1)
    with pytest.raises(eerest.InvalidRequestError, match="no coordinates"):
        PixelGrid.from_geometry({"type": "Polygon", "coordinates": []}, crs="EPSG:4326", scale=1)
    with pytest.raises(eerest.InvalidRequestError, match="finite"):
        PixelGrid.from_geometry({"type": "Point", "coordinates": [math.nan, 1]}, crs="EPSG:4326", scale=1)


def test_from_file_reads_back_the_grid_of_a_written_geotiff(ee_client: Any, tmp_path: Path) -> None:
    pytest.importorskip("tifffile")
    grid = PixelGrid(70, 50, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    path = ee_client.read_area(SCENE, grid=grid, band_ids=["red"], out=str(tmp_path / "a.tif"))
    like = PixelGrid.from_file(path)
    assert like == grid
    again = ee_client.read_area(SCENE, grid=like, band_ids=["red"])
    assert np.array_equal(again["red"], ee_client.read_area(SCENE, grid=grid, band_ids=["red"])["red"])


def test_from_file_refuses_a_file_without_georeferencing(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "plain.tif", np.zeros((4, 4), np.uint8))
    with pytest.raises(eerest.InvalidRequestError, match="no georeferencing"):
        PixelGrid.from_file(tmp_path / "plain.tif")
    with pytest.raises(eerest.InvalidRequestError, match="cannot read the grid"):
        PixelGrid.from_file(tmp_path / "missing.tif")


def test_plan_area_says_what_read_area_will_read(ee_client: Any, ee_emulator: Any) -> None:
    grid = PixelGrid(300, 200, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    ee_emulator.app.clear_requests()
    plan = ee_client.plan_area(SCENE, grid=grid, band_ids=["red", "nir"], max_tile_bytes=60_000)
    assert [r.path for r in ee_emulator.requests if "getPixels" in r.path] == []  # nothing read
    assert plan.band_ids == ("red", "nir") and plan.grid == grid
    assert plan.nbytes == ee_client.read_area(SCENE, grid=grid, band_ids=["red", "nir"]).nbytes
    tiles = [r for r in ee_emulator.requests if r.path.endswith(":getPixels")]
    ee_emulator.app.clear_requests()
    ee_client.read_area(SCENE, grid=grid, band_ids=["red", "nir"], max_tile_bytes=60_000)
    assert plan.requests == len([r for r in ee_emulator.requests if r.path.endswith(":getPixels")]) > len(tiles)
    assert str(plan).startswith("300 x 200 pixels x 2 bands (") and str(plan).endswith(f"in {plan.requests} requests")


def test_a_one_pixel_grid_warns(ee_client: Any) -> None:
    grid = PixelGrid.from_bbox("EPSG:32633", 30, (533120, 5311800, 533130, 5311810))
    with pytest.warns(eerest.GridWarning, match="1 x 1 pixel"):
        ee_client.plan_area(SCENE, grid=grid, band_ids=["red"])


def test_a_grid_outside_the_assets_footprint_warns(ee_client: Any) -> None:
    far = PixelGrid.from_bbox("EPSG:32633", 10, (300000, 4000000, 301000, 4001000))
    with pytest.warns(eerest.GridWarning, match="outside the asset's footprint"):
        ee_client.plan_area(SCENE, grid=far)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ee_client.plan_area(SCENE, grid=PixelGrid(30, 20, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633"))
