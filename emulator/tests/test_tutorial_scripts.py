"""Tutorial-style scripts with the official client, written without looking at the emulator's
implementation, each checked against numpy/pyproj/shapely computed from the sample files;
the ones the emulator cannot compute must stop with its 'not implemented' message."""

from __future__ import annotations

import json

import numpy as np
import pytest

ee = pytest.importorskip("ee")
pyproj = pytest.importorskip("pyproj")

from emulator_helpers import ELEVATION, SCENES, X0, Y0  # noqa: E402

MONTHLY = "projects/eerest/assets/sample/monthly"
FIELDS = "projects/eerest/assets/sample/fields"
UTM = "EPSG:32633"


def _sample():
    from eerest_emulator import BUNDLED_DATA

    return BUNDLED_DATA / "eerest" / "sample"


def _months() -> tuple[list[dict], list[np.ndarray]]:
    files = sorted((_sample() / "monthly").glob("*.npy"))
    return [json.loads(f.with_suffix(".json").read_text()) for f in files], [np.load(f) for f in files]


def _elevation() -> np.ndarray:
    return np.load(_sample() / "elevation.npy").astype(np.float64)


@pytest.fixture(scope="module")
def ee_session(ee_emulator_session):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield ee_emulator_session
    ee.Reset()


def _ndvi(a: np.ndarray) -> np.ndarray:
    nir, red = a["nir"].astype(np.float64), a["red"].astype(np.float64)
    return (nir - red) / (nir + red)


def _clear(a: np.ndarray) -> np.ndarray:
    qa = a["QA_PIXEL"].astype(np.int64)
    return ((qa & (1 << 3)) == 0) & ((qa & (1 << 4)) == 0)


def test_ndvi_time_series(ee_session):
    def ndvi(img):
        return img.normalizedDifference(["nir", "red"]).rename("ndvi").copyProperties(img, ["system:time_start"])

    col = ee.ImageCollection(MONTHLY).map(ndvi)
    series = col.map(lambda i: ee.Feature(None, i.reduceRegion(ee.Reducer.mean(), None, 40)).set(
        "date", i.date().format("YYYY-MM"))).aggregate_array("ndvi").getInfo()
    _, arrays = _months()
    np.testing.assert_allclose(series, [_ndvi(a).mean() for a in arrays], rtol=1e-6)


def test_cloud_masked_summer_median(ee_session):
    def mask(img):
        qa = img.select("QA_PIXEL")
        return img.updateMask(qa.bitwiseAnd(1 << 3).eq(0).And(qa.bitwiseAnd(1 << 4).eq(0)))

    summer = ee.ImageCollection(MONTHLY).filter(ee.Filter.calendarRange(6, 8, "month")).map(mask).median()
    got = ee.data.computePixels({"expression": summer.select("nir"), "fileFormat": "NUMPY_NDARRAY"})["nir"]
    metas, arrays = _months()
    stack = np.stack([np.where(_clear(a), a["nir"].astype(np.float64), np.nan)
                      for m, a in zip(metas, arrays, strict=True) if m["startTime"][5:7] in ("06", "07", "08")])
    assert len(stack) == 6
    want = np.nanmedian(stack, axis=0)
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], atol=0.5)  # a uint16 band: the median rounds


def test_zonal_statistics_with_reduce_regions(ee_session):
    shapely = pytest.importorskip("shapely")
    fc = ee.Image(ELEVATION).reduceRegions(ee.FeatureCollection(FIELDS), ee.Reducer.mean().combine(
        ee.Reducer.count(), None, True), 20).getInfo()
    elev = _elevation()
    u, v = np.meshgrid(np.arange(112) + 0.5, np.arange(112) + 0.5)
    lon, lat = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True).transform(X0 + 20 * u, Y0 - 20 * v)
    fields = json.loads((_sample() / "fields.geojson").read_text())["features"]
    for feat, got in zip(fields, fc["features"], strict=True):
        inside = shapely.contains_xy(shapely.geometry.shape(feat["geometry"]), lon, lat)
        assert got["properties"]["count"] == inside.sum()
        assert got["properties"]["mean"] == pytest.approx(elev[inside].mean(), rel=1e-9)


