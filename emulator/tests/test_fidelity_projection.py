"""Projections with an affine transform, a scale or a CRS wherever they are applied:
geometries in a projection, grids, reproject, reduceRegion(crs, crsTransform, scale),
thumbnails and downloads; driven through earthengine-api, checked against numpy/pyproj."""

from __future__ import annotations

import io

import numpy as np
import pytest

ee = pytest.importorskip("ee")
pyproj = pytest.importorskip("pyproj")
requests = pytest.importorskip("requests")

from emulator_helpers import ELEVATION, SCENE, X0, Y0  # noqa: E402


def scene(date: str = "20240504") -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "scenes" / f"{date}.npy")


def elevation() -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "elevation.npy")


@pytest.fixture(scope="module")
def ee_session(ee_emulator_session):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield ee_emulator_session
    ee.Reset()


def npy(url: str) -> np.ndarray:
    r = requests.get(url, timeout=60)
    assert r.status_code == 200, r.text
    return np.load(io.BytesIO(r.content))


def test_download_with_crs_transform_and_dimensions_is_the_exact_grid(ee_session):
    s = scene()
    img = ee.Image(SCENE)
    url = img.getDownloadURL({"format": "NPY", "bands": ["red"], "crs": "EPSG:32633",
                              "crs_transform": [10, 0, X0, 0, -10, Y0], "dimensions": [224, 224]})
    a = npy(url)
    assert a.shape == (224, 224)
    np.testing.assert_array_equal(a["red"], s["red"])
    # A window shifted by 3.5 columns and 5.5 rows, at twice the pixel size: centres at
    # X0 + 45 + 20 i (column 4 + 2 i), Y0 - 65 - 20 j (row 6 + 2 j).
    url = img.getDownloadURL({"format": "NPY", "bands": ["red"], "crs": "EPSG:32633",
                              "crs_transform": [20, 0, X0 + 35, 0, -20, Y0 - 55], "dimensions": [50, 40]})
    a = npy(url)
    assert a.shape == (40, 50)
    np.testing.assert_array_equal(a["red"], s["red"][6:86:2, 4:104:2])


