"""Reprojection: grids and regions in any CRS, shear, resample/reproject, GeoTIFF georeferencing.

Expected values are computed here independently: pyproj carries each output pixel centre
into the data's CRS and numpy picks (or interpolates) the source pixels.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from emulator_helpers import ELEVATION, SCENE, X0, Y0, call, const, expr, grid

pyproj = pytest.importorskip("pyproj")

CP = "/v1/projects/eerest/image:computePixels"
W4326 = {"crsCode": "EPSG:4326", "affineTransform": {"scaleX": 0.0002, "shearX": 0, "translateX": 15.448,
                                                     "shearY": 0, "scaleY": -0.00015, "translateY": 47.956},
         "dimensions": {"width": 60, "height": 80}}


def scene(band: str) -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "scenes" / "20240504.npy")[band]


def elevation() -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "elevation.npy")


def centres(g: dict) -> tuple[np.ndarray, np.ndarray]:
    at, d = g["affineTransform"], g["dimensions"]
    u, v = np.meshgrid(np.arange(d["width"]) + 0.5, np.arange(d["height"]) + 0.5)
    x = at["translateX"] + at["scaleX"] * u + at.get("shearX", 0) * v
    y = at["translateY"] + at.get("shearY", 0) * u + at["scaleY"] * v
    return x, y


def to_utm(g: dict) -> tuple[np.ndarray, np.ndarray]:
    x, y = centres(g)
    if g["crsCode"] != "EPSG:32633":
        t = pyproj.Transformer.from_crs(g["crsCode"], "EPSG:32633", always_xy=True)
        x, y = t.transform(x, y)
    return x, y


def nearest(src: np.ndarray, scale: float, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    col, row = np.floor((x - X0) / scale).astype(int), np.floor((Y0 - y) / scale).astype(int)
    inside = (col >= 0) & (col < src.shape[1]) & (row >= 0) & (row < src.shape[0])
    return np.where(inside, src[row.clip(0, src.shape[0] - 1), col.clip(0, src.shape[1] - 1)], 0), inside


def npy(r) -> np.ndarray:
    assert r.status_code == 200, r.text
    return np.load(io.BytesIO(r.content))


def test_get_pixels_in_epsg_4326_is_nearest_neighbour_of_the_utm_data(http):
    a = npy(http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["nir"], "grid": W4326}))
    want, inside = nearest(scene("nir"), 10.0, *to_utm(W4326))
    assert a.shape == (80, 60) and inside.all()
    np.testing.assert_array_equal(a["nir"], want)


def test_grid_partly_outside_is_zero_there(http):
    g = {**W4326, "affineTransform": {**W4326["affineTransform"], "translateX": 15.470}}
    a = npy(http.post(f"/v1/{ELEVATION}:getPixels", json={"fileFormat": "NPY", "grid": g}))
    want, inside = nearest(elevation(), 20.0, *to_utm(g))
    assert 0 < inside.sum() < inside.size
    np.testing.assert_array_equal(a["elevation"], want.astype(np.float32))


def test_sheared_grid(http):
    g = grid(40, 30, scale=15.0, x0=X0 + 200, y0=Y0 - 100)
    g["affineTransform"]["shearX"] = 5.0
    g["affineTransform"]["shearY"] = -3.0
    a = npy(http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["red"], "grid": g}))
    want, _ = nearest(scene("red"), 10.0, *centres(g))
    np.testing.assert_array_equal(a["red"], want)


def test_partial_grid_in_another_crs_covers_the_image(http):
    a = npy(http.post(f"/v1/{ELEVATION}:getPixels", json={"fileFormat": "NPY", "grid": {"crsCode": "EPSG:4326", "dimensions": {"width": 50, "height": 40}}}))
    assert a.shape == (40, 50)
    # The EPSG:4326 bounding box of the (slightly rotated) UTM square: filled but for slivers at the edges.
    e = a["elevation"]
    assert (e[1:-1, 1:-1] != 0).all() and (e == 0).mean() < 0.05


def test_region_in_epsg_4326_for_a_utm_grid(http):
    region = {"type": "Polygon", "coordinates": [[[15.45, 47.945], [15.46, 47.945], [15.46, 47.952], [15.45, 47.952], [15.45, 47.945]]]}
    a = npy(http.post(f"/v1/{ELEVATION}:getPixels", json={"fileFormat": "NPY", "region": region}))
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    xs, ys = t.transform([15.45, 15.46, 15.46, 15.45], [47.945, 47.945, 47.952, 47.952])
    assert a.shape == (int(np.ceil((max(ys) - min(ys)) / 20)), int(np.ceil((max(xs) - min(xs)) / 20)))
    # The bounding box in the output CRS, at the image's 20 m: nearest neighbours from its corner.
    g = grid(a.shape[1], a.shape[0], scale=20.0, x0=min(xs), y0=max(ys))
    want, _ = nearest(elevation(), 20.0, *centres(g))
    np.testing.assert_array_equal(a["elevation"], want.astype(np.float32))


def test_bilinear_resample_matches_numpy(http):
    src = elevation().astype(np.float64)
    img = call("Image.resample", image=call("Image.load", id=const(ELEVATION)), mode=const("bilinear"))
    g = grid(20, 16, scale=5.0, x0=X0 + 400, y0=Y0 - 300)  # 4x finer than the 20 m data
    a = npy(http.post(CP, json={"expression": expr(img), "fileFormat": "NPY", "grid": g}))
    x, y = centres(g)
    fc, fr = (x - X0) / 20.0 - 0.5, (Y0 - y) / 20.0 - 0.5
    c0, r0 = np.floor(fc).astype(int), np.floor(fr).astype(int)
    tx, ty = fc - c0, fr - r0
    want = (src[r0, c0] * (1 - tx) * (1 - ty) + src[r0, c0 + 1] * tx * (1 - ty)
            + src[r0 + 1, c0] * (1 - tx) * ty + src[r0 + 1, c0 + 1] * tx * ty)
    np.testing.assert_allclose(a["elevation"], want, rtol=1e-6)
    nn = npy(http.post(CP, json={"expression": expr(call("Image.load", id=const(ELEVATION))), "fileFormat": "NPY", "grid": g}))
    assert not np.array_equal(nn["elevation"], a["elevation"])


def test_reproject_computes_in_the_given_projection(http):
    # Computed at 40 m in EPSG:32633, then served at 10 m: blocks of 4 x 4 equal pixels.
    img = call("Image.reproject", image=call("Image.load", id=const(ELEVATION)), crs=const("EPSG:32633"), scale=const(40))
    g = grid(16, 16, scale=10.0)
    a = npy(http.post(CP, json={"expression": expr(img), "fileFormat": "NPY", "grid": g}))["elevation"]
    np.testing.assert_array_equal(a, np.repeat(np.repeat(elevation()[1:8:2, 1:8:2], 4, 0), 4, 1))


def test_geotiff_georeferencing_in_any_crs(http):
    tifffile = pytest.importorskip("tifffile")
    for g, key, code in ((W4326, 2048, 4326), (grid(8, 8, scale=20.0), 3072, 32633),
                         ({**W4326, "crsCode": "EPSG:3857", "affineTransform": {"scaleX": 20.0, "translateX": 1_720_000.0, "scaleY": -20.0, "translateY": 6_100_000.0}, "dimensions": {"width": 8, "height": 8}}, 3072, 3857)):
        r = http.post(f"/v1/{ELEVATION}:getPixels", json={"fileFormat": "GEO_TIFF", "grid": g})
        assert r.status_code == 200, r.text
        with tifffile.TiffFile(io.BytesIO(r.content)) as tif:
            tags = tif.pages[0].tags
            keys = list(tags["GeoKeyDirectoryTag"].value)
            entries = {keys[i]: keys[i + 3] for i in range(4, len(keys), 4)}
            assert entries[key] == code
            assert entries[1024] == (2 if key == 2048 else 1)
            assert tags["ModelPixelScaleTag"].value[0] == g["affineTransform"]["scaleX"]
            assert tags["ModelTiepointTag"].value[3:5] == (g["affineTransform"]["translateX"], g["affineTransform"]["translateY"])


def test_grid_in_a_crs_without_an_epsg_code(http):
    """A crsWkt grid (Lambert conformal conic): nearest-neighbour values, and a GeoTIFF whose
    citation carries the WKT (GDAL's "ESRI PE String") because no GeoKey can name the CRS."""
    tifffile = pytest.importorskip("tifffile")
    lcc = pyproj.CRS("+proj=lcc +lat_1=46 +lat_2=49 +lat_0=47.5 +lon_0=13.33 +x_0=400000 +y_0=400000 +ellps=GRS80 +units=m")
    x0, y0 = pyproj.Transformer.from_crs(4326, lcc, always_xy=True).transform(15.45, 47.957)
    g = {"crsWkt": lcc.to_wkt(), "affineTransform": {"scaleX": 30.0, "shearX": 0, "translateX": x0, "shearY": 0,
                                                      "scaleY": -30.0, "translateY": y0}, "dimensions": {"width": 40, "height": 30}}
    a = npy(http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["nir"], "grid": g}))
    x, y = centres(g)
    ux, uy = pyproj.Transformer.from_crs(lcc, "EPSG:32633", always_xy=True).transform(x, y)
    want, inside = nearest(scene("nir"), 10.0, ux, uy)
    assert inside.all()
    np.testing.assert_array_equal(a["nir"], want)
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "GEO_TIFF", "bandIds": ["nir"], "grid": g})
    with tifffile.TiffFile(io.BytesIO(r.content)) as tif:
        tags = tif.pages[0].tags
        keys = list(tags["GeoKeyDirectoryTag"].value)
        entries = {keys[i]: keys[i + 3] for i in range(4, len(keys), 4)}
        citation = tags["GeoAsciiParamsTag"].value
    assert entries[3072] == 32767 and citation.startswith("ESRI PE String = ")
    crs = pyproj.CRS(citation.removeprefix("ESRI PE String = ").rstrip("|"))
    got = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(15.45, 47.957)
    assert got == (pytest.approx(x0, abs=1e-3), pytest.approx(y0, abs=1e-3))


def test_region_with_only_a_crs_takes_the_image_pixel_size(http):
    region = {"type": "Polygon", "coordinates": [[[15.45, 47.945], [15.46, 47.945], [15.46, 47.952], [15.45, 47.952], [15.45, 47.945]]]}
    a = npy(http.post(f"/v1/{ELEVATION}:getPixels", json={"fileFormat": "NPY", "region": region, "grid": {"crsCode": "EPSG:4326"}}))
    step = 20.0 / 111319.49079327357  # the 20 m pixels, in degrees at the equator
    assert a.shape == (int(np.ceil(0.007 / step - 1e-9)), int(np.ceil(0.01 / step - 1e-9)))
    assert (a["elevation"] != 0).all()
