"""getPixels and computePixels pixel output: formats, dtypes, resampling, visualisation, limits."""

from __future__ import annotations

import io

import numpy as np
import pytest
from emulator_helpers import ELEVATION, SCENE, call, const, expr, grid

RAW = None


def scene_array() -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "scenes" / "20240504.npy")


def test_get_pixels_npy_native(http):
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY"})
    assert r.status_code == 200
    a = np.load(io.BytesIO(r.content))
    assert a.shape == (224, 224)
    assert a.dtype.names == ("blue", "green", "red", "nir")
    assert all(a.dtype[n] == np.dtype("<u2") for n in a.dtype.names)
    np.testing.assert_array_equal(a, scene_array())


def test_get_pixels_float_band_and_band_ids(http):
    a = np.load(io.BytesIO(http.post(f"/v1/{ELEVATION}:getPixels", json={"fileFormat": "NPY"}).content))
    assert a.dtype == np.dtype([("elevation", "<f4")]) and a.shape == (112, 112)
    b = np.load(io.BytesIO(http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["nir", "red"]}).content))
    assert b.dtype.names == ("nir", "red")
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["swir"]})
    assert r.status_code == 400 and "swir" in r.json()["error"]["message"]


def test_resample_scale_and_translation(http):
    src = scene_array()["nir"]
    # 20 m pixels, offset by 10 pixels (100 m) right and 20 pixels (200 m) down: nearest neighbour.
    g = grid(50, 40, scale=20.0, x0=533120.0 + 100, y0=5311840.0 - 200)
    a = np.load(io.BytesIO(http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["nir"], "grid": g}).content))
    assert a.shape == (40, 50)
    rows = 20 + 2 * np.arange(40) + 1
    cols = 10 + 2 * np.arange(50) + 1
    np.testing.assert_array_equal(a["nir"], src[np.ix_(rows, cols)])
    # 5 m pixels: each source pixel repeated 2x2; partly outside the scene -> zeros.
    g = grid(8, 8, scale=5.0, x0=533120.0 - 20, y0=5311840.0)
    b = np.load(io.BytesIO(http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["nir"], "grid": g}).content))["nir"]
    assert (b[:, :4] == 0).all()
    np.testing.assert_array_equal(b[:, 4:], np.repeat(np.repeat(src[:4, :2], 2, 0), 2, 1))


def test_resample_partial_grid_dimensions_only(http):
    a = np.load(io.BytesIO(http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["red"], "grid": {"dimensions": {"width": 112, "height": 112}}}).content))
    np.testing.assert_array_equal(a["red"], scene_array()["red"][1::2, 1::2])


def test_unknown_crs_is_400_naming_it(http):
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "grid": grid(10, 10, crs="EPSG:999999")})
    assert r.status_code == 400 and "EPSG:999999" in r.json()["error"]["message"]


def test_geotiff_is_georeferenced(http):
    tifffile = pytest.importorskip("tifffile")
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "GEO_TIFF", "bandIds": ["red", "nir"], "grid": grid(64, 32, scale=20.0)})
    assert r.status_code == 200 and r.headers["content-type"] == "image/tiff"
    with tifffile.TiffFile(io.BytesIO(r.content)) as tif:
        page = tif.pages[0]
        data = tif.asarray()
        tags = {t.code: t.value for t in page.tags}
    assert data.shape == (2, 32, 64) and data.dtype == np.uint16
    assert tuple(tags[33550]) == (20.0, 20.0, 0.0)
    assert tuple(tags[33922]) == (0.0, 0.0, 0.0, 533120.0, 5311840.0, 0.0)
    keys = list(tags[34735])
    assert 3072 in keys[4::4] and keys[4:][keys[4::4].index(3072) * 4 + 3] == 32633


def test_png_visualisation(http):
    from PIL import Image

    body = {"fileFormat": "PNG", "bandIds": ["red", "green", "blue"], "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]}}
    r = http.post(f"/v1/{SCENE}:getPixels", json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content))
    assert img.size == (224, 224) and img.mode == "RGB"
    px = np.asarray(img)
    src = scene_array()
    expect = np.round(np.clip(src["red"] / 3000.0, 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(px[..., 0], expect)


def test_palette_gamma_opacity(http):
    from PIL import Image

    vis = {"ranges": [{"min": 0, "max": 1}], "paletteColors": ["000000", "ff0000"], "opacity": 0.5, "gamma": 2.0}
    e = expr(call("Image.constant", value=const(0.25)))
    r = http.post("/v1/projects/eerest/image:computePixels", json={"expression": e, "fileFormat": "PNG", "grid": grid(4, 4), "visualizationOptions": vis})
    assert r.status_code == 200
    px = np.asarray(Image.open(io.BytesIO(r.content)))
    assert px.shape == (4, 4, 4)
    assert tuple(px[0, 0]) == (round(255 * 0.25 ** 0.5), 0, 0, 128)
    r = http.post("/v1/projects/eerest/image:computePixels", json={"expression": e, "fileFormat": "AUTO_JPEG_PNG", "grid": grid(4, 4), "visualizationOptions": vis})
    assert r.headers["content-type"] == "image/png"
    del vis["opacity"]
    r = http.post("/v1/projects/eerest/image:computePixels", json={"expression": e, "fileFormat": "AUTO_JPEG_PNG", "grid": grid(4, 4), "visualizationOptions": vis})
    assert r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"


def test_png_of_16_bit_data_without_visualisation_is_400(http):
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "PNG", "bandIds": ["red", "green", "blue"]})
    assert r.status_code == 400 and "8-bit" in r.json()["error"]["message"]
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "JPEG", "bandIds": ["red", "green"], "visualizationOptions": {}})
    assert r.status_code == 400


