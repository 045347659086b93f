"""Tutorial-style uses of the algorithms that tutorials, geedim and Xee need, driven through
earthengine-api as users write them, each checked against numpy/pyproj computed from the
sample files (a reimplementation only where the algorithm is a formula: terrain)."""

from __future__ import annotations

import numpy as np
import pytest

ee = pytest.importorskip("ee")
pyproj = pytest.importorskip("pyproj")

from emulator_helpers import ELEVATION, SCENE, SCENES, X0, Y0, grid  # noqa: E402

MONTHLY = "projects/eerest/assets/sample/monthly"
FIELDS = "projects/eerest/assets/sample/fields"
UTM = "EPSG:32633"


def _sample(*parts: str) -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA.joinpath("eerest", "sample", *parts))


def scene(date: str = "20240504") -> np.ndarray:
    return _sample("scenes", f"{date}.npy")


def monthly() -> tuple[list[str], list[np.ndarray]]:
    from eerest_emulator import BUNDLED_DATA

    files = sorted((BUNDLED_DATA / "eerest" / "sample" / "monthly").glob("*.npy"))
    return [f.stem for f in files], [np.load(f) for f in files]


@pytest.fixture(scope="module")
def ee_session(ee_emulator_session):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield ee_emulator_session
    ee.Reset()


def pixels(image, g: dict | None = None) -> np.ndarray:
    params = {"expression": image, "fileFormat": "NUMPY_NDARRAY"}
    if g is not None:
        params["grid"] = g
    return ee.data.computePixels(params)


def region():
    """The 40 x 40 pixels at the scene's north-west corner."""
    return ee.Geometry.Rectangle([X0, Y0 - 400, X0 + 400, Y0], UTM, False)


def region_values(band: str = "red") -> np.ndarray:
    return scene()[band][:40, :40].astype(np.float64).ravel()


# ---------------------------------------------------------------------------------------
# Reducers
# ---------------------------------------------------------------------------------------
def test_percentiles_median_and_moments_over_a_region(ee_session):
    v = region_values()
    red = ee.Image(SCENE).select("red")
    got = red.reduceRegion(ee.Reducer.percentile([10, 50, 90]), region(), 10).getInfo()
    assert got == pytest.approx({f"red_p{p}": float(np.percentile(v, p)) for p in (10, 50, 90)})
    assert red.reduceRegion(ee.Reducer.percentile([25]), region(), 10).getInfo() == {"red": pytest.approx(np.percentile(v, 25))}
    got = red.reduceRegion(ee.Reducer.percentile([5, 95], ["low", "high"]), region(), 10).getInfo()
    assert got == pytest.approx({"red_low": np.percentile(v, 5), "red_high": np.percentile(v, 95)})
    assert red.reduceRegion(ee.Reducer.median(), region(), 10).getInfo()["red"] == float(np.median(v))
    both = ee.Reducer.mean().combine(ee.Reducer.stdDev(), "", True).combine(ee.Reducer.variance(), "", True)
    got = red.reduceRegion(both.combine(ee.Reducer.count(), "", True), region(), 10).getInfo()
    assert got == pytest.approx({"red_mean": v.mean(), "red_stdDev": v.std(), "red_variance": v.var(), "red_count": v.size})
    bright = red.gt(1500)
    assert bright.reduceRegion(ee.Reducer.anyNonZero(), region(), 10).getInfo() == {"red": int((v > 1500).any())}
    assert bright.reduceRegion(ee.Reducer.allNonZero(), region(), 10).getInfo() == {"red": int((v > 1500).all())}
    assert red.gt(0).reduceRegion(ee.Reducer.allNonZero(), region(), 10).getInfo() == {"red": 1}


