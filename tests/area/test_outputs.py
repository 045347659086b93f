"""read_area's outputs as GIS tools read them: masks and fill values, GeoTIFF/COG (checked
with GDAL through rasterio, and rio-cogeo), against the emulator."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eerest
from eerest.tiling import PixelGrid, plan_tiles

from .test_read_area import ELEVATION, SCENE, load, one_request

BANDS = ["blue", "green", "red", "nir"]
# Over the sample scene's north-west corner and beyond it: masked pixels outside.
UTM = PixelGrid(90, 70, (10.0, 0.0, 532800.0, 0.0, -10.0, 5312100.0), "EPSG:32633")


@pytest.fixture
def ee_client(unthrottled_client: Any) -> Any:
    return unthrottled_client


def valid_mask(c: Any, grid: PixelGrid) -> np.ndarray:
    """The scene's own mask (1: data) from one request of ``Image.mask``."""
    expr = load(SCENE)
    expr["values"]["m"] = {
        "functionInvocationValue": {"functionName": "Image.mask", "arguments": {"image": {"valueReference": "0"}}}
    }
    expr["result"] = "m"
    return one_request(c, expr, grid, None)


def test_mask_gives_a_masked_array(ee_client: Any) -> None:
    one = one_request(ee_client, SCENE, UTM, None)
    valid = valid_mask(ee_client, UTM)
    assert 0 < (valid["red"] == 0).sum() < valid.size  # the grid holds masked and unmasked pixels
    arr = ee_client.read_area(SCENE, grid=UTM, mask=True, max_tile_bytes=3000, block_size=16)
    assert isinstance(arr, np.ma.MaskedArray) and arr.dtype == one.dtype
    assert arr.data.tobytes() == one.tobytes()  # masked pixels: 0, as the service sends them
    for band in BANDS:
        assert (arr.mask[band] == (valid[band] == 0)).all()
    plain = np.zeros((70, 90, 4), np.float32)
    arr = ee_client.read_area(SCENE, grid=UTM, mask=True, out=plain, max_tile_bytes=3000)
    assert arr.data is plain or arr.data.base is plain
    assert (arr.mask == np.stack([valid[b] == 0 for b in BANDS], axis=-1)).all()


async def test_fill_value_async(ee_emulator: Any) -> None:
    from eerest_emulator.testing import emulator_credentials

    async with eerest.AsyncClient(
        project="eerest", base_url=ee_emulator.url, credentials=emulator_credentials(), max_requests_per_second=None
    ) as c:
        arr = await c.read_area(SCENE, grid=UTM, fill_value={"red": 65535, "nir": 7}, max_tile_bytes=3000)
    with eerest.Client(project="eerest", base_url=ee_emulator.url, credentials=emulator_credentials()) as c:
        one = one_request(c, SCENE, UTM, None)
        valid = valid_mask(c, UTM)
    for band, fill in (("red", 65535), ("nir", 7), ("blue", 0)):
        masked = valid[band] == 0
        assert (arr[band][masked] == fill).all() and (arr[band][~masked] == one[band][~masked]).all()


def test_fill_value_must_fit_the_band(ee_client: Any, ee_emulator: Any) -> None:
    with pytest.raises(eerest.InvalidRequestError, match="does not fit"):
        ee_client.read_area(SCENE, grid=UTM, fill_value=-1)
    with pytest.raises(eerest.InvalidRequestError, match="one nodata value"):
        ee_client.read_area(SCENE, grid=UTM, fill_value={"red": 1, "nir": 2}, out="/tmp/never.tif")
    assert not [r for r in ee_emulator.requests if r.grid and r.grid["dimensions"]["width"] > 1]


def test_npy_with_mask_file(ee_client: Any, tmp_path: Path) -> None:
    arr = ee_client.read_area(SCENE, grid=UTM, mask=True, fill_value=9, max_tile_bytes=3000)
    path = ee_client.read_area(SCENE, grid=UTM, mask=True, fill_value=9, out=tmp_path / "a.npy", max_tile_bytes=3000)
    assert sorted(os.listdir(tmp_path)) == ["a.mask.npy", "a.npy"]
    data, mask = np.load(path), np.load(tmp_path / "a.mask.npy")
    assert data.tobytes() == arr.data.tobytes() and mask.tobytes() == arr.mask.tobytes()
    assert (data["red"][mask["red"]] == 9).all()


def rio(path: str) -> Any:
    rasterio = pytest.importorskip("rasterio")
    return rasterio.open(path)


def cog_valid(path: str) -> bool:
    cogeo = pytest.importorskip("rio_cogeo.cogeo")
    valid, errors, _warnings = cogeo.cog_validate(path, quiet=True)
    assert not errors, errors
    return bool(valid)


