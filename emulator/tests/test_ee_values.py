"""The official client's common calls against the emulator: getInfo of computed values, image maths,
composites, geometry, reprojection, thumbnails. Expected values come from numpy on the sample files."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

ee = pytest.importorskip("ee")
pyproj = pytest.importorskip("pyproj")

from emulator_helpers import ELEVATION, SCENE, SCENES, X0, Y0, grid  # noqa: E402

DATES = ["20240504", "20240524", "20240613", "20240703", "20240723"]


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


def pixels(image, g: dict | None = None) -> np.ndarray:
    params = {"expression": image, "fileFormat": "NUMPY_NDARRAY"}
    if g is not None:
        params["grid"] = g
    return ee.data.computePixels(params)


def test_plain_values(ee_session):
    assert ee.Number(5).add(3).multiply(2).subtract(1).divide(3).getInfo() == 5
    assert ee.Number(2).pow(10).sqrt().log10().getInfo() == pytest.approx(np.log10(32))
    assert ee.Number(-3.7).abs().round().getInfo() == 4 and ee.Number(300).toUint8().getInfo() == 255
    assert ee.Number(3).gt(2).And(ee.Number(1).eq(0)).getInfo() == 0
    assert ee.String("Earth").cat(" Engine").toUpperCase().getInfo() == "EARTH ENGINE"
    assert ee.List([3, 1, 2]).sort().map(lambda x: ee.Number(x).multiply(10)).getInfo() == [10, 20, 30]
    assert ee.List.sequence(1, 5).reduce(ee.Reducer.sum()).getInfo() == 15
    assert ee.List([1, 2, 3, 4]).slice(1, 3).getInfo() == [2, 3]
    assert ee.Dictionary({"a": 1, "b": 2}).set("c", 3).keys().getInfo() == ["a", "b", "c"]
    assert ee.Dictionary({"a": 1}).combine({"b": [2]}).getInfo() == {"a": 1, "b": [2]}


def test_dates(ee_session):
    d = ee.Date("2024-05-04").advance(1, "month")
    assert d.getInfo() == {"type": "Date", "value": 1717459200000}
    assert d.format("yyyy-MM-dd").getInfo() == "2024-06-04" and d.get("month").getInfo() == 6
    assert d.difference(ee.Date("2024-05-04"), "day").getInfo() == 31
    assert ee.Date(ee.Image(SCENE).get("system:time_start")).millis().getInfo() == 1714817131000


def test_image_and_collection_metadata(ee_session):
    info = ee.Image(SCENE).getInfo()
    assert info["type"] == "Image" and info["id"] == SCENE
    blue = info["bands"][0]
    assert blue["id"] == "blue" and blue["dimensions"] == [224, 224] and blue["crs"] == "EPSG:32633"
    assert blue["crs_transform"] == [10.0, 0.0, X0, 0.0, -10.0, Y0]
    assert blue["data_type"] == {"type": "PixelType", "precision": "int", "min": 0, "max": 65535}
    assert info["properties"]["CLOUD_COVER"] == 2.18 and info["properties"]["system:index"] == "20240504"
    assert ee.Image(SCENE).bandNames().getInfo() == ["blue", "green", "red", "nir"]
    coll = ee.ImageCollection(SCENES)
    assert coll.size().getInfo() == 5
    assert coll.aggregate_array("CLOUD_COVER").getInfo() == [2.18, 27.85, 0.0, 13.45, 6.47]
    assert coll.first().get("SPACECRAFT").getInfo() == "EERESTSAT-A"
    assert coll.sort("CLOUD_COVER", False).limit(2).aggregate_array("system:index").getInfo() == ["20240524", "20240703"]
    assert coll.select(["nir"], ["n"]).first().bandNames().getInfo() == ["n"]
    assert [f["id"] for f in coll.limit(2).getInfo()["features"]] == [f"{SCENES}/{d}" for d in DATES[:2]]
    assert ee.Image(SCENE).toInt16().bandTypes().getInfo()["red"] == {"type": "PixelType", "precision": "int", "min": -32768, "max": 32767}


def test_reduce_region(ee_session):
    e = elevation().astype(np.float64)
    img = ee.Image(ELEVATION)
    for reducer, fn in ((ee.Reducer.mean(), np.mean), (ee.Reducer.min(), np.min), (ee.Reducer.max(), np.max), (ee.Reducer.sum(), np.sum)):
        got = img.reduceRegion(reducer).getInfo()["elevation"]
        assert got == pytest.approx(float(fn(e)), rel=1e-12)
    # A rectangle in UTM: the pixels whose centres are inside.
    rect = ee.Geometry.Rectangle([X0 + 200, Y0 - 600, X0 + 600, Y0 - 200], "EPSG:32633", False)
    got = img.reduceRegion(ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True), rect, 20).getInfo()
    assert got["elevation_count"] == 400
    assert got["elevation_mean"] == pytest.approx(float(e[10:30, 10:30].mean()))
    point = ee.Geometry.Point([X0 + 105, Y0 - 45], "EPSG:32633")
    assert img.reduceRegion(ee.Reducer.first(), point, 20).getInfo() == {"elevation": float(e[2, 5])}


def test_band_maths_casts_and_logic(ee_session):
    s = scene()
    nir, red = s["nir"].astype(np.float64), s["red"].astype(np.float64)
    img = ee.Image(SCENE)
    a = pixels(img.select("nir").subtract(img.select("red")).divide(img.select("nir").add(img.select("red")).toFloat()).rename("nd"))
    np.testing.assert_allclose(a["nd"], (nir - red) / (nir + red), rtol=1e-6)
    a = pixels(img.select("nir").clamp(1000, 3000).toInt16())
    assert a.dtype["nir"] == np.int16 and (a["nir"] == np.clip(s["nir"], 1000, 3000)).all()
    a = pixels(img.select(["red", "nir"]).max(2000).min(4000).abs().rename(["r", "n"]))
    np.testing.assert_array_equal(a["n"], np.clip(s["nir"], 2000, 4000))
    a = pixels(img.select("nir").pow(0.5).log().rename("x"))
    assert a.dtype["x"] == np.float32  # pow: "The type of the output pixels is float."
    np.testing.assert_allclose(a["x"], np.log(np.sqrt(nir)), rtol=1e-6)
    a = pixels(img.select("nir").gt(3000).And(img.select("red").lte(1000)).Or(img.select("red").eq(0)).rename("m"))
    np.testing.assert_array_equal(a["m"], ((s["nir"] > 3000) & (s["red"] <= 1000)) | (s["red"] == 0))
    a = pixels(img.expression("(NIR - RED) / (NIR + RED) > 0.5 ? 2 : b('blue') * 0", {"NIR": img.select("nir").toFloat(), "RED": img.select("red")}))
    np.testing.assert_array_equal(a[a.dtype.names[0]], np.where((nir - red) / (nir + red) > 0.5, 2, 0))


def test_composites_masks_and_bands(ee_session):
    stack = np.stack([scene(d) for d in DATES])
    coll = ee.ImageCollection(SCENES)
    q = pixels(coll.qualityMosaic("nir"))
    idx = np.argmax(stack["nir"], axis=0)
    np.testing.assert_array_equal(q["red"], np.take_along_axis(stack["red"], idx[None], 0)[0])
    m = pixels(coll.reduce(ee.Reducer.median()).select("nir_median"))
    np.testing.assert_allclose(m["nir_median"], np.median(stack["nir"].astype(float), axis=0))
    both = pixels(ee.Image(SCENE).select("red").addBands(ee.Image(1)).addBands(ee.Image(2).rename("red")))
    assert both.dtype.names == ("red", "constant", "red_1") and (both["red_1"] == 2).all()
    vis = pixels(ee.Image(SCENE).visualize(bands=["red", "green", "blue"], min=0, max=3000), grid(8, 8))
    want = np.round(np.clip(scene()["red"][:8, :8] / 3000, 0, 1) * 255)
    assert vis.dtype.names == ("vis-red", "vis-green", "vis-blue") and (vis["vis-red"] == want).all()


def test_clip_and_filter_bounds(ee_session):
    rect = ee.Geometry.Rectangle([X0 + 100, Y0 - 300, X0 + 300, Y0 - 100], "EPSG:32633", False)
    a = pixels(ee.Image(SCENE).select("nir").clip(rect).unmask(7), grid(40, 40))
    want = np.full((40, 40), 7)
    want[10:30, 10:30] = scene()["nir"][10:30, 10:30]
    np.testing.assert_array_equal(a["nir"], want)
    coll = ee.ImageCollection(SCENES)
    assert coll.filterBounds(ee.Geometry.Point([15.46, 47.95])).size().getInfo() == 5
    assert coll.filterBounds(ee.Geometry.Polygon([[[16, 48], [16.1, 48], [16.1, 48.1], [16, 48]]])).size().getInfo() == 0


def test_reprojected_epsg_4326_grid(ee_session):
    g = {"crsCode": "EPSG:4326", "affineTransform": {"scaleX": 0.0001, "shearX": 0, "translateX": 15.45, "shearY": 0,
                                                     "scaleY": -0.0001, "translateY": 47.955}, "dimensions": {"width": 50, "height": 40}}
    a = pixels(ee.Image(SCENE).select("red"), g)
    u, v = np.meshgrid(np.arange(50) + 0.5, np.arange(40) + 0.5)
    x, y = pyproj.Transformer.from_crs(4326, 32633, always_xy=True).transform(15.45 + 0.0001 * u, 47.955 - 0.0001 * v)
    np.testing.assert_array_equal(a["red"], scene()["red"][np.floor((Y0 - y) / 10).astype(int), np.floor((x - X0) / 10).astype(int)])
    # reproject: computed at 40 m in EPSG:32633 whatever grid asks for it; resample: bilinear.
    r = ee.Image(ELEVATION).reproject("EPSG:32633", None, 40)
    assert r.projection().getInfo()["transform"][0] == 40
    b = pixels(r, grid(8, 8, scale=20.0))
    np.testing.assert_array_equal(b["elevation"], np.repeat(np.repeat(elevation()[1:8:2, 1:8:2], 2, 0), 2, 1))
    c = pixels(ee.Image(ELEVATION).resample("bilinear"), grid(4, 4, scale=20.0, x0=X0 + 10, y0=Y0 - 10))
    e = elevation().astype(np.float64)
    np.testing.assert_allclose(c["elevation"], (e[:4, :4] + e[:4, 1:5] + e[1:5, :4] + e[1:5, 1:5]) / 4, rtol=1e-6)


def test_thumbnails_and_downloads(ee_session):
    import requests

    img = ee.Image(SCENE)
    r = requests.get(img.getThumbURL({"bands": ["red", "green", "blue"], "min": 0, "max": 3000, "dimensions": 32}), timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] in ("image/png", "image/jpeg")
    url = img.select("nir").getDownloadURL({"scale": 20, "region": ee.Geometry.Rectangle([X0, Y0 - 200, X0 + 200, Y0], "EPSG:32633", False)})
    with zipfile.ZipFile(io.BytesIO(requests.get(url, timeout=30).content)) as z:
        assert z.namelist() == ["download.nir.tif"]
    url = img.getDownloadURL({"format": "NPY", "bands": ["red"], "scale": 20,
                              "region": ee.Geometry.Rectangle([X0, Y0 - 200, X0 + 200, Y0], "EPSG:32633", False)})
    a = np.load(io.BytesIO(requests.get(url, timeout=30).content))
    np.testing.assert_array_equal(a["red"], scene()["red"][1:20:2, 1:20:2])  # 20 m pixel centres, nearest


def test_every_client_method_exists_and_unimplemented_ones_say_so(ee_session):
    from ee import apifunction
    from eerest_emulator._catalogue import catalogue

    assert all(apifunction.ApiFunction.lookup(name) is not None for name in catalogue())
    with pytest.raises(ee.EEException, match=r"Image\.entropy is not implemented in the eerest emulator"):
        ee.Image(SCENE).entropy(ee.Kernel.square(1)).getInfo()
    with pytest.raises(ee.EEException, match=r"Image\.random is not implemented"):
        pixels(ee.Image.random(), grid(2, 2))


def test_more_reductions_and_helpers(ee_session):
    stack = np.stack([scene(d) for d in DATES])
    coll = ee.ImageCollection(SCENES).select("red")
    m = pixels(coll.mode(), grid(6, 6))["red"]
    for r in range(6):
        for c in range(6):
            vals, counts = np.unique(stack["red"][:, r, c], return_counts=True)
            assert m[r, c] == vals[np.argmax(counts)]
    mean = pixels(ee.Image(SCENE).reduce(ee.Reducer.mean()), grid(6, 6))
    assert mean.dtype.names == ("mean",)
    s = scene()[:6, :6]
    np.testing.assert_allclose(mean["mean"], np.mean([s[b].astype(float) for b in ("blue", "green", "red", "nir")], axis=0))
    rows = ee.ImageCollection(SCENES).select(["red", "nir"]).getRegion(ee.Geometry.Point([X0 + 55, Y0 - 25], "EPSG:32633"), 10, "EPSG:32633").getInfo()
    assert rows[0] == ["id", "longitude", "latitude", "time", "red", "nir"]
    assert [(r[0], r[4], r[5]) for r in rows[1:]] == [(d, int(stack["red"][i, 2, 5]), int(stack["nir"][i, 2, 5])) for i, d in enumerate(DATES)]
    lon, lat = pyproj.Transformer.from_crs(32633, 4326, always_xy=True).transform(X0 + 55, Y0 - 25)
    assert rows[1][1:3] == [pytest.approx(lon), pytest.approx(lat)]
    ll = pixels(ee.Image.pixelLonLat(), grid(3, 2))
    assert ll[1, 2]["longitude"] == pytest.approx(pyproj.Transformer.from_crs(32633, 4326, always_xy=True).transform(X0 + 25, Y0 - 15)[0])
    xy = pixels(ee.Image.pixelCoordinates(ee.Projection("EPSG:32633")), grid(3, 2))
    assert (xy[1, 2]["x"], xy[1, 2]["y"]) == (X0 + 25, Y0 - 15)
    assert ee.Geometry.Point([1, 2]).bounds(1, ee.Projection("EPSG:4326")).getInfo()["type"] == "Polygon"  # ErrorMargin
    assert ee.Algorithms.If(ee.ImageCollection(SCENES).size().gt(3), "many", "few").getInfo() == "many"


def test_map_tiles(ee_session):
    from PIL import Image as PILImage

    m = ee.Image(SCENE).getMapId({"bands": ["nir"], "min": 0, "max": 5000})
    z, x, y = 16, 35579, 22792  # a Web Mercator tile over the sample scene's north-west corner
    tile = np.asarray(PILImage.open(io.BytesIO(m["tile_fetcher"].fetch_tile(x, y, z))))
    assert tile.shape == (256, 256, 4)  # partly outside the scene: transparent there
    half, size = 20037508.342789244, 2 * 20037508.342789244 / 2**z / 256
    u, v = np.meshgrid(np.arange(256) + 0.5, np.arange(256) + 0.5)
    ux, uy = pyproj.Transformer.from_crs(3857, 32633, always_xy=True).transform(-half + (x * 256 + u) * size, half - (y * 256 + v) * size)
    col, row = np.floor((ux - X0) / 10).astype(int), np.floor((Y0 - uy) / 10).astype(int)
    inside = (col >= 0) & (col < 224) & (row >= 0) & (row < 224)
    assert 0.1 < inside.mean() < 0.9
    want = np.round(np.clip(scene()["nir"][row.clip(0, 223), col.clip(0, 223)] / 5000, 0, 1) * 255)
    np.testing.assert_array_equal(tile[..., 0][inside], want[inside])
    assert (tile[..., 3][inside] == 255).all() and (tile[..., 3][~inside] == 0).all()


def test_unserved_methods_answer_a_clear_error_not_an_attribute_error(ee_session):
    # 501 is a 5xx, which earthengine-api retries with backoff (as it would against Google).
    ee.data.setMaxRetries(0)
    video = ee.ImageCollection(SCENES).map(lambda i: i.select(["red", "green", "blue"]).toByte())
    with pytest.raises(ee.EEException, match=r"projects\.video\.export is not implemented in the eerest emulator"):
        ee.batch.Export.video.toDrive(video, description="x", dimensions=64).start()
    with pytest.raises(ee.EEException, match=r"projects\.classifier\.export is not implemented"):
        ee.batch.Export.classifier.toAsset(ee.Classifier.smileCart(), description="c",
                                           assetId="projects/eerest/assets/classifier").start()


def test_feature_collections_and_reduce_regions(ee_session):
    e = elevation().astype(np.float64)
    fc = ee.FeatureCollection([
        ee.Feature(ee.Geometry.Rectangle([X0, Y0 - 200, X0 + 200, Y0], "EPSG:32633", False), {"name": "corner"}),
        ee.Feature(ee.Geometry.Point([X0 + 505, Y0 - 305], "EPSG:32633"), {"name": "point"}),
    ])
    info = fc.getInfo()
    assert info["type"] == "FeatureCollection" and [f["properties"]["name"] for f in info["features"]] == ["corner", "point"]
    assert fc.size().getInfo() == 2 and fc.filter(ee.Filter.eq("name", "point")).size().getInfo() == 1
    means = ee.Image(ELEVATION).reduceRegions(fc, ee.Reducer.mean(), 20).aggregate_array("mean").getInfo()
    assert means == [pytest.approx(float(e[0:10, 0:10].mean())), pytest.approx(float(e[15, 25]))]
    assert fc.map(lambda f: f.set("twice", ee.Number(2).multiply(2))).aggregate_array("twice").getInfo() == [4, 4]
    with pytest.raises(ee.EEException, match="ImageCollection"):
        ee.data.computeImages({"expression": fc})


def test_bits_remap_and_more_filters(ee_session):
    s = scene()
    img = ee.Image(SCENE)
    a = pixels(img.select("red").rightShift(4).bitwiseAnd(3).leftShift(1).rename("bits"), grid(8, 8))
    np.testing.assert_array_equal(a["bits"], ((s["red"][:8, :8] >> 4) & 3) << 1)
    r = pixels(img.select("red").gt(1500).add(img.select("red").gt(2500)).remap([0, 1], [10, 20]), grid(8, 8))
    level = (s["red"][:8, :8] > 1500).astype(int) + (s["red"][:8, :8] > 2500)
    assert (r["red"][level == 0] == 10).all() and (r["red"][level == 1] == 20).all() and (r["red"][level == 2] == 0).all()
    coll = ee.ImageCollection(SCENES)
    assert coll.filter(ee.Filter.calendarRange(6, 6, "month")).aggregate_array("system:index").getInfo() == ["20240613"]
    assert coll.filter(ee.Filter.calendarRange(7, 5, "month")).size().getInfo() == 4  # wraps: July..May
    assert coll.filter(ee.Filter.stringEndsWith("SPACECRAFT", "-B")).size().getInfo() == 2
    assert coll.filter(ee.Filter.rangeContains("CLOUD_COVER", 2, 14)).size().getInfo() == 3
    assert coll.filter(ee.Filter.notNull(["CLOUD_COVER"])).size().getInfo() == 5


def test_neighbourhoods_in_the_output_grid(ee_session):
    from numpy.lib.stride_tricks import sliding_window_view

    e = elevation().astype(np.float64)
    g = grid(10, 8, scale=20.0, x0=X0 + 200, y0=Y0 - 100)  # the elevation's own 20 m pixels, from (5, 10)
    win = sliding_window_view(e[4:14, 9:21], (3, 3))  # 3 x 3 neighbourhoods of the 8 x 10 output pixels
    img = ee.Image(ELEVATION)
    np.testing.assert_allclose(pixels(img.focal_max(1, "square"), g)["elevation"], win.max(axis=(2, 3)), rtol=1e-6)
    np.testing.assert_allclose(pixels(img.focal_median(1.5), g)["elevation"], np.median(win, axis=(2, 3)), rtol=1e-6)
    np.testing.assert_allclose(pixels(img.convolve(ee.Kernel.square(1)), g)["elevation"], win.mean(axis=(2, 3)), rtol=1e-6)
    plus = pixels(img.reduceNeighborhood(ee.Reducer.min(), ee.Kernel.plus(1)), g)
    cross = np.minimum.reduce([win[:, :, 1, 1], win[:, :, 0, 1], win[:, :, 2, 1], win[:, :, 1, 0], win[:, :, 1, 2]])
    np.testing.assert_allclose(plus["elevation_min"], cross, rtol=1e-6)
    assert pixels(img.focal_mean(40, "square", "meters"), g)["elevation"][3, 3] == pytest.approx(e[6:11, 11:16].mean(), rel=1e-6)


def test_terrain_slope_and_blend(ee_session):
    e = elevation().astype(np.float64)
    s = pixels(ee.Terrain.slope(ee.Image(ELEVATION)), grid(6, 5, scale=20.0, x0=X0 + 200, y0=Y0 - 100))
    z = e[4:11, 9:17]  # the output's pixels (rows 5..9, cols 10..15) and their 4-connected neighbours
    want = np.degrees(np.arctan(np.hypot((z[1:-1, 2:] - z[1:-1, :-2]) / 40, (z[2:, 1:-1] - z[:-2, 1:-1]) / 40)))
    np.testing.assert_allclose(s["slope"], want, rtol=1e-5)
    top = ee.Image(SCENE).select("red").updateMask(ee.Image(SCENE).select("red").gt(1500))
    b = pixels(ee.Image(7).rename("red").blend(top), grid(8, 8))
    r = scene()["red"][:8, :8]
    np.testing.assert_array_equal(b["red"], np.where(r > 1500, r, 7))


def test_sample_and_sample_regions_give_every_pixel(ee_session):
    e = elevation()
    rect = ee.Geometry.Rectangle([X0, Y0 - 60, X0 + 40, Y0], "EPSG:32633", False)  # 2 x 3 pixels of 20 m
    s = ee.Image(ELEVATION).sample(rect, 20, geometries=True).getInfo()["features"]
    assert [f["properties"]["elevation"] for f in s] == [pytest.approx(float(v)) for v in e[:3, :2].ravel()]
    assert s[0]["geometry"]["type"] == "Point"
    fc = ee.FeatureCollection([ee.Feature(rect, {"name": "a"})])
    r = ee.Image(ELEVATION).sampleRegions(fc, ["name"], 20).aggregate_array("name").getInfo()
    assert r == ["a"] * 6
    with pytest.raises(ee.EEException, match="every pixel only"):
        ee.Image(ELEVATION).sample(rect, 20, numPixels=3).getInfo()


def test_pixel_area_on_the_ellipsoid(ee_session):
    a = pixels(ee.Image.pixelArea(), grid(3, 2))["area"]
    geod, t = pyproj.Geod(ellps="WGS84"), pyproj.Transformer.from_crs(32633, 4326, always_xy=True)
    lon, lat = t.transform([X0 + 20, X0 + 30, X0 + 30, X0 + 20], [Y0 - 10, Y0 - 10, Y0 - 20, Y0 - 20])
    assert a[1, 2] == pytest.approx(abs(geod.polygon_area_perimeter(lon, lat)[0]), rel=1e-6)
    assert 100.0 < a[1, 2] < 100.2  # a 10 m UTM pixel, 0.45 degrees from the central meridian
    total = ee.Image.pixelArea().reduceRegion(ee.Reducer.sum(), ee.Geometry.Rectangle([X0, Y0 - 200, X0 + 200, Y0], "EPSG:32633", False), 10, "EPSG:32633")
    assert total.getInfo()["area"] == pytest.approx(float(pixels(ee.Image.pixelArea(), grid(20, 20))["area"].sum()), rel=1e-9)
