"""Values: every read equals the direct single request, bit for bit; selections read only
their window; masked pixels; pickling; zarr."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import xarray as xr
from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials
from xarray_helpers import BANDS, ELEVATION, SCENES, engine_with_string_sources

import eerest.xarray
from eerest.errors import InvalidRequestError
from eerest.tiling import PixelGrid, plan_tiles

SCENE_DATES = ["20240504", "20240524", "20240613", "20240703", "20240723"]


def _direct(client, name, bands, grid=None):
    kwargs = {"grid": grid.to_api()} if grid is not None else {}
    return client.projects.assets.get_pixels(name=name, file_format="NPY", band_ids=bands, **kwargs).to_numpy()


def _pixel_requests(emulator):
    return [r for r in emulator.requests if r.path.endswith(("Pixels", ":getPixels", ":computePixels"))]


@engine_with_string_sources
def test_collection_compute_equals_direct_reads(ee_client):
    ds = xr.open_dataset(SCENES, engine="eerest", client=ee_client, chunks={}).compute()
    for t, date in enumerate(SCENE_DATES):
        direct = _direct(ee_client, f"{SCENES}/{date}", BANDS)
        for band in BANDS:
            got = ds[band].values[t]
            assert got.dtype == direct[band].dtype and got.tobytes() == direct[band].tobytes()


def test_each_chunk_is_one_request(ee_client, ee_emulator):
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client, chunks={"time": 1, "y": 100, "x": 128})
    assert ds.red.data.numblocks == (5, 3, 2)
    ee_emulator.app.clear_requests()
    red = ds.red.compute()
    requests = _pixel_requests(ee_emulator)
    assert len(requests) == 5 * 3 * 2
    assert {tuple(r.json()["bandIds"]) for r in requests} == {("red",)}
    grid = PixelGrid.from_api(_direct_grid(ee_client))
    full = np.stack([_direct(ee_client, f"{SCENES}/{d}", ["red"], grid)["red"] for d in SCENE_DATES])
    assert red.values.tobytes() == full.tobytes()


def _direct_grid(client):
    asset = client.projects.assets.get(name=f"{SCENES}/20240504")
    return asset.bands[0].grid


def test_chunks_larger_than_max_tile_bytes_take_a_few_requests(ee_client, ee_emulator):
    limit = 224 * 224 * 3 // 4  # a quarter of one 224x224 uint16 band, as the server counts it
    ds = eerest.xarray.open_dataset(
        SCENES, client=ee_client, chunks={"time": 1, "y": 224, "x": 224}, max_tile_bytes=limit
    )
    assert ds.nir.data.numblocks == (5, 1, 1)
    ee_emulator.app.clear_requests()
    got = ds.nir.isel(time=2).values
    requests = _pixel_requests(ee_emulator)
    assert len(requests) == 4
    for r in requests:
        dims = r.json()["grid"]["dimensions"]
        assert dims["width"] * dims["height"] * 3 <= limit
    assert got.tobytes() == _direct(ee_client, f"{SCENES}/20240613", ["nir"])["nir"].tobytes()


def test_default_chunks_come_from_the_tile_planner(ee_client):
    budget = 224 * 100 * 3
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client, max_tile_bytes=budget)
    plan = plan_tiles(PixelGrid.from_api(_direct_grid(ee_client)), ["uint16"], max_tile_bytes=budget)
    assert plan.tile_height < 224
    assert ds.red.data.chunksize == (1, plan.tile_height, plan.tile_width)


def test_isel_and_sel_read_only_their_window(ee_client, ee_emulator):
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client)
    x0, y0 = float(ds.x[10]), float(ds.y[20])
    sub = ds.sel(time="2024-06-13", x=slice(x0, x0 + 10 * 29), y=slice(y0, y0 - 10 * 14))
    assert dict(sub.sizes) == {"time": 1, "y": 15, "x": 30}
    ee_emulator.app.clear_requests()
    values = sub.green.values
    (request,) = _pixel_requests(ee_emulator)
    assert request.json()["grid"]["dimensions"] == {"width": 30, "height": 15}
    full = _direct(ee_client, f"{SCENES}/20240613", ["green"])["green"]
    assert values[0].tobytes() == full[20:35, 10:40].copy().tobytes()

    point = ds.blue.isel(time=-1, x=5, y=7).values
    assert point == _direct(ee_client, f"{SCENES}/20240723", ["blue"])["blue"][7, 5]
    strided = ds.nir.isel(time=slice(0, 5, 2), x=slice(0, 224, 3), y=slice(223, None, -5)).values
    direct = np.stack([_direct(ee_client, f"{SCENES}/{d}", ["nir"])["nir"] for d in SCENE_DATES[::2]])
    assert strided.tobytes() == direct[:, 223::-5, ::3].copy().tobytes()


def test_image_with_native_and_given_grid(ee_client):
    ds = eerest.xarray.open_dataset(ELEVATION, client=ee_client)
    direct = _direct(ee_client, ELEVATION, ["elevation"])["elevation"]
    assert ds.elevation.dtype == np.float32
    assert ds.elevation.values.tobytes() == direct.tobytes()
    grid = PixelGrid.from_bbox("EPSG:32633", 10, (533200, 5310000, 534000, 5311000))
    ds = eerest.xarray.open_dataset(ELEVATION, client=ee_client, grid=grid)
    assert ds.elevation.values.tobytes() == _direct(ee_client, ELEVATION, ["elevation"], grid)["elevation"].tobytes()


def _ndvi_expression():
    load = {"functionInvocationValue": {"functionName": "Image.load", "arguments": {"id": {"constantValue": f"{SCENES}/20240613"}}}}
    return {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.normalizedDifference",
        "arguments": {"input": {"valueReference": "1"}, "bandNames": {"constantValue": ["nir", "red"]}}}}, "1": load}}


def test_computed_image_equals_compute_pixels(ee_client, ee_emulator):
    grid = PixelGrid.from_bbox("EPSG:32633", 10, (533200, 5310000, 534000, 5311000))
    ds = eerest.xarray.open_dataset(_ndvi_expression(), client=ee_client, grid=grid)
    assert [r.path.rsplit(":", 1)[-1] for r in ee_emulator.requests] == ["computePixels"]  # the 1x1 probe
    direct = ee_client.projects.image.compute_pixels(
        expression=_ndvi_expression(), file_format="NPY", grid=grid.to_api()
    ).to_numpy()
    assert list(ds.data_vars) == list(direct.dtype.names)
    name = direct.dtype.names[0]
    assert ds[name].dtype == direct[name].dtype
    assert ds[name].values.tobytes() == direct[name].tobytes()


def _masked_expression():
    """The 20240504 scene with pixels masked where red > 1000."""
    load = {"functionInvocationValue": {"functionName": "Image.load", "arguments": {"id": {"constantValue": f"{SCENES}/20240504"}}}}
    select = {"functionInvocationValue": {"functionName": "Image.select", "arguments": {
        "input": {"valueReference": "load"}, "bandSelectors": {"constantValue": ["red"]}}}}
    threshold = {"functionInvocationValue": {"functionName": "Image.lte", "arguments": {
        "image1": {"valueReference": "red"}, "image2": {"functionInvocationValue": {
            "functionName": "Image.constant", "arguments": {"value": {"constantValue": 1000}}}}}}}
    masked = {"functionInvocationValue": {"functionName": "Image.updateMask", "arguments": {
        "image": {"valueReference": "load"}, "mask": {"valueReference": "keep"}}}}
    return {"result": "out", "values": {"load": load, "red": select, "keep": threshold, "out": masked}}


def test_fill_value_of_masked_pixels_keeps_the_dtype(ee_client):
    grid = PixelGrid.from_api(_direct_grid(ee_client))
    plain = eerest.xarray.open_dataset(_masked_expression(), client=ee_client, grid=grid)
    filled = eerest.xarray.open_dataset(
        _masked_expression(), client=ee_client, grid=grid, fill_value={"red": 65535, "nir": 9999}
    )
    red0, red = plain.red.values, filled.red.values
    assert red.dtype == np.uint16 and filled.nir.dtype == np.uint16
    assert filled.red.attrs["nodata"] == 65535 and filled.red.attrs["_FillValue"] == 65535
    assert filled.blue.attrs["nodata"] == 0
    original = _direct(ee_client, f"{SCENES}/20240504", ["red", "nir"])
    masked = original["red"] > 1000
    assert masked.any() and (~masked).any()
    assert np.array_equal(red0, np.where(masked, 0, original["red"]))
    assert np.array_equal(red, np.where(masked, 65535, original["red"]))
    assert np.array_equal(filled.nir.values, np.where(masked, 9999, original["nir"]))


def test_fill_value_of_a_stored_image_with_missing_data(small_client, small_emulator):
    ds = eerest.xarray.open_dataset("projects/test/assets/shuffled", client=small_client, fill_value={"a": 65535})
    a = ds.a.values
    assert a.dtype == np.uint16 and (a[:, 0, 0] == 65535).all()
    assert (a[:, 1:, :] == ds.INDEX.values[:, None, None]).all()
    paths = {r.path.rsplit(":", 1)[-1] for r in small_emulator.requests if ":" in r.path}
    assert "computePixels" in paths  # unmask runs on the server
    ds.b.values  # noqa: B018
    assert any(r.path.endswith(":getPixels") for r in small_emulator.requests)  # band b: no fill, stored read


def test_pickle_round_trip_carries_configuration_not_client(ee_emulator):
    ds = eerest.xarray.open_dataset(
        SCENES, project=EMULATOR_PROJECT, base_url=ee_emulator.url, credentials_factory=emulator_credentials
    )
    blob = pickle.dumps(ds)
    graph = pickle.dumps(dict(ds.red.data.__dask_graph__()))  # what dask ships to workers
    for forbidden in (b"httpx", b"google.oauth2", b"Bearer", b"_http", b"Limiter", b"SyncClientBase"):
        assert forbidden not in blob and forbidden not in graph
    assert b"eerest.xarray._config" in graph and b"emulator_credentials" in graph  # the configuration
    again = pickle.loads(blob)
    assert again.red.isel(time=1).values.tobytes() == ds.red.isel(time=1).values.tobytes()
    assert again.spatial_ref.attrs == ds.spatial_ref.attrs


def test_pickling_a_live_client_with_explicit_credentials_is_refused(ee_client):
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client)
    assert ds.red.isel(time=0, x=0, y=0).values.dtype == np.uint16  # works in this process
    with pytest.raises(InvalidRequestError, match="credentials_factory="):
        pickle.dumps(ds)
    portable = eerest.xarray.open_dataset(SCENES, client=ee_client, credentials_factory=emulator_credentials)
    assert pickle.loads(pickle.dumps(portable)).nir.isel(time=0, x=3, y=3).values == ds.nir.isel(time=0, x=3, y=3).values


def test_to_zarr_round_trip(unthrottled_client, tmp_path):
    pytest.importorskip("zarr")
    ds = eerest.xarray.open_dataset(SCENES, client=unthrottled_client, chunks={"time": 1, "y": 112, "x": 112})
    ds.to_zarr(tmp_path / "scenes.zarr", zarr_format=2)
    back = xr.open_zarr(tmp_path / "scenes.zarr", mask_and_scale=False)
    for band in BANDS:
        assert back[band].dtype == np.uint16
        assert back[band].values.tobytes() == ds[band].values.tobytes()
    assert back.time.values.tolist() == ds.time.values.tolist()


def test_rioxarray_reads_crs_transform_nodata_and_writes_geotiff(ee_client, tmp_path):
    rioxarray = pytest.importorskip("rioxarray")
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client)
    assert ds.rio.crs.to_epsg() == 32633
    assert tuple(ds.rio.transform())[:6] == (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0)
    assert ds.red.rio.nodata == 0 and ds.red.rio.nodata.dtype == np.uint16
    ds.red.isel(time=0).rio.to_raster(tmp_path / "red.tif")
    back = rioxarray.open_rasterio(tmp_path / "red.tif")
    assert back.dtype == np.uint16 and back.rio.crs.to_epsg() == 32633
    assert back.values[0].tobytes() == ds.red.isel(time=0).values.tobytes()


def _call(name, **arguments):
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def _computed_collection(*, mapped=False):
    """The scenes with CLOUD_COVER < 10 (``mapped``: each plus 1, an image without an id)."""
    one = _call("Image.constant", value={"constantValue": 1})
    values = {
        "scenes": _call("ImageCollection.load", id={"constantValue": SCENES}),
        "clear": _call("Collection.filter", collection={"valueReference": "scenes"},
                       filter=_call("Filter.lessThan", leftField={"constantValue": "CLOUD_COVER"},
                                    rightValue={"constantValue": 10})),
    }
    if not mapped:
        return {"result": "clear", "values": values}
    values["plus_one"] = {"functionDefinitionValue": {"argumentNames": ["img"], "body": "body"}}
    values["body"] = _call("Image.add", image1={"argumentReference": "img"}, image2=one)
    values["mapped"] = _call("Collection.map", collection={"valueReference": "clear"},
                             baseAlgorithm={"valueReference": "plus_one"})
    return {"result": "mapped", "values": values}


def test_computed_collection_reads_each_image_with_compute_pixels(ee_client, ee_emulator):
    ds = eerest.xarray.open_dataset(_computed_collection(), client=ee_client, band_ids=["red"])
    assert [r.path.rsplit(":", 1)[-1] for r in ee_emulator.requests] == ["computeImages"]
    assert ds.sizes["time"] == 3 and ds.CLOUD_COVER.values.tolist() == [2.18, 0.0, 6.47]
    ee_emulator.app.clear_requests()
    red = ds.red.values
    assert {r.path.rsplit(":", 1)[-1] for r in ee_emulator.requests} == {"computePixels"}
    for t, date in enumerate(["20240504", "20240613", "20240723"]):
        assert red[t].tobytes() == _direct(ee_client, f"{SCENES}/{date}", ["red"])["red"].tobytes()


def test_computed_collection_of_images_without_ids_is_refused(ee_client):
    with pytest.raises(InvalidRequestError, match="has no id, so it cannot be read alone"):
        eerest.xarray.open_dataset(_computed_collection(mapped=True), client=ee_client)


def test_ee_objects_are_sources(ee_client, ee_emulator):
    ee = pytest.importorskip("ee")
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    try:
        collection = ee.ImageCollection(SCENES).filter(ee.Filter.lt("CLOUD_COVER", 5))
        ds = eerest.xarray.open_dataset(collection, client=ee_client, band_ids=["nir"])
        assert ds.nir.dims == ("time", "y", "x") and ds.sizes["time"] == 2
        image = ee.Image(f"{SCENES}/20240504").select(["nir"])
        one = eerest.xarray.open_dataset(image, client=ee_client, grid=PixelGrid.from_api(_direct_grid(ee_client)))
        assert one.nir.dims == ("y", "x")
        assert one.nir.values.tobytes() == ds.nir.isel(time=0).values.tobytes()
    finally:
        ee.Reset()


def test_compute_equals_read_area_with_small_chunks(unthrottled_client):
    grid = PixelGrid.from_bbox("EPSG:32633", 7, (533300, 5310000, 534300, 5311100))  # resampled, odd sizes
    ds = eerest.xarray.open_dataset(SCENES, client=unthrottled_client, grid=grid, chunks={"time": 2, "y": 97, "x": 61})
    computed = ds.isel(time=slice(0, 3)).compute()
    for t, date in enumerate(SCENE_DATES[:3]):
        area = unthrottled_client.read_area(f"{SCENES}/{date}", grid=grid, max_tile_bytes=64 * 64 * 12)
        for band in BANDS:
            assert computed[band].values[t].tobytes() == area[band].tobytes()
    image = unthrottled_client.read_area(_ndvi_expression(), grid=grid, max_tile_bytes=64 * 64 * 5)
    ndvi = eerest.xarray.open_dataset(_ndvi_expression(), client=unthrottled_client, grid=grid, chunks={"y": 50, "x": 50})
    name = image.dtype.names[0]
    assert ndvi[name].values.tobytes() == image[name].tobytes()