GRIDS = {
    "EPSG:4326": PixelGrid(80, 60, (0.0002, 0.0, 15.43, 0.0, -0.0002, 47.955), "EPSG:4326"),
    "EPSG:32633": PixelGrid(300, 270, (10.0, 0.0, 532800.0, 0.0, -10.0, 5312100.0), "EPSG:32633"),
    "EPSG:3857": PixelGrid(120, 90, (15.0, 0.0, 1717600.0, 0.0, -15.0, 6096000.0), "EPSG:3857"),
    "EPSG:900913": PixelGrid(120, 90, (15.0, 0.0, 1717600.0, 0.0, -15.0, 6096000.0), "EPSG:900913"),
    "ESRI:54009": PixelGrid(100, 80, (12.0, 0.0, 1200000.0, 0.0, -12.0, 5680000.0), "ESRI:54009"),
}


@pytest.mark.parametrize("crs", sorted(GRIDS))
def test_geotiff_as_gdal_reads_it(ee_client: Any, tmp_path: Path, crs: str) -> None:
    rasterio = pytest.importorskip("rasterio")
    grid = GRIDS[crs]
    arr = ee_client.read_area(SCENE, grid=grid, fill_value=65535, max_tile_bytes=20000, block_size=32)
    plain = np.stack([arr[b] for b in BANDS])
    for compress in ("deflate", "none"):
        path = ee_client.read_area(
            SCENE,
            grid=grid,
            fill_value=65535,
            out=tmp_path / f"{compress}.tif",
            compress=compress,
            max_tile_bytes=20000,
            block_size=32,
        )
        with rio(path) as ds:
            assert ds.crs == rasterio.crs.CRS.from_user_input(crs)
            assert tuple(ds.transform)[:6] == (
                grid.transform[0],
                grid.transform[1],
                grid.transform[2],
                grid.transform[3],
                grid.transform[4],
                grid.transform[5],
            )
            assert ds.nodata == 65535 and ds.descriptions == tuple(BANDS)
            assert (ds.read() == plain).all()
        if compress == "deflate":
            assert cog_valid(path)
    assert sorted(os.listdir(tmp_path)) == ["deflate.tif", "none.tif"]


def test_cog_with_overviews_mask_and_zstd(ee_client: Any, tmp_path: Path) -> None:
    grid = GRIDS["EPSG:32633"]
    arr = ee_client.read_area(SCENE, grid=grid, mask=True, max_tile_bytes=20000, block_size=64)
    kinds = ["deflate", "none"]
    try:
        import zstandard  # noqa: F401

        kinds.append("zstd")
    except ImportError:
        pass
    for compress in kinds:
        path = ee_client.read_area(
            SCENE,
            grid=grid,
            mask=True,
            out=tmp_path / f"{compress}.tif",
            compress=compress,
            overviews=True,
            max_tile_bytes=20000,
            block_size=64,
        )
        with rio(path) as ds:
            assert ds.overviews(1) == [2, 4, 8] and ds.nodata is None
            assert (ds.read() == np.stack([arr.data[b] for b in BANDS])).all()
            every = np.stack([arr.mask[b] for b in BANDS]).any(axis=0)
            assert ((ds.read_masks(1) == 0) == every).all()  # one mask: valid where every band is
        rasterio = pytest.importorskip("rasterio")
        with rasterio.open(path, overview_level=0) as half:  # nearest neighbour: every other pixel
            assert half.shape == (135, 150) and (half.read(2) == arr.data["green"][::2, ::2]).all()
        assert cog_valid(path)


