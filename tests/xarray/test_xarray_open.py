"""Opening: dims, coordinates, CRS, types, and what it costs (the emulator's request log)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import xarray as xr
from xarray_helpers import BANDS, ELEVATION, SCENES, engine_with_string_sources

import eerest.xarray
from eerest.errors import InvalidRequestError
from eerest.xarray import _reader, _source


def _api_requests(emulator):
    return [(r.method, r.path.rsplit("/", 1)[-1]) for r in emulator.requests]


@engine_with_string_sources
def test_collection_dims_coords_crs_dtypes(ee_client, ee_emulator):
    ds = xr.open_dataset(SCENES, engine="eerest", client=ee_client, chunks={})

    assert list(ds.data_vars) == BANDS
    assert dict(ds.sizes) == {"time": 5, "y": 224, "x": 224}
    for band in BANDS:
        assert ds[band].dims == ("time", "y", "x")
        assert ds[band].dtype == np.uint16
        assert ds[band].attrs["grid_mapping"] == "spatial_ref"
        assert ds[band].attrs["nodata"] == 0 and ds[band].attrs["_FillValue"] == 0
        assert ds[band].attrs["_FillValue"].dtype == np.uint16
    # pixel centres of the 10 m grid starting at (533120, 5311840)
    assert ds.x.values[0] == 533125.0 and ds.x.values[-1] == 533120.0 + 10 * 223 + 5
    assert ds.y.values[0] == 5311835.0 and np.all(np.diff(ds.y.values) == -10.0)
    ref = ds.spatial_ref.attrs
    assert ref["spatial_ref"].startswith(("EPSG:32633", "PROJCRS", "PROJCS"))
    assert ref["GeoTransform"].split() == ["533120.0", "10.0", "0.0", "5311840.0", "0.0", "-10.0"]
    times = ds.time.values.astype("datetime64[s]").astype(str).tolist()
    assert times == [
        "2024-05-04T10:05:31", "2024-05-24T10:05:31", "2024-06-13T10:05:31", "2024-07-03T10:05:31", "2024-07-23T10:05:31"
    ] or [t[:10] for t in times] == ["2024-05-04", "2024-05-24", "2024-06-13", "2024-07-03", "2024-07-23"]
    assert ds.CLOUD_COVER.dims == ("time",) and ds.CLOUD_COVER.values[0] == pytest.approx(2.18)
    assert ds.image.values[0] == f"{SCENES}/20240504"


def test_open_fetches_metadata_only(ee_client, ee_emulator):
    eerest.xarray.open_dataset(SCENES, client=ee_client)
    assert _api_requests(ee_emulator) == [("GET", "scenes"), ("POST", "imageCollection:computeImages")]


def test_reading_listed_images_costs_their_pixels_only(ee_client, ee_emulator):
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client)
    values = ds[BANDS[0]].isel(time=[0, 2]).compute(scheduler="threads")
    assert values.shape == (2, 224, 224)
    calls = _api_requests(ee_emulator)
    # the listing's metadata serves getPixels' checks: no assets.get of an image
    assert calls[:2] == [("GET", "scenes"), ("POST", "imageCollection:computeImages")]
    assert set(calls[2:]) == {("POST", "20240504:getPixels"), ("POST", "20240613:getPixels")}


def test_a_pickled_reader_leaves_the_listing_behind(ee_client):
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client)
    reader = ds[BANDS[0]].variable._data  # dask array: its graph holds the backend array's reader
    readers = [v for v in _graph_values(reader) if isinstance(v, _reader.WindowReader)]
    assert readers and readers[0]._listed
    state = readers[0].__getstate__()  # what pickling sends to another process
    assert state["_listed"] == {} and state["_client"] is None and state["images"] == readers[0].images


def _graph_values(array):
    seen = []

    def walk(value, depth=0):
        if depth > 12:
            return
        if isinstance(value, _reader.WindowReader):
            seen.append(value)
            return
        for attr in ("array", "reader", "_data", "args"):
            inner = getattr(value, attr, None)
            if inner is not None and inner is not value:
                walk(inner, depth + 1)
        if isinstance(value, (tuple, list)):
            for item in value:
                walk(item, depth + 1)

    for task in dict(array.__dask_graph__()).values():
        walk(task)
    return seen


def test_collection_of_1000_images_costs_its_listing_pages(small_client, small_emulator, monkeypatch):
    monkeypatch.setattr(_source, "_PAGE_SIZE", 300)
    ds = eerest.xarray.open_dataset("projects/test/assets/many", client=small_client)
    assert ds.sizes["time"] == 1000
    calls = _api_requests(small_emulator)
    assert calls == [("GET", "many")] + [("POST", "imageCollection:computeImages")] * math.ceil(1000 / 300)
    assert ds.INDEX.values.tolist() == list(range(1000))


def test_time_axis_sorted_by_start_time(small_client):
    ds = eerest.xarray.open_dataset("projects/test/assets/shuffled", client=small_client)
    assert bool(np.all(np.diff(ds.time.values) > np.timedelta64(0))), ds.time.values
    # image i starts on day 6 - i: the newest name comes first
    assert ds.INDEX.values.tolist() == [5, 4, 3, 2, 1, 0]
    assert ds.LABEL.values.tolist()[0] == "image 5"
    assert ds.a.isel(time=0, x=1, y=1).values == 5
    assert ds.b.sel(time="2020-01-07").values[1, 1] == 0


def test_image_dims_and_native_grid(ee_client):
    ds = xr.open_dataset(ELEVATION, engine="eerest", client=ee_client)
    assert list(ds.data_vars) == ["elevation"]
    assert ds.elevation.dims == ("y", "x") and ds.elevation.dtype == np.float32
    assert dict(ds.sizes) == {"y": 112, "x": 112}
    assert ds.x.values[0] == 533130.0  # 20 m pixels
    assert "time" not in ds.dims
    assert ds.attrs["units"] == "m"


def test_given_grid_and_band_ids(ee_client):
    grid = {
        "crsCode": "EPSG:32633",
        "dimensions": {"width": 30, "height": 20},
        "affineTransform": {"scaleX": 20.0, "scaleY": -20.0, "translateX": 533200.0, "translateY": 5311800.0},
    }
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client, grid=grid, band_ids=["nir", "red"])
    assert list(ds.data_vars) == ["nir", "red"]
    assert dict(ds.sizes) == {"time": 5, "y": 20, "x": 30}
    assert ds.x.values[0] == 533210.0


def test_backend_is_registered_and_guesses_asset_names():
    engines = xr.backends.list_engines()
    assert isinstance(engines["eerest"], eerest.xarray.EeRestBackendEntrypoint)
    assert engines["eerest"].guess_can_open(SCENES)
    assert not engines["eerest"].guess_can_open("scenes.nc")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"band_ids": ["red", "swir"]}, "has no band 'swir'"),
        ({"fill_value": 70000}, "does not fit its type uint16"),
        ({"fill_value": float("nan")}, "must be finite"),
        ({"fill_value": {"swir": 1}}, "names bands that are not read"),
    ],
)
def test_bad_arguments_raise_before_reading(ee_client, ee_emulator, kwargs, message):
    with pytest.raises(InvalidRequestError, match=message):
        eerest.xarray.open_dataset(SCENES, client=ee_client, **kwargs)
    assert not [r for r in ee_emulator.requests if "Pixels" in r.path]


def test_not_an_asset_name(ee_client):
    with pytest.raises(InvalidRequestError, match="not an asset name"):
        eerest.xarray.open_dataset("sample/scenes", client=ee_client)


def test_computed_image_needs_a_grid(ee_client):
    expression = {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.constant", "arguments": {"value": {"constantValue": 1}}}}}}
    with pytest.raises(InvalidRequestError, match="pass grid="):
        eerest.xarray.open_dataset(expression, client=ee_client)


def test_start_time_none_sorts_last():
    ref = _source.ImageRef("a", None, {}, None)
    later = _source.ImageRef("b", None, {}, dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    assert sorted([ref, later], key=_source._time_key) == [later, ref]