def oracle(band: np.ndarray, transform: list, w: int, h: int, crs: str = "EPSG:32633") -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour values of a native 10 m band of the sample at the centres of a grid
    (any CRS, any affine transform), and where they fall inside the native grid."""
    a, b, c, d, e, f = transform
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    x, y = a * u + b * v + c, d * u + e * v + f
    if crs != "EPSG:32633":
        x, y = pyproj.Transformer.from_crs(crs, "EPSG:32633", always_xy=True).transform(x, y)
    col, row = np.floor((x - X0) / 10 + 1e-9).astype(int), np.floor((Y0 - y) / 10 + 1e-9).astype(int)
    inside = (col >= 0) & (col < band.shape[1]) & (row >= 0) & (row < band.shape[0])
    return np.where(inside, band[row.clip(0, band.shape[0] - 1), col.clip(0, band.shape[1] - 1)], 0), inside


SHEARED = [7.0, 3.0, X0 + 300, 2.0, -9.0, Y0 - 100]
GEOGRAPHIC = [0.0001, 0, 15.4476, 0, -0.0001, 47.9562]


@pytest.mark.parametrize("transform,w,h,crs", [
    ([10, 0, X0, 0, -10, Y0], 224, 224, "EPSG:32633"),
    ([20, 0, X0 + 35, 0, -20, Y0 - 55], 50, 40, "EPSG:32633"),
    ([-10, 0, X0 + 2240, 0, 10, Y0 - 2240], 224, 224, "EPSG:32633"),  # flipped both ways
    (SHEARED, 120, 90, "EPSG:32633"),
    (GEOGRAPHIC, 150, 130, "EPSG:4326"),
    ([15, 0, 4727900, 0, -15, 2775100], 80, 70, "EPSG:3035"),
])
def test_download_and_reproject_in_any_affine_grid(ee_session, transform, w, h, crs):
    e = scene()["red"]
    img = ee.Image(SCENE).select("red")
    want, inside = oracle(e, transform, w, h, crs)
    assert inside.mean() > 0.5
    url = img.getDownloadURL({"format": "NPY", "crs": crs, "crs_transform": transform, "dimensions": [w, h]})
    got = npy(url)
    assert got.shape == (h, w)
    np.testing.assert_array_equal(np.where(inside, got["red"], 0), want)
    # The same pixels from computePixels of the reprojected image, in the exact grid.
    g = {"crsCode": crs, "dimensions": {"width": w, "height": h}, "affineTransform": dict(zip(
        ("scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY"), transform, strict=True))}
    a = ee.data.computePixels({"expression": img.reproject(crs, transform), "fileFormat": "NUMPY_NDARRAY", "grid": g})
    np.testing.assert_array_equal(np.where(inside, a["red"], 0), want)
    # The reprojected image's projection is the one asked for (not the window computed),
    # also after band maths.
    assert img.reproject(crs, transform).projection().getInfo()["transform"] == pytest.approx(transform)
    derived = img.reproject(crs, transform).multiply(2).add(img.reproject(crs, transform)).toFloat()
    assert derived.projection().getInfo()["transform"] == pytest.approx(transform)


def test_thumbnail_with_crs_transform_and_dimensions(ee_session):
    from PIL import Image as PILImage

    img = ee.Image(SCENE)
    url = img.getThumbURL({"bands": ["red", "green", "blue"], "min": 0, "max": 3000, "crs": "EPSG:32633",
                           "crs_transform": [10, 0, X0, 0, -10, Y0], "dimensions": [224, 224], "format": "png"})
    r = requests.get(url, timeout=60)
    assert r.status_code == 200, r.text
    px = np.asarray(PILImage.open(io.BytesIO(r.content)))
    assert px.shape[:2] == (224, 224)
    s = scene()
    want = np.clip(np.round(s["red"].astype(np.float64) / 3000 * 255), 0, 255).astype(np.uint8)
    assert np.abs(px[..., 0].astype(int) - want.astype(int)).max() <= 1


def test_geometries_in_a_projection_with_a_transform(ee_session):
    e = scene()["red"].astype(np.float64)
    img = ee.Image(SCENE).select("red")
    proj = img.projection()
    assert proj.getInfo()["transform"] == [10, 0, X0, 0, -10, Y0]
    # A rectangle of pixels 10..30 x 20..40 of the native grid, given in its pixel units.
    rect = ee.Geometry.Rectangle([10, 20, 30, 40], proj, False)
    got = img.reduceRegion(ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True), rect).getInfo()
    assert got["red_count"] == 400
    assert got["red_mean"] == pytest.approx(float(e[20:40, 10:30].mean()))
    b = rect.bounds(proj=ee.Projection("EPSG:32633")).coordinates().getInfo()[0]
    xs, ys = [p[0] for p in b], [p[1] for p in b]
    assert (min(xs), max(xs), min(ys), max(ys)) == (X0 + 100, X0 + 300, Y0 - 400, Y0 - 200)
    pt = ee.Geometry.Point([5.5, 2.5], proj)
    assert img.reduceRegion(ee.Reducer.first(), pt).getInfo() == {"red": float(e[2, 5])}
    # bounds in a projection with a transform: the box in its pixels.
    pix = ee.Geometry.Rectangle([X0 + 100, Y0 - 400, X0 + 300, Y0 - 200], "EPSG:32633", False)
    px = pix.bounds(proj=proj).transform("EPSG:32633").coordinates().getInfo()[0]
    assert sorted({round(p[0]) for p in px}) == [X0 + 100, X0 + 300]
    assert sorted({tuple(p) for p in pix.bounds(proj=proj).coordinates().getInfo()[0]}) == [
        (10, 20), (10, 40), (30, 20), (30, 40)]
    # Coordinates in a projection with a transform are in its pixels, as the service gives them.
    assert rect.coordinates().getInfo()[0][0] == [10, 20]
    lon, lat = 15.45, 47.95
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True).transform(lon, lat)
    got = ee.Geometry.Point([lon, lat]).transform(proj).coordinates().getInfo()
    assert got == pytest.approx([(x - X0) / 10, (Y0 - y) / 10])
    info = ee.Geometry.Point([lon, lat]).transform(proj).getInfo()
    assert info["coordinates"] == pytest.approx(got)
    # Clipping to such a geometry clips to the same pixels.
    a = ee.data.computePixels({"expression": img.clip(rect).mask(), "fileFormat": "NUMPY_NDARRAY", "grid": {
        "crsCode": "EPSG:32633", "dimensions": {"width": 224, "height": 224},
        "affineTransform": {"scaleX": 10, "translateX": X0, "scaleY": -10, "translateY": Y0}}})
    want = np.zeros((224, 224), bool)
    want[20:40, 10:30] = True
    np.testing.assert_array_equal(a["red"] != 0, want)


def test_reduce_region_in_a_given_grid(ee_session):
    e = scene()["red"].astype(np.float64)
    img = ee.Image(SCENE).select("red")
    region = ee.Geometry.Rectangle([X0, Y0 - 400, X0 + 400, Y0], "EPSG:32633", False)
    # crsTransform: 20 m pixels whose centres are at X0 + 15 + 20 i (column 1 + 2 i).
    got = img.reduceRegion(ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True), region,
                           crs="EPSG:32633", crsTransform=[20, 0, X0 + 5, 0, -20, Y0 - 5]).getInfo()
    assert got["red_count"] == 400
    assert got["red_mean"] == pytest.approx(float(e[1:40:2, 1:40:2].mean()))
    # scale alone: the image's own projection at 30 m, origin kept (centres X0 + 15 + 30 i).
    got = img.reduceRegion(ee.Reducer.toList(), region, 30).getInfo()["red"]
    assert sorted(got) == sorted(e[1:40:3, 1:40:3].ravel().tolist())
    # crs alone with scale: a grid of that CRS.
    got = img.reduceRegion(ee.Reducer.count(), region, 20, "EPSG:32633").getInfo()
    assert got["red"] == 400
    with pytest.raises(ee.EEException, match=r"crsTransform|scale"):
        img.reduceRegion(ee.Reducer.mean(), region, 20, "EPSG:32633", [20, 0, X0, 0, -20, Y0]).getInfo()


def test_zero_sized_requests_fail_at_once_with_a_400(ee_session):
    img = ee.Image(ELEVATION)
    for params in ({"dimensions": "0x0"}, {"dimensions": 0}, {"scale": 0},
                   {"dimensions": [0, 0], "crs": "EPSG:32633", "crs_transform": [10, 0, X0, 0, -10, Y0]}):
        with pytest.raises(ee.EEException, match=r"positive|empty"):
            img.getDownloadURL({**params, "format": "NPY"})
    at = {"scaleX": 10, "translateX": X0, "scaleY": -10, "translateY": Y0}
    g = {"crsCode": "EPSG:32633", "dimensions": {"width": -1, "height": 5}, "affineTransform": at}
    with pytest.raises(ee.EEException, match="positive"):
        ee.data.computePixels({"expression": img, "fileFormat": "NUMPY_NDARRAY", "grid": g})
    # A thumbnail's grid is checked when its URL is made: a client that retries every failed
    # fetch (geedim does) does not wait on a request that can never succeed.
    import httpx

    body = {"expression": ee.serializer.encode(img, for_cloud_api=True), "fileFormat": "NPY", "grid": g}
    r = httpx.post(f"{ee_session.url}/v1/projects/eerest/thumbnails", json=body, headers={"Authorization": "Bearer t"})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_zero_by_zero_dimensions_are_unset_dimensions(ee_session):
    """proto3 cannot tell a 0 int32 from an absent one: a grid of 0 x 0 is a grid without
    dimensions (the pixels covering the image), as Xee's suite relies on."""
    img = ee.Image(ELEVATION)
    at = {"scaleX": 40, "translateX": X0, "scaleY": -40, "translateY": Y0}
    zero = {"crsCode": "EPSG:32633", "dimensions": {"width": 0, "height": 0}, "affineTransform": at}
    unset = {"crsCode": "EPSG:32633", "affineTransform": at}
    a = ee.data.computePixels({"expression": img, "fileFormat": "NUMPY_NDARRAY", "grid": zero})
    b = ee.data.computePixels({"expression": img, "fileFormat": "NUMPY_NDARRAY", "grid": unset})
    assert a.shape == b.shape == (56, 56)
    np.testing.assert_array_equal(a["elevation"], b["elevation"])


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857", "EPSG:32633"])
def test_download_with_crs_region_and_dimensions_or_scale(ee_session, crs):
    """`crs` without a transform: the image takes that CRS as its default projection, and the
    region's bounding box in that CRS is divided into the pixels asked for (or of `scale` m)."""
    red = scene()["red"]
    lon0, lat0, lon1, lat1 = 15.446, 47.950, 15.452, 47.955
    region = ee.Geometry.Rectangle([lon0, lat0, lon1, lat1], None, False)
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xs, ys = tr.transform([lon0, lon1, lon1, lon0], [lat0, lat0, lat1, lat1])
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    for params, (w, h) in (({"dimensions": [30, 20]}, (30, 20)),
                           ({"scale": 20}, (None, None))):
        url = ee.Image(SCENE).select("red").getDownloadURL({"format": "NPY", "crs": crs, "region": region, **params})
        got = npy(url)["red"]
        if w is None:
            unit = 111319.49079327357 if crs == "EPSG:4326" else 1.0
            s = 20 / unit
            w, h = int(np.ceil(round((x1 - x0) / s, 6))), int(np.ceil(round((y1 - y0) / s, 6)))
            sx = sy = s
        else:
            sx, sy = (x1 - x0) / w, (y1 - y0) / h
        assert got.shape == (h, w)
        want, inside = oracle(red, [sx, 0, x0, 0, -sy, y1], w, h, crs)
        # The region is planar in EPSG:4326: pixels whose centre (in lon/lat) is inside it.
        u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
        lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x0 + sx * u, y1 - sy * v)
        keep = inside & (lon > lon0) & (lon < lon1) & (lat > lat0) & (lat < lat1)
        assert keep.mean() > 0.8
        np.testing.assert_array_equal(got[keep], want[keep])