def test_focal_mean_smoothing(ee_session):
    got = ee.data.computePixels({"expression": ee.Image(ELEVATION).focalMean(1, "square"),
                                 "fileFormat": "NUMPY_NDARRAY"})["elevation"]
    elev = _elevation()
    pad = np.pad(elev, 1, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(pad, (3, 3))
    np.testing.assert_allclose(got, np.nanmean(windows, axis=(2, 3)), rtol=1e-6)


def test_evi_with_expression(ee_session):
    img = ee.Image(f"{SCENES}/20240504").multiply(0.0001)
    evi = img.expression("2.5 * ((NIR - RED) / (NIR + 6 * RED - 7.5 * BLUE + 1))",
                         {"NIR": img.select("nir"), "RED": img.select("red"), "BLUE": img.select("blue")})
    got = ee.data.computePixels({"expression": evi, "fileFormat": "NUMPY_NDARRAY"})
    a = np.load(_sample() / "scenes" / "20240504.npy")
    nir, red, blue = (a[b].astype(np.float64) * 0.0001 for b in ("nir", "red", "blue"))
    want = 2.5 * ((nir - red) / (nir + 6 * red - 7.5 * blue + 1))
    np.testing.assert_allclose(got[got.dtype.names[0]], want, rtol=1e-6)  # a float32 band


def test_classes_with_where_and_update_mask(ee_session):
    elev = ee.Image(ELEVATION)
    classes = ee.Image(0).where(elev.gt(250), 1).where(elev.gt(320), 2).updateMask(elev.gt(220)).rename("c")
    # ee.Image(0) is in EPSG:4326: name the CRS, or 20 m pixels are taken in degrees
    hist = classes.reduceRegion(ee.Reducer.frequencyHistogram(), elev.geometry(), 20, UTM).get("c").getInfo()
    e = _elevation()
    c = np.where(e > 320, 2, np.where(e > 250, 1, 0))[e > 220]
    assert hist == {str(k): int((c == k).sum()) for k in (0, 1, 2)}


def test_frequency_histogram_of_strings_and_refused_floats(ee_session):
    fc = ee.FeatureCollection(FIELDS)
    got = fc.reduceColumns(ee.Reducer.frequencyHistogram(), ["crop"]).get("histogram").getInfo()
    crops = [f["properties"]["crop"] for f in json.loads((_sample() / "fields.geojson").read_text())["features"]]
    assert got == {c: crops.count(c) for c in set(crops)}
    with pytest.raises(ee.EEException, match="not implemented in the eerest emulator"):
        ee.Image(ELEVATION).reduceRegion(ee.Reducer.frequencyHistogram(), None, 20).getInfo()


def test_sample_regions_at_points(ee_session):
    feats = [f for f in json.loads((_sample() / "places.geojson").read_text())["features"]
             if f["geometry"] and f["geometry"]["type"] == "Point"]
    assert feats
    fc = ee.FeatureCollection([ee.Feature(ee.Geometry.Point(f["geometry"]["coordinates"]), {"i": k})
                               for k, f in enumerate(feats)])
    got = ee.Image(ELEVATION).sampleRegions(fc, ["i"], 20).getInfo()["features"]
    elev = _elevation()
    to_utm = pyproj.Transformer.from_crs(4326, UTM, always_xy=True)
    want = {}
    for k, f in enumerate(feats):
        x, y = to_utm.transform(*f["geometry"]["coordinates"])
        col, row = int(np.floor((x - X0) / 20)), int(np.floor((Y0 - y) / 20))
        if 0 <= col < 112 and 0 <= row < 112:
            want[k] = elev[row, col]
    assert {g["properties"]["i"]: g["properties"]["elevation"] for g in got} == pytest.approx(want)


def test_greenest_pixel_composite(ee_session):
    col = ee.ImageCollection(SCENES).map(lambda i: i.addBands(i.normalizedDifference(["nir", "red"]).rename("ndvi")))
    got = ee.data.computePixels({"expression": col.qualityMosaic("ndvi").select("red"), "fileFormat": "NUMPY_NDARRAY"})
    files = sorted((_sample() / "scenes").glob("*.npy"))
    arrays = [np.load(f) for f in files]
    nd = np.stack([_ndvi(a).astype(np.float32) for a in arrays])  # normalizedDifference is float32
    red = np.stack([a["red"] for a in arrays])
    best = np.argmax(nd, axis=0)  # the highest quality wins; on ties (the sample has them) the earliest
    np.testing.assert_array_equal(got["red"], np.take_along_axis(red, best[None], 0)[0])


def test_dates_of_clear_scenes(ee_session):
    col = ee.ImageCollection(SCENES).filter(ee.Filter.lt("CLOUD_COVER", 20)).filterDate("2024-05-01", "2024-07-01")
    dates = col.aggregate_array("system:time_start").map(lambda t: ee.Date(t).format("YYYY-MM-dd")).getInfo()
    want = []
    for f in sorted((_sample() / "scenes").glob("*.json")):
        m = json.loads(f.read_text())
        if m["properties"]["CLOUD_COVER"] < 20 and "2024-05-01" <= m["startTime"][:10] < "2024-07-01":
            want.append(m["startTime"][:10])
    assert dates == want and want


def test_slope_classes_share_of_area(ee_session):
    slope = ee.Terrain.slope(ee.Image(ELEVATION))
    share = slope.gt(5).reduceRegion(ee.Reducer.mean(), None, 20).getInfo()["slope"]
    e = _elevation()
    dzdx = (e[1:-1, 2:] - e[1:-1, :-2]) / 40
    dzdy = (e[:-2, 1:-1] - e[2:, 1:-1]) / 40
    s = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    assert share == pytest.approx((s > 5).mean(), rel=1e-9)


@pytest.mark.parametrize("script", [
    lambda: ee.Image(f"{SCENES}/20240504").toArray().arrayReduce(ee.Reducer.sum(), [0]),
    lambda: ee.Image(ELEVATION).gradient(),
    lambda: ee.Image(ELEVATION).entropy(ee.Kernel.square(2)),
])
def test_what_the_emulator_lacks_stops_clearly(ee_session, script):
    with pytest.raises(ee.EEException, match="not implemented in the eerest emulator"):
        script().reduceRegion(ee.Reducer.mean(), None, 20).getInfo()