def test_float_bands_and_windows_unaligned(ee_client: Any, tmp_path: Path) -> None:
    from eerest.tiling import Window

    grid = PixelGrid(200, 150, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    window = Window(7, 13, 170, 120)
    expr = load(ELEVATION)
    arr = ee_client.read_area(expr, grid=grid, window=window, max_tile_bytes=2000, block_size=16)
    path = ee_client.read_area(
        expr, grid=grid, window=window, out=tmp_path / "e.tif", max_tile_bytes=2000, block_size=16
    )
    with rio(path) as ds:
        assert ds.dtypes[0] == "float32" and (ds.read(1) == arr["elevation"]).all()
        assert ds.transform.c == 533120.0 + 70.0 and ds.transform.f == 5311840.0 - 130.0
    assert cog_valid(path)


def test_a_crs_no_geotiff_can_name_fails_before_any_request(ee_client: Any, ee_emulator: Any, tmp_path: Path) -> None:
    grid = PixelGrid(10, 10, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:999999")
    with pytest.raises(eerest.InvalidRequestError, match="999999"):
        ee_client.read_area(SCENE, grid=grid, out=tmp_path / "x.tif")
    assert ee_emulator.requests == [] and os.listdir(tmp_path) == []


def test_failure_removes_the_partial_file(ee_emulator: Any, ee_client: Any, tmp_path: Path) -> None:
    for name in ("a.tif", "b.npy"):  # mask=True: the tiles are computePixels requests
        ee_emulator.faults.fail(403, count=1, message="Permission denied on the asset.", path=":computePixels")
        with pytest.raises(eerest.PermissionDeniedError):
            ee_client.read_area(SCENE, grid=UTM, out=tmp_path / name, mask=True, max_tile_bytes=3000)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("masked", [False, True])
def test_zarr_opens_with_xarray_and_rioxarray(ee_client: Any, tmp_path: Path, masked: bool) -> None:
    pytest.importorskip("zarr", minversion="3")
    xr = pytest.importorskip("xarray")
    pytest.importorskip("rioxarray")
    grid = GRIDS["EPSG:32633"]
    kwargs: dict[str, Any] = {"mask": True} if masked else {"fill_value": 65535}
    arr = ee_client.read_area(SCENE, grid=grid, max_tile_bytes=20000, block_size=32, **kwargs)
    path = ee_client.read_area(SCENE, grid=grid, out=tmp_path / "a.zarr", max_tile_bytes=20000, block_size=32, **kwargs)
    assert os.listdir(tmp_path) == ["a.zarr"]
    with xr.open_zarr(path, mask_and_scale=False) as ds:
        assert ds.rio.crs.to_string() == "EPSG:32633"
        assert tuple(ds.rio.transform())[:6] == (10.0, 0.0, 532800.0, 0.0, -10.0, 5312100.0)
        for band in BANDS:
            values = arr.data[band] if masked else arr[band]
            assert ds[band].dtype == values.dtype and (ds[band].values == values).all()
            if masked:
                assert (ds[f"{band}_mask"].values == arr.mask[band]).all()
            else:
                assert ds[band].rio.nodata == 65535
        bands = ["uint16"] * 4 + (["uint8"] * 4 if masked else [])  # with mask=True, the validity bands too
        plan = plan_tiles(grid, bands, max_tile_bytes=20000, block_size=32)
        assert ds[BANDS[0]].encoding["chunks"] == (plan.tile_height, plan.tile_width)  # a chunk per tile


def test_zarr_resumes(ee_emulator: Any, tmp_path: Path) -> None:
    pytest.importorskip("zarr", minversion="3")
    xr = pytest.importorskip("xarray")
    from eerest_emulator.testing import emulator_credentials

    grid = GRIDS["EPSG:32633"]
    with eerest.Client(
        project="eerest",
        base_url=ee_emulator.url,
        credentials=emulator_credentials(),
        max_retries=0,
        max_requests_per_second=None,
    ) as c:
        arr = c.read_area(SCENE, grid=grid, max_tile_bytes=20000, block_size=32)
        ee_emulator.faults.slow(0.01, count=5, path=":getPixels")
        ee_emulator.faults.fail(500, count=1, path=":getPixels")
        with pytest.raises(eerest.InternalServerError):
            c.read_area(
                SCENE,
                grid=grid,
                out=tmp_path / "a.zarr",
                max_tile_bytes=20000,
                block_size=32,
                resume=True,
                max_concurrency=2,
            )
        assert sorted(os.listdir(tmp_path)) == ["a.zarr.partial", "a.zarr.partial.resume"]
        ee_emulator.app.clear_requests()
        path = c.read_area(SCENE, grid=grid, out=tmp_path / "a.zarr", max_tile_bytes=20000, block_size=32, resume=True)
        total = len(plan_tiles(grid, ["uint16"] * 4, max_tile_bytes=20000, block_size=32).tiles)
        assert len([r for r in ee_emulator.requests if r.grid]) <= total - 4 + 2  # only what was missing
    with xr.open_zarr(path) as ds:
        assert all((ds[b].values == arr[b]).all() for b in BANDS)
    assert os.listdir(tmp_path) == ["a.zarr"]


@pytest.mark.parametrize("bigtiff", [False, True])
def test_cog_writer_classic_and_bigtiff(tmp_path: Path, bigtiff: bool) -> None:
    from eerest._formats.cog_write import CogSpec, TileStore, overview_levels, write_cog
    from eerest._formats.geotiff_write import gdal_tags, geotiff_tags

    width, height, tile = 700, 500, 256
    grid = PixelGrid(width, height, (10.0, 0.0, 500000.0, 0.0, -10.0, 5300000.0), "EPSG:32633")
    data = np.random.default_rng(0).normal(size=(2, height, width)).astype("<f4")
    tags = tuple(geotiff_tags(grid) + gdal_tags(None, ["a", "b"]))
    spec = CogSpec(
        width, height, 2, np.dtype("<f4"), tile, "deflate", overview_levels(width, height, tile), False, tags
    )
    store = TileStore(str(tmp_path / "staging"), spec)
    down, across = spec.grid(0)
    for band in range(2):
        for ty in range(down):
            for tx in range(across):
                block = np.zeros((tile, tile), "<f4")
                part = data[band, ty * tile : (ty + 1) * tile, tx * tile : (tx + 1) * tile]
                block[: part.shape[0], : part.shape[1]] = part
                store.put((0, band, ty, tx), block)
    store.build_overviews()
    write_cog(str(tmp_path / "a.tif"), store, bigtiff=bigtiff)
    store.close()
    with open(tmp_path / "a.tif", "rb") as f:
        assert f.read(4) == (b"II+\0" if bigtiff else b"II*\0")
    with rio(str(tmp_path / "a.tif")) as ds:
        assert (ds.read() == data).all() and ds.overviews(1) == [2, 4] and ds.descriptions == ("a", "b")
    assert cog_valid(str(tmp_path / "a.tif"))
