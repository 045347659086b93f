"""Xee, an xarray backend for Earth Engine that nobody here wrote, reads the sample collection
from the emulator through the official client, in the native grid and in EPSG:4326."""

from __future__ import annotations

import numpy as np
import pytest

ee = pytest.importorskip("ee")
xr = pytest.importorskip("xarray")
xee = pytest.importorskip("xee")
pyproj = pytest.importorskip("pyproj")
shapely = pytest.importorskip("shapely")

from emulator_helpers import SCENES, X0, Y0  # noqa: E402

# Xee's own deprecation notices (affine's `*`, shapely.ops.transform) are not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def stack(band: str, dates: list[str]) -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.stack([np.load(BUNDLED_DATA / "eerest" / "sample" / "scenes" / f"{d}.npy")[band] for d in dates])


@pytest.fixture
def ee_init(ee_emulator):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    yield ee_emulator
    ee.Reset()


def test_open_dataset_in_the_native_grid(ee_init):
    coll = ee.ImageCollection(SCENES)
    ds = xr.open_dataset(coll, engine="ee", **xee.helpers.extract_grid_params(coll))
    assert list(ds.data_vars) == ["blue", "green", "red", "nir"] and ds["nir"].shape == (5, 224, 224)
    assert str(ds.time.values[0]).startswith("2024-05-04T10:05:31")
    assert ds.x.values[0] == X0 + 5 and ds.y.values[0] == Y0 - 5
    dates = ["20240504", "20240524", "20240613", "20240703", "20240723"]
    np.testing.assert_array_equal(ds["nir"].values, stack("nir", dates).astype(np.float32))


def test_open_dataset_in_epsg_4326_over_a_geometry(ee_init):
    coll = ee.ImageCollection(SCENES).filterDate("2024-05-01", "2024-06-30")
    params = xee.helpers.fit_geometry(shapely.box(15.45, 47.945, 15.465, 47.955), grid_crs="EPSG:4326",
                                      grid_scale=(0.0002, -0.0002))
    ds = xr.open_dataset(coll, engine="ee", **params)
    red = ds["red"].values
    a, _, c, _, e, f = params["crs_transform"]
    w, h = params["shape_2d"]
    assert red.shape == (3, h, w)
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    x, y = pyproj.Transformer.from_crs(4326, 32633, always_xy=True).transform(c + a * u, f + e * v)
    want = stack("red", ["20240504", "20240524", "20240613"])[:, np.floor((Y0 - y) / 10).astype(int), np.floor((x - X0) / 10).astype(int)]
    np.testing.assert_array_equal(red, want.astype(np.float32))


def test_masked_pixels_are_nan_and_chunked_reads_agree(ee_init):
    coll = ee.ImageCollection(SCENES).select("red").map(lambda i: i.updateMask(i.gt(1000)))
    ds = xr.open_dataset(coll, engine="ee", fast_time_slicing=False, io_chunks={"time": 2, "x": 100, "y": 64},
                         **xee.helpers.extract_grid_params(coll))
    red = stack("red", ["20240504", "20240524", "20240613", "20240703", "20240723"])
    got = ds["red"].values
    np.testing.assert_array_equal(np.isnan(got), red <= 1000)
    np.testing.assert_array_equal(got[~np.isnan(got)], red[red > 1000].astype(np.float32))
