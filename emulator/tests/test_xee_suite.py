"""Cases of Xee's own integration suite (xee/ext_integration_test.py), ported from the public
datasets they name (Landsat, ERA5, SRTM: not in the emulator) to the bundled sample, with
the same calls and the same kind of assertion; expected values from numpy/pyproj (default
tier). The published suite itself runs, vendored verbatim, against stand-ins of the public
datasets it opens in tests/emulator/third_party (slow tier; 33 of 33 pass)."""

from __future__ import annotations

import numpy as np
import pytest

ee = pytest.importorskip("ee")
xr = pytest.importorskip("xarray")
xee = pytest.importorskip("xee")
pyproj = pytest.importorskip("pyproj")
pytest.importorskip("shapely")

from emulator_helpers import ELEVATION, SCENE, SCENES, X0, Y0  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def scene(date: str = "20240504") -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "scenes" / f"{date}.npy")


@pytest.fixture
def ee_init(ee_emulator):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    yield ee_emulator
    ee.Reset()


#: A small grid over the sample in EPSG:4326 (Xee's _TEST_GRID_PARAMS is global, 1 degree).
GRID_4326 = {"crs": "EPSG:4326", "crs_transform": (0.0005, 0, 15.444, 0, -0.0005, 47.959), "shape_2d": (58, 40)}


def test_honors_geometry_simple_utm(ee_init):
    """Xee's case: a projected grid given by crs_transform and shape_2d (4 x 2 pixels), with
    pixelLonLat added; here 30 m pixels inside the sample."""
    ic = ee.ImageCollection([ee.Image(SCENE).select(0).addBands(ee.Image.pixelLonLat())])
    x0, y0 = X0 + 305, Y0 - 605
    ds = xr.open_dataset(ic, engine=xee.EarthEngineBackendEntrypoint, crs="EPSG:32633",
                         crs_transform=(30, 0, x0, 0, -30, y0), shape_2d=(2, 4))
    assert dict(ds.sizes) == {"time": 1, "y": 4, "x": 2}
    u, v = np.meshgrid(np.arange(2) + 0.5, np.arange(4) + 0.5)
    x, y = x0 + 30 * u, y0 - 30 * v
    lon, lat = pyproj.Transformer.from_crs(32633, 4326, always_xy=True).transform(x, y)
    np.testing.assert_allclose(ds["latitude"].values[0], lat, rtol=1e-7)
    np.testing.assert_allclose(ds["longitude"].values[0], lon, rtol=1e-7)
    want = scene()["blue"][np.floor((Y0 - y) / 10).astype(int), np.floor((x - X0) / 10).astype(int)]
    np.testing.assert_array_equal(ds["blue"].values[0], want)


def test_open_dataset_image_to_imagecollection(ee_init):
    img = ee.Image(ELEVATION)
    ds1 = xr.open_dataset(img, engine="ee", **GRID_4326)
    ds2 = xr.open_dataset(ee.ImageCollection(img), engine="ee", **GRID_4326)
    assert ds1.identical(ds2)


def test_data_sanity_check(ee_init):
    """Xee's case found scale_y left positive (all zeros); elevation is never 0 in the sample."""
    ds = xr.open_dataset(ee.ImageCollection([ee.Image(ELEVATION)]), engine="ee", **GRID_4326)
    e = ds.isel(time=0)["elevation"]
    assert float(e.min()) > 100 and float(e.max()) < 500


def test_validate_band_attrs(ee_init):
    ds = xee.EarthEngineBackendEntrypoint().open_dataset(
        f"ee:{SCENES}", drop_variables=("green", "red"), n_images=3, **GRID_4326)
    assert list(ds.data_vars) == ["blue", "nir"] and ds.sizes["time"] == 3
    valid = (str, int, float, complex, np.ndarray, np.number, list, tuple)
    assert all(isinstance(v, valid) for v in ds.attrs.values())
    assert all(isinstance(v, valid) for var in ds.variables.values() for v in var.attrs.values())


def test_can_chunk_opened_dataset(ee_init):
    ds = xr.open_dataset(f"ee://{SCENES}", engine=xee.EarthEngineBackendEntrypoint, n_images=2, **GRID_4326)
    got = ds.isel(time=slice(0, 1)).chunk().compute()
    assert got["red"].shape == (1, 40, 58) and float(got["red"].max()) > 0


def test_fast_time_slicing(ee_init):
    """Slow slicing reads the collection as built (its first image replaced by a 0 image);
    fast slicing reads the images by system:id (the originals)."""
    band = "red"
    coll = ee.ImageCollection(SCENES).select(band)
    first = coll.first()
    fake = ee.ImageCollection(coll.toList(count=coll.size()).replace(
        first, ee.Image(0).rename(band).copyProperties(first, ["system:id", "system:time_start"])))
    params = dict(filename_or_obj=fake, engine=xee.EarthEngineBackendEntrypoint, crs="EPSG:32633",
                  crs_transform=(10, 0, X0, 0, -10, Y0), shape_2d=(4, 3))
    slow = xr.open_dataset(**params)[{"time": 0}][band].values
    assert np.all(slow == 0)
    fast = xr.open_dataset(**params, fast_time_slicing=True)[{"time": 0}][band].values
    np.testing.assert_array_equal(fast, scene()["red"][:3, :4])


def test_extract_grid_params_from_image_and_collection(ee_init):
    p = xee.helpers.extract_grid_params(ee.Image(SCENE))
    assert p["shape_2d"] == (224, 224) and p["crs"] == "EPSG:32633"
    assert np.allclose(p["crs_transform"], [10, 0, X0, 0, -10, Y0])
    p = xee.helpers.extract_grid_params(ee.ImageCollection(SCENES))
    assert p["shape_2d"] == (224, 224) and p["crs"] == "EPSG:32633"
    p = xee.helpers.extract_grid_params(ee.Image(ELEVATION))
    assert p["shape_2d"] == (112, 112) and np.allclose(p["crs_transform"], [20, 0, X0, 0, -20, Y0])
    with pytest.raises(TypeError):
        xee.helpers.extract_grid_params("a string object")