def test_masked_pixels_are_zero(http):
    # updateMask with red > 1000: masked pixels come back as 0 in NPY.
    img = call("Image.select", input=call("Image.load", id=const(SCENE)), bandSelectors=const(["red"]))
    masked = call("Image.updateMask", image={"valueReference": "1"}, mask=call("Image.gt", image1={"valueReference": "1"}, image2=call("Image.constant", value=const(1000))))
    e = {"result": "0", "values": {"0": masked, "1": img}}
    a = np.load(io.BytesIO(http.post("/v1/projects/eerest/image:computePixels", json={"expression": e, "fileFormat": "NPY"}).content))["red"]
    src = scene_array()["red"]
    np.testing.assert_array_equal(a, np.where(src > 1000, src, 0))


def test_size_limit_counts_mask_byte(http):
    # float64: 8 + 1 bytes per pixel. 2048 x 2731 x 9 = 50337792 > 50331648
    body = {"fileFormat": "NPY", "grid": grid(2048, 2731)}
    e2 = expr(call("Image.toDouble", value=call("Image.constant", value=const(1))))
    r = http.post("/v1/projects/eerest/image:computePixels", json={**body, "expression": e2})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": 400,
        "status": "INVALID_ARGUMENT",
        "message": "Total request size (50337792 bytes) must be less than or equal to 50331648 bytes.",
    }
    # The case in FACTS.md: 1845 x 1727 pixels x 2 float64 bands = 57353670 bytes.
    two = expr(call("Image.toDouble", value=call("Image.constant", value=const([1, 2]))))
    r = http.post("/v1/projects/eerest/image:computePixels", json={"expression": two, "fileFormat": "NPY", "grid": grid(1845, 1727)})
    assert r.json()["error"]["message"] == "Total request size (57353670 bytes) must be less than or equal to 50331648 bytes."
    # Just under the limit is fine: 2048 x 2730 x 9 = 50319360.
    r = http.post("/v1/projects/eerest/image:computePixels", json={**body, "expression": e2, "grid": grid(2048, 2730)})
    assert r.status_code == 200 and len(r.content) > 2048 * 2730 * 8
    # uint16 x 4 bands: (2 + 1) * 4 = 12 bytes a pixel
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "grid": grid(2048, 2049)})
    assert r.json()["error"]["message"] == "Total request size (50356224 bytes) must be less than or equal to 50331648 bytes."


def test_grid_dimension_and_band_limits(http):
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["red"], "grid": grid(55294, 1)})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Pixel grid dimensions (55294x1) must be less than or equal to 32768."
    e = expr(call("Image.constant", value=const(list(range(1025)))))
    r = http.post("/v1/projects/eerest/image:computePixels", json={"expression": e, "fileFormat": "NPY", "grid": grid(1, 1)})
    assert r.status_code == 400 and "1024" in r.json()["error"]["message"]


def test_int_types_served_as_smallest_dtype(http):
    e = expr(call("Image.constant", value=const([1, -1, 300, 70000, -40000])))
    a = np.load(io.BytesIO(http.post("/v1/projects/eerest/image:computePixels", json={"expression": e, "fileFormat": "NPY", "grid": grid(2, 2)}).content))
    assert [a.dtype[i] for i in range(5)] == [np.dtype(t) for t in ("u1", "i1", "u2", "u4", "i4")]
    assert a.dtype.names == tuple(f"constant_{i}" for i in range(5))


def test_cached_response_is_identical(http, ee_emulator):
    body = {"fileFormat": "NPY", "bandIds": ["nir"], "grid": grid(100, 100)}
    a = http.post(f"/v1/{SCENE}:getPixels", json=body).content
    b = http.post(f"/v1/{SCENE}:getPixels", json=body).content
    assert a == b
