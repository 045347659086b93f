"""geedim, a downloader that nobody here wrote, against the emulator through the official
client: it asks for its tiles with getDownloadURL(crs, crs_transform, dimensions) in GeoTIFF,
so these pass only when a projection's affine transform is applied exactly. Compared with
numpy on the sample files. Slow tier: geedim starts thread pools and an event loop."""

from __future__ import annotations

import numpy as np
import pytest

ee = pytest.importorskip("ee")
pyproj = pytest.importorskip("pyproj")
geedim = pytest.importorskip("geedim")  # registers the .gd accessors

from emulator_helpers import SCENE, SCENES, X0, Y0  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]
DATES = ["20240504", "20240524", "20240613", "20240703", "20240723"]


def scene(date: str = "20240504") -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "scenes" / f"{date}.npy")


@pytest.fixture
def ee_init(ee_emulator):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    yield ee_emulator
    ee.Reset()


def test_download_an_image_in_one_tile_and_in_many(ee_init):
    s = scene()
    img = ee.Image(SCENE)
    assert img.gd.crs == "EPSG:32633" and img.gd.shape == (224, 224)
    assert tuple(img.gd.transform) == (10.0, 0.0, X0, 0.0, -10.0, Y0)
    for kwargs in ({}, {"max_tile_size": 0.05, "max_tile_dim": 64}):  # 1 tile; 16 tiles of 64 x 64 at most
        a = img.gd.toNumPy(**kwargs)
        assert a.shape == (224, 224, 4)
        for i, band in enumerate(s.dtype.names):
            np.testing.assert_array_equal(a[..., i], s[band])


def test_median_composite_of_the_sample_collection(ee_init):
    comp = ee.ImageCollection(SCENES).gd.composite("median", mask=False)
    assert comp.gd.shape == (224, 224)
    a = comp.gd.toNumPy(max_tile_size=0.2)
    for i, band in enumerate(("blue", "green", "red", "nir")):
        want = np.median(np.stack([scene(d)[band].astype(np.float64) for d in DATES]), axis=0)
        np.testing.assert_array_equal(a[..., i], want)


def test_export_reprojected_to_epsg_4326(ee_init):
    region = ee.Geometry.Rectangle([X0, Y0 - 1000, X0 + 1000, Y0], "EPSG:32633", False)
    p = ee.Image(SCENE).gd.prepareForExport(crs="EPSG:4326", scale=20, region=region, dtype="uint16")
    a, _, c, _, e, f = p.gd.transform
    h, w = p.gd.shape
    got = p.gd.toNumPy()
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    x, y = pyproj.Transformer.from_crs(4326, 32633, always_xy=True).transform(c + a * u, f + e * v)
    col, row = np.floor((x - X0) / 10 + 1e-9).astype(int), np.floor((Y0 - y) / 10 + 1e-9).astype(int)
    in_region = (x >= X0) & (x <= X0 + 1000) & (y >= Y0 - 1000) & (y <= Y0)  # the clip, at pixel centres
    assert in_region.mean() > 0.9
    want = np.where(in_region, scene()["red"][row.clip(0, 223), col.clip(0, 223)], 0)
    # Masked pixels arrive as 0 (the emulator's GeoTIFFs carry no nodata tag; see the README).
    np.testing.assert_array_equal(np.asarray(got[..., 2]), want)
