"""The tile planner: every pixel of every band exactly once, every request under every limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eerest.v1
import eerest.v1alpha
import eerest.v1beta
from eerest import limits
from eerest.errors import InvalidRequestError
from eerest.tiling import DEFAULT_MAX_TILE_BYTES, PixelGrid, TilePlan, Window, plan_tiles

DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "float32", "float64", "bool"]


@st.composite
def grids(draw: st.DrawFn, max_side: int = 1500) -> PixelGrid:
    width = draw(st.integers(1, max_side))
    height = draw(st.integers(1, max_side))
    sx = draw(st.sampled_from([10.0, 0.00025, 30.0, 1.0, -2.5]))
    sy = draw(st.sampled_from([-10.0, -0.00025, 30.0, -1.0]))
    shx, shy = draw(st.sampled_from([(0.0, 0.0), (0.5, -0.25)]))
    tx = draw(st.floats(-1e6, 1e6, allow_nan=False))
    ty = draw(st.floats(-1e7, 1e7, allow_nan=False))
    return PixelGrid(width, height, (sx, shx, tx, shy, sy, ty), draw(st.sampled_from(["EPSG:32633", "EPSG:4326"])))


def coverage(plan: TilePlan) -> np.ndarray:
    area = plan.area
    count = np.zeros((area.height, area.width, len(plan.band_dtypes)), dtype=np.uint8)
    for tile in plan.tiles:
        w = tile.window.relative_to(area)
        count[(*w.slices, slice(tile.bands[0], tile.bands[-1] + 1))] += 1
    return count


@st.composite
def budgets(draw: st.DrawFn, grid: PixelGrid, dtypes: list[str]) -> int:
    """A max_tile_bytes giving at most a few hundred tiles (any value for small grids)."""
    total = limits.request_bytes(grid.width, grid.height, dtypes)
    if grid.width * grid.height <= 1600:
        return draw(st.integers(1, total + 10))
    return draw(st.one_of(st.integers(max(1, total // 300), total + 10), st.sampled_from([DEFAULT_MAX_TILE_BYTES, 10**9])))


def check_plan(plan: TilePlan, max_tile_bytes: int) -> None:
    area = plan.area
    assert (coverage(plan) == 1).all(), "every pixel of every band exactly once"
    budget = min(max_tile_bytes, limits.MAX_REQUEST_BYTES)
    block = plan.block_size
    for tile in plan.tiles:
        w = tile.window
        dtypes = [plan.band_dtypes[i] for i in tile.bands]
        size = limits.request_bytes(w.width, w.height, dtypes)
        assert size <= limits.MAX_REQUEST_BYTES
        assert size <= budget or w.pixels == 1  # one pixel is the smallest request there is
        assert w.width <= limits.MAX_GRID_DIMENSION and w.height <= limits.MAX_GRID_DIMENSION
        assert 1 <= len(tile.bands) <= limits.MAX_BANDS
        assert list(tile.bands) == list(range(tile.bands[0], tile.bands[-1] + 1)), "contiguous bands"
        assert tile.grid == plan.grid.window(w)
        assert (tile.grid.width, tile.grid.height, tile.grid.crs) == (w.width, w.height, plan.grid.crs)
        # alignment: a tile starts on a block boundary of the area, or lies inside one block
        rel = w.relative_to(area)
        for off, size_ in ((rel.col_off, rel.width), (rel.row_off, rel.height)):
            assert off % block == 0 or off // block == (off + size_ - 1) // block
        # nominal size: only tiles at the right/bottom edge (or block edges) are smaller
        assert w.width <= plan.tile_width and w.height <= plan.tile_height


@settings(max_examples=150, deadline=None)
@given(
    grid=st.one_of(grids(max_side=40), grids()),
    dtypes=st.lists(st.sampled_from(DTYPES), min_size=1, max_size=6),
    block=st.sampled_from([1, 7, 64, 256, 512]),
    data=st.data(),
)
def test_plan_covers_every_pixel_once_within_limits(
    grid: PixelGrid, dtypes: list[str], block: int, data: st.DataObject
) -> None:
    max_tile_bytes = data.draw(budgets(grid, dtypes))
    if block == 1:
        max_tile_bytes = max(max_tile_bytes, limits.request_bytes(grid.width, grid.height, dtypes) // 300)
    plan = plan_tiles(grid, dtypes, max_tile_bytes=max_tile_bytes, block_size=block)
    check_plan(plan, max_tile_bytes)


@settings(max_examples=60, deadline=None)
@given(grid=grids(), data=st.data())
def test_plan_of_a_window(grid: PixelGrid, data: st.DataObject) -> None:
    c0 = data.draw(st.integers(0, grid.width - 1))
    r0 = data.draw(st.integers(0, grid.height - 1))
    window = Window(c0, r0, data.draw(st.integers(1, grid.width - c0)), data.draw(st.integers(1, grid.height - r0)))
    max_tile_bytes = data.draw(budgets(grid.window(window), ["float32", "uint8"]))
    plan = plan_tiles(grid, ["float32", "uint8"], max_tile_bytes=max_tile_bytes, window=window)
    assert plan.area == window
    check_plan(plan, max_tile_bytes)
    assert all(window.contains(t.window) for t in plan.tiles)


@settings(max_examples=25, deadline=None)
@given(bands=st.integers(1025, 3000), dtype=st.sampled_from(["uint8", "float64"]), side=st.integers(1, 60))
def test_more_than_1024_bands_split_into_band_groups(bands: int, dtype: str, side: int) -> None:
    grid = PixelGrid(side, side, (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), "EPSG:4326")
    plan = plan_tiles(grid, [dtype] * bands)
    check_plan(plan, DEFAULT_MAX_TILE_BYTES)
    groups = {t.bands for t in plan.tiles}
    assert len(groups) == -(-bands // 1024)
    assert max(map(len, groups)) - min(map(len, groups)) <= 1  # balanced


def test_huge_grid_within_side_and_byte_limits() -> None:
    grid = PixelGrid(100_000, 70_000, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32633")
    plan = plan_tiles(grid, ["uint8"], max_tile_bytes=limits.MAX_REQUEST_BYTES)
    assert plan.tile_width <= limits.MAX_GRID_DIMENSION and plan.tile_width % 256 == 0
    assert sum(t.window.pixels for t in plan.tiles) == grid.width * grid.height
    assert all(plan.request_bytes(t) <= limits.MAX_REQUEST_BYTES for t in plan.tiles)


def test_default_plan_is_block_aligned_and_wide() -> None:
    grid = PixelGrid(10_000, 10_000, (10.0, 0.0, 500000.0, 0.0, -10.0, 4200000.0), "EPSG:32633")
    plan = plan_tiles(grid, ["uint16"] * 4)
    assert plan.tile_width % 256 == 0 and plan.tile_height % 256 == 0
    assert plan.tile_width >= plan.tile_height
    assert max(plan.request_bytes(t) for t in plan.tiles) <= DEFAULT_MAX_TILE_BYTES
    assert max(plan.request_bytes(t) for t in plan.tiles) > DEFAULT_MAX_TILE_BYTES // 2  # not needlessly small


def test_small_grid_is_one_tile() -> None:
    grid = PixelGrid(300, 200, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32633")
    plan = plan_tiles(grid, ["float32"])
    assert len(plan.tiles) == 1 and plan.tiles[0].grid == grid and plan.tiles[0].bands == (0,)


@settings(max_examples=100, deadline=None)
@given(grid=grids(max_side=1200), block=st.sampled_from([1, 16, 256]), data=st.data())
def test_split_covers_the_tile(grid: PixelGrid, block: int, data: st.DataObject) -> None:
    plan = plan_tiles(grid, ["int16"], max_tile_bytes=data.draw(budgets(grid, ["int16"])), block_size=block)
    tile = data.draw(st.sampled_from(plan.tiles))
    parts = plan.split(tile)
    if tile.window.pixels == 1:
        assert parts == (tile,)
        return
    assert 2 <= len(parts) <= 4
    count = np.zeros((grid.height, grid.width), dtype=np.int32)
    for p in parts:
        assert tile.window.contains(p.window) and p.bands == tile.bands and p.grid == grid.window(p.window)
        assert p.window.pixels <= (tile.window.pixels + 1) // 2 or min(tile.window.width, tile.window.height) == 1 or (
            p.window.width >= block
        )
        count[p.window.slices] += 1
    assert (count[tile.window.slices] == 1).all() and count.sum() == tile.window.pixels


def test_split_at_block_boundaries() -> None:
    grid = PixelGrid(2048, 1024, (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), "EPSG:4326")
    plan = plan_tiles(grid, ["uint8"], max_tile_bytes=10**8)
    (tile,) = plan.tiles
    parts = plan.split(tile)
    assert [(p.window.col_off, p.window.row_off, p.window.width, p.window.height) for p in parts] == [
        (0, 0, 1024, 512), (1024, 0, 1024, 512), (0, 512, 1024, 512), (1024, 512, 1024, 512)
    ]


@settings(max_examples=100, deadline=None)
@given(grid=grids(), data=st.data())
def test_window_transform_places_the_same_pixels(grid: PixelGrid, data: st.DataObject) -> None:
    c0 = data.draw(st.integers(0, grid.width - 1))
    r0 = data.draw(st.integers(0, grid.height - 1))
    sub = grid.window(Window(c0, r0, grid.width - c0, grid.height - r0))
    sx, shx, tx, shy, sy, ty = grid.transform
    for c, r in ((0, 0), (sub.width - 1, sub.height - 1)):
        x, y = sub.transform[0] * c + sub.transform[1] * r + sub.transform[2], sub.transform[3] * c + sub.transform[4] * r + sub.transform[5]
        assert x == pytest.approx(sx * (c + c0) + shx * (r + r0) + tx, rel=1e-12, abs=1e-6)
        assert y == pytest.approx(shy * (c + c0) + sy * (r + r0) + ty, rel=1e-12, abs=1e-6)
    assert sub.crs == grid.crs


def test_grid_from_api_forms() -> None:
    api = {
        "dimensions": {"width": 512, "height": 256},
        "affineTransform": {"scaleX": 10, "scaleY": -10, "translateX": 500000, "translateY": 4200000},
        "crsCode": "EPSG:32633",
    }
    grid = PixelGrid.from_api(api)
    assert grid == PixelGrid(512, 256, (10.0, 0.0, 500000.0, 0.0, -10.0, 4200000.0), "EPSG:32633")
    for version in (eerest.v1alpha, eerest.v1beta, eerest.v1):
        assert PixelGrid.from_api(version.types.PixelGrid.model_validate(api)) == grid
    assert PixelGrid.from_api(grid.to_api()) == grid
    assert grid.to_api()["crsCode"] == "EPSG:32633"
    wkt = 'PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84"]]'
    assert "crsWkt" in PixelGrid(1, 1, grid.transform, wkt).to_api()
    with pytest.raises(InvalidRequestError, match="affineTransform"):
        PixelGrid.from_api({"dimensions": {"width": 5, "height": 5}, "crsCode": "EPSG:4326"})
    with pytest.raises(InvalidRequestError, match="positive"):
        PixelGrid(0, 5, grid.transform, "EPSG:4326")
    with pytest.raises(InvalidRequestError, match="singular"):
        PixelGrid(5, 5, (0.0, 0.0, 0.0, 0.0, -1.0, 0.0), "EPSG:4326")
    with pytest.raises(InvalidRequestError, match="not inside"):
        grid.window(Window(500, 0, 13, 1))


def test_grid_from_bbox_snaps_outward() -> None:
    grid = PixelGrid.from_bbox("EPSG:32633", 10, (500003, 4100000, 500101, 4100095.5))
    assert grid.transform == (10.0, 0.0, 500000.0, 0.0, -10.0, 4100100.0)
    assert (grid.width, grid.height) == (11, 10)
    exact = PixelGrid.from_bbox("EPSG:4326", 0.1, (8.0, 47.0, 8.3, 47.2))  # 8.3 / 0.1 is 82.99999999999999
    assert (exact.width, exact.height) == (3, 2)
    with pytest.raises(InvalidRequestError):
        PixelGrid.from_bbox("EPSG:4326", 0, (0, 0, 1, 1))
    with pytest.raises(InvalidRequestError):
        PixelGrid.from_bbox("EPSG:4326", 1, (1, 0, 0, 1))


def test_bad_arguments_are_typed_errors() -> None:
    grid = PixelGrid(10, 10, (1.0, 0.0, 0.0, 0.0, -1.0, 0.0), "EPSG:4326")
    for kwargs in ({"max_tile_bytes": 0}, {"block_size": 0}, {"window": Window(5, 5, 6, 1)}):
        with pytest.raises(InvalidRequestError):
            plan_tiles(grid, ["uint8"], **kwargs)  # type: ignore[arg-type]
    for dtypes in ([], "uint8", ["object"], ["complex64"]):
        with pytest.raises(InvalidRequestError):
            plan_tiles(grid, dtypes)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        Window(0, 0, 0, 1)