def test_histograms(ee_session):
    v = region_values()
    red = ee.Image(SCENE).select("red")
    got = red.reduceRegion(ee.Reducer.fixedHistogram(0, 3000, 6), region(), 10).getInfo()["red"]
    counts, edges = np.histogram(v[(v >= 0) & (v < 3000)], bins=6, range=(0, 3000))
    assert got == [[float(e), int(c)] for e, c in zip(edges[:-1], counts, strict=True)]
    cum = red.reduceRegion(ee.Reducer.fixedHistogram(0, 3000, 6, True), region(), 10).getInfo()["red"]
    assert [c for _, c in cum] == np.cumsum(counts).tolist()
    h = red.reduceRegion(ee.Reducer.histogram(16), region(), 10).getInfo()["red"]
    w, lo = h["bucketWidth"], h["bucketMin"]
    assert np.log2(w).is_integer() and len(h["histogram"]) <= 16 and lo <= v.min() < lo + w  # power-of-2 buckets
    want = np.bincount(((v - lo) // w).astype(int), minlength=len(h["histogram"]))
    assert h["histogram"] == want.tolist() and sum(h["histogram"]) == v.size
    assert h["bucketMeans"] == [lo + (i + 0.5) * w for i in range(len(want))]


def test_grouped_reduction(ee_session):
    s = scene()
    red, nir = s["red"][:40, :40].astype(np.float64), s["nir"][:40, :40]
    cls = (nir > 2000).astype(int) + (nir > 3000).astype(int)
    img = ee.Image(SCENE)
    zones = img.select("nir").gt(2000).add(img.select("nir").gt(3000)).rename("zone")
    got = img.select("red").addBands(zones).reduceRegion(
        ee.Reducer.mean().group(groupField=1, groupName="zone"), region(), 10).getInfo()
    want = [{"zone": int(z), "mean": pytest.approx(red[cls == z].mean())} for z in np.unique(cls)]
    assert got == {"groups": want}


def test_collection_percentiles_and_composites(ee_session):
    dates = ["20240504", "20240524", "20240613", "20240703", "20240723"]
    stack = np.stack([scene(d)["red"].astype(np.float64) for d in dates])
    col = ee.ImageCollection(SCENES).select("red")
    a = pixels(col.reduce(ee.Reducer.percentile([20, 50])), grid())
    assert a.dtype.names == ("red_p20", "red_p50")
    np.testing.assert_allclose(a["red_p20"], np.percentile(stack, 20, axis=0))
    np.testing.assert_allclose(a["red_p50"], np.median(stack, axis=0))
    a = pixels(col.reduce(ee.Reducer.stdDev()), grid())
    np.testing.assert_allclose(a["red_stdDev"], stack.std(axis=0), rtol=1e-9)
    a = pixels(col.reduce(ee.Reducer.mean().combine(ee.Reducer.minMax(), "", True)), grid())
    assert a.dtype.names == ("red_mean", "red_min", "red_max")
    np.testing.assert_allclose(a["red_max"], stack.max(axis=0))
    np.testing.assert_array_equal(pixels(col.median(), grid())["red"], np.median(stack, axis=0))
    np.testing.assert_array_equal(pixels(col.mosaic(), grid())["red"], stack[-1])
    np.testing.assert_array_equal(pixels(col.count(), grid())["red"], np.full((224, 224), 5))
    # qualityMosaic: per pixel, the image with the highest NDVI.
    full = ee.ImageCollection(SCENES).map(lambda i: i.addBands(i.normalizedDifference(["nir", "red"]).rename("nd")))
    nd = np.stack([(scene(d)["nir"].astype(np.float64) - scene(d)["red"]) / (scene(d)["nir"].astype(np.float64) + scene(d)["red"]) for d in dates])
    best = np.argmax(nd, axis=0)
    got = pixels(full.qualityMosaic("nd").select("red"), grid())["red"]
    np.testing.assert_array_equal(got, np.take_along_axis(stack, best[None], 0)[0])


# ---------------------------------------------------------------------------------------
# Bitmask cloud masking, calendar filters and seasonal composites (the monthly sample)
# ---------------------------------------------------------------------------------------
MONTHLY_GRID = grid(56, 56, 40.0)


def mask_clouds(img):
    qa = img.select("QA_PIXEL")
    cloud = qa.bitwiseAnd(1 << 3).neq(0)
    shadow = qa.rightShift(4).bitwiseAnd(1).eq(1)
    return img.updateMask(cloud.Or(shadow).Not()).select(["blue", "green", "red", "nir"]).copyProperties(img, ["system:time_start"])


def test_qa_bitmask_cloud_masked_summer_median(ee_session):
    ids, arrays = monthly()
    col = ee.ImageCollection(MONTHLY)
    assert col.size().getInfo() == 24
    summer = col.filter(ee.Filter.calendarRange(6, 8, "month"))
    assert summer.aggregate_array("system:index").getInfo() == [i for i in ids if i[4:6] in ("06", "07", "08")]
    assert col.filter(ee.Filter.calendarRange(2024, 2024, "year")).size().getInfo() == 12
    assert col.filter(ee.Filter.calendarRange(11, 2, "month")).size().getInfo() == 8  # wraps over the new year
    assert col.filterDate(ee.DateRange("2023-03-01", "2023-06-01")).size().getInfo() == 3
    sel = [a for i, a in zip(ids, arrays, strict=True) if i[4:6] in ("06", "07", "08")]
    red = np.stack([a["red"].astype(np.float64) for a in sel])
    bad = np.stack([((a["QA_PIXEL"] & 8) != 0) | (((a["QA_PIXEL"] >> 4) & 1) == 1) for a in sel])
    masked = np.where(bad, np.nan, red)
    got = pixels(summer.map(mask_clouds).median(), MONTHLY_GRID)
    want = np.nanmedian(masked, axis=0)
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(got["red"][ok], want[ok])
    mask = ee.data.computePixels({"expression": summer.map(mask_clouds).median().select("red").mask(), "fileFormat": "NUMPY_NDARRAY", "grid": MONTHLY_GRID})
    np.testing.assert_array_equal(mask["red"] != 0, ok)
    # A scale factor, as tutorials apply it to reflectance.
    got = summer.map(mask_clouds).median().multiply(0.0001).select("nir").reduceRegion(ee.Reducer.mean(), None, 40).getInfo()
    assert got["nir"] == pytest.approx(np.nanmean(np.nanmedian(np.where(bad, np.nan, np.stack([a["nir"] * 1.0 for a in sel])), axis=0)) * 1e-4)


# ---------------------------------------------------------------------------------------
# Image operations
# ---------------------------------------------------------------------------------------
def test_band_and_property_helpers(ee_session):
    s = scene()
    img = ee.Image(SCENE)
    assert img.slice(1, 3).bandNames().getInfo() == ["green", "red"]
    assert img.slice(-1).bandNames().getInfo() == ["nir"]
    assert img.rename(["b", "g", "r", "n"]).bandNames().getInfo() == ["b", "g", "r", "n"]
    doubled = img.multiply(2).copyProperties(img, ["CLOUD_COVER", "SPACECRAFT"])
    assert doubled.get("CLOUD_COVER").getInfo() == 2.18 and doubled.get("SUN_ELEVATION").getInfo() is None
    assert ee.Image(img.multiply(2).copyProperties(img)).get("SPACECRAFT").getInfo() == "EERESTSAT-A"
    assert img.set("stage", "raw").set({"n": 3}).toDictionary(["stage", "n"]).getInfo() == {"stage": "raw", "n": 3}
    a = pixels(img.select("red").unitScale(0, 3000).rename("u"), grid())
    np.testing.assert_allclose(a["u"], s["red"] / 3000.0, rtol=1e-6)
    a = pixels(img.select("red").gt(1500).remap([0, 1], [10, 20]).rename("r"), grid())
    np.testing.assert_array_equal(a["r"], np.where(s["red"] > 1500, 20, 10))
    a = pixels(img.select("red").bitwiseAnd(0xF0).rightShift(4).rename("bits"), grid())
    np.testing.assert_array_equal(a["bits"], (s["red"] & 0xF0) >> 4)


def _window_stack(a: np.ndarray, offsets: list[tuple[int, int]]) -> np.ndarray:
    """Neighbours of each interior pixel (dy, dx offsets), as a stack (k, H-2, W-2)."""
    h, w = a.shape
    return np.stack([a[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] for dy, dx in offsets])


def test_focal_filters_and_convolution(ee_session):
    red = scene()["red"].astype(np.float64)
    img = ee.Image(SCENE).select("red")
    plus = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]  # a circle of radius 1 pixel
    square = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    a = pixels(img.focalMedian(1), grid())["red"]
    np.testing.assert_array_equal(a[1:-1, 1:-1], np.median(_window_stack(red, plus), axis=0))
    a = pixels(img.focalMean(1, "square"), grid())["red"]
    np.testing.assert_allclose(a[1:-1, 1:-1], _window_stack(red, square).mean(axis=0))
    a = pixels(img.focalMax(10, "square", "meters"), grid())["red"]
    np.testing.assert_array_equal(a[1:-1, 1:-1], _window_stack(red, square).max(axis=0))
    k = np.exp(-np.array([dy * dy + dx * dx for dy, dx in square]) / (2 * 0.8**2))
    k /= k.sum()
    a = pixels(img.convolve(ee.Kernel.gaussian(1, 0.8)), grid())["red"]
    np.testing.assert_allclose(a[1:-1, 1:-1], np.tensordot(k, _window_stack(red, square), 1), rtol=1e-6)


def test_reduce_resolution_to_40_m(ee_session):
    red = scene()["red"].astype(np.float64)
    img = ee.Image(SCENE).select("red")
    coarse = img.reduceResolution(ee.Reducer.mean(), maxPixels=64).reproject(UTM, [40, 0, X0, 0, -40, Y0])
    a = pixels(coarse, grid(56, 56, 40.0))["red"]
    np.testing.assert_allclose(a, red.reshape(56, 4, 56, 4).mean(axis=(1, 3)))
    a = pixels(img.reduceResolution(ee.Reducer.max()).reproject(UTM, None, 40), grid(56, 56, 40.0))["red"]
    np.testing.assert_array_equal(a, red.reshape(56, 4, 56, 4).max(axis=(1, 3)))
    with pytest.raises(ee.EEException, match="maxPixels"):
        pixels(img.reduceResolution(ee.Reducer.mean(), False, 4).reproject(UTM, None, 40), grid(56, 56, 40.0))


def test_pixel_lon_lat_and_area(ee_session):
    a = pixels(ee.Image.pixelLonLat(), grid())
    u, v = np.meshgrid(np.arange(224) + 0.5, np.arange(224) + 0.5)
    lon, lat = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(X0 + 10 * u, Y0 - 10 * v)
    np.testing.assert_allclose(a["longitude"], lon, atol=1e-9)
    np.testing.assert_allclose(a["latitude"], lat, atol=1e-9)
    # In the scene's 10 m UTM grid (pixelArea is unbounded: its default grid is EPSG:4326).
    total = ee.Image.pixelArea().reduceRegion(ee.Reducer.sum(), region(), 10, UTM).getInfo()["area"]
    t = np.linspace(0, 400, 41)
    xs = np.concatenate([X0 + t, np.full(41, X0 + 400), X0 + 400 - t, np.full(41, X0)])
    ys = np.concatenate([np.full(41, Y0 - 400), Y0 - 400 + t, np.full(41, Y0), Y0 - t])
    lo, la = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(xs, ys)
    want = abs(pyproj.Geod(ellps="WGS84").polygon_area_perimeter(lo, la)[0])
    assert total == pytest.approx(want, rel=1e-5)


def test_terrain(ee_session):
    z = _sample("elevation.npy").astype(np.float64)
    dem = ee.Image(ELEVATION)
    g = grid(112, 112, 20.0)
    dzdx = (z[1:-1, 2:] - z[1:-1, :-2]) / 40.0
    dzdy = (z[2:, 1:-1] - z[:-2, 1:-1]) / -40.0  # rows go south
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    aspect = np.degrees(np.arctan2(-dzdx, -dzdy)) % 360
    a = pixels(ee.Terrain.slope(dem), g)["slope"]
    np.testing.assert_allclose(a[1:-1, 1:-1], slope, rtol=1e-5)
    a = pixels(ee.Terrain.aspect(dem), g)["aspect"]
    np.testing.assert_allclose(a[1:-1, 1:-1], aspect, rtol=1e-5, atol=1e-3)
    # The sample rises to the east (0.9 m a pixel) and north (0.6): it faces south-west.
    assert 200 < float(np.median(a[1:-1, 1:-1])) < 260
    zen, az = np.radians(45.0), np.radians(270.0)
    s, asp = np.radians(slope), np.radians(aspect)
    shade = np.round(255 * np.clip(np.cos(zen) * np.cos(s) + np.sin(zen) * np.sin(s) * np.cos(az - asp), 0, 1))
    a = pixels(ee.Terrain.hillshade(dem), g)["hillshade"]
    np.testing.assert_array_equal(a[1:-1, 1:-1], shade)
    assert ee.Terrain.products(dem).bandNames().getInfo() == ["elevation", "slope", "aspect", "hillshade"]


# ---------------------------------------------------------------------------------------
# Dates and geometries
# ---------------------------------------------------------------------------------------
def test_dates(ee_session):
    d = ee.Date("2024-05-04T10:05:31")
    assert d.getRelative("day", "year").getInfo() == 124  # 0-based day of the year
    assert d.getRelative("month", "year").getInfo() == 4
    assert d.getRelative("hour", "day").getInfo() == 10
    assert d.getRelative("day", "month").getInfo() == 3
    assert d.getRelative("day", "week").getInfo() == 5  # a Saturday; weeks start on Monday
    assert d.advance(-1, "year").format("yyyy-MM-dd").getInfo() == "2023-05-04"
    assert d.advance(3, "day").format("EEE d MMM yyyy, HH:mm").getInfo() == "Tue 7 May 2024, 10:05"
    r = ee.DateRange("2024-05-01", "2024-06-01")
    assert ee.ImageCollection(SCENES).filterDate(r).size().getInfo() == 2
    assert ee.ImageCollection(SCENES).filterDate(r.start(), r.end()).size().getInfo() == 2


def test_geometry_operations(ee_session):
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    p = ee.Geometry.Point([15.45, 47.95])
    circle = p.buffer(100)
    assert circle.area(1).getInfo() == pytest.approx(np.pi * 100**2, rel=3e-3)  # a 64-gon of radius 100 m
    assert circle.intersects(ee.Geometry.Point([15.4505, 47.95])).getInfo() is True  # 37 m east
    assert circle.intersects(ee.Geometry.Point([15.452, 47.95])).getInfo() is False  # 149 m east
    rect = ee.Geometry.Rectangle([X0, Y0 - 400, X0 + 400, Y0], UTM, False)
    assert rect.area(1).getInfo() == pytest.approx(160000.0)
    grown = rect.buffer(50)
    assert grown.area(1).getInfo() == pytest.approx(500 * 500 - (4 - np.pi) * 50**2, rel=1e-3)
    c = rect.centroid(1).getInfo()["coordinates"]
    assert to_utm.transform(*c) == pytest.approx((X0 + 200, Y0 - 200), abs=1e-3)
    tri = ee.Geometry.Polygon([[[X0, Y0], [X0 + 300, Y0], [X0, Y0 - 600]]], UTM, False)
    c = tri.centroid(1, ee.Projection(UTM)).getInfo()["coordinates"]
    assert c == pytest.approx([X0 + 100, Y0 - 200])
    assert rect.intersects(tri).getInfo() is True
    far = ee.Geometry.Rectangle([X0 + 1000, Y0 - 1400, X0 + 1400, Y0 - 1000], UTM, False)
    assert rect.intersects(far).getInfo() is False
    t = rect.transform("EPSG:4326", 1).coordinates().getInfo()[0]
    lon, lat = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(X0, Y0)
    assert [lon, lat] == pytest.approx(t[3]) or [lon, lat] in [pytest.approx(q) for q in t]


def test_table_and_zonal_statistics(ee_session):
    fc = ee.FeatureCollection(FIELDS)
    assert fc.size().getInfo() == 8
    assert fc.aggregate_array("crop").getInfo() == ["wheat", "maize", "barley", "grass", "maize", "wheat", "rapeseed", "water"]
    maize = fc.filter(ee.Filter.eq("crop", "maize"))
    assert maize.aggregate_array("name").getInfo() == ["west", "east"]
    red = scene()["red"].astype(np.float64)
    stats = ee.Image(SCENE).select("red").reduceRegions(fc.limit(3), ee.Reducer.mean(), 10).aggregate_array("mean").getInfo()
    windows = [(8, 8, 40, 36), (8, 44, 44, 80), (90, 110, 130, 140)]
    assert stats == pytest.approx([red[r0:r1, c0:c1].mean() for c0, r0, c1, r1 in windows], rel=1e-6)
    first = fc.first().getInfo()
    assert first["id"] == "0" and first["properties"]["name"] == "north-west" and "system:index" not in first["properties"]


def test_linear_fit_trend_per_pixel_and_over_a_table(ee_session):
    """The trend tutorial: a time band and a value band per image, reduced with linearFit."""
    ids, arrays = monthly()
    col = ee.ImageCollection(MONTHLY).select(["red", "nir"])
    with_t = col.map(lambda i: ee.Image.constant(ee.Number(i.get("system:time_start")).divide(1e11)).toFloat()
                     .rename("t").addBands(i.select("nir")))
    fit = pixels(with_t.reduce(ee.Reducer.linearFit()), MONTHLY_GRID)
    assert fit.dtype.names == ("scale", "offset")
    import datetime as dt

    t = np.array([dt.datetime(int(i[:4]), int(i[4:6]), 15, 10, tzinfo=dt.timezone.utc).timestamp() * 1000 / 1e11 for i in ids],
                 dtype=np.float32).astype(np.float64)
    y = np.stack([a["nir"].astype(np.float64) for a in arrays])
    slope, offset = np.polyfit(t, y.reshape(len(t), -1), 1)
    np.testing.assert_allclose(fit["scale"].ravel(), slope, rtol=1e-6)
    np.testing.assert_allclose(fit["offset"].ravel(), offset, rtol=1e-6, atol=1e-6)
    fc = ee.FeatureCollection(FIELDS)
    got = fc.reduceColumns(ee.Reducer.linearFit(), ["area_ha", "field_pixels"]).getInfo()
    area = np.array([8.96, 12.96, 12.0, 17.5, 14.0, 6.0, 14.44, 18.85])
    px = np.array(fc.aggregate_array("field_pixels").getInfo(), dtype=float)
    s, o = np.polyfit(area, px, 1)
    assert got == pytest.approx({"scale": s, "offset": o})


def test_sample_rectangle_random_column_and_unweighted(ee_session):
    s = scene()
    reg = ee.Geometry.Rectangle([X0 + 20, Y0 - 70, X0 + 60, Y0 - 10], UTM, False)
    f = ee.Image(SCENE).select(["red", "nir"]).sampleRectangle(reg)
    assert np.array_equal(np.array(f.get("red").getInfo()), s["red"][1:7, 2:6])
    assert np.array_equal(np.array(f.get("nir").getInfo()), s["nir"][1:7, 2:6])
    masked = ee.Image(SCENE).select("red").updateMask(ee.Image(SCENE).select("red").gt(1500))
    with pytest.raises(ee.EEException, match="masked"):
        masked.sampleRectangle(reg).get("red").getInfo()
    filled = np.array(masked.sampleRectangle(reg, None, -1).get("red").getInfo())
    np.testing.assert_array_equal(filled, np.where(s["red"][1:7, 2:6] > 1500, s["red"][1:7, 2:6].astype(np.int64), -1))
    fc = ee.FeatureCollection(FIELDS).randomColumn("r", 7)
    r = fc.aggregate_array("r").getInfo()
    assert len(r) == 8 and all(0 <= v < 1 for v in r) and len(set(r)) == 8
    assert fc.aggregate_array("r").getInfo() == r  # the same numbers every time for a seed
    assert ee.FeatureCollection(FIELDS).randomColumn("r", 8).aggregate_array("r").getInfo() != r
    got = ee.Image(SCENE).select("red").reduceRegion(ee.Reducer.mean().unweighted(), region(), 10).getInfo()
    assert got == {"red": pytest.approx(region_values().mean())}
