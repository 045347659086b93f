"""Expression evaluation (every ValueNode kind), algorithms, computeImages paging and filters."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from emulator_helpers import SCENE, SCENES, call, const, expr, grid

CP = "/v1/projects/eerest/image:computePixels"
CI = "/v1/projects/eerest/imageCollection:computeImages"


def scenes() -> list[np.ndarray]:
    from eerest_emulator import BUNDLED_DATA

    d = BUNDLED_DATA / "eerest" / "sample" / "scenes"
    return [np.load(p) for p in sorted(d.glob("*.npy"))]


def npy(r) -> np.ndarray:
    assert r.status_code == 200, r.text
    return np.load(io.BytesIO(r.content))


def test_ndvi_median_composite(http):
    load = call("ImageCollection.load", id=const(SCENES))
    fn = {"functionDefinitionValue": {"argumentNames": ["_MAPPING_VAR_0_0"], "body": "2"}}
    nd = call("Image.normalizedDifference", input={"argumentReference": "_MAPPING_VAR_0_0"}, bandNames=const(["nir", "red"]))
    e = {"result": "0", "values": {"0": call("reduce.median", collection=call("Collection.map", collection=load, baseAlgorithm={"valueReference": "1"})), "1": fn, "2": nd}}
    a = npy(http.post(CP, json={"expression": e, "fileFormat": "NPY", "grid": grid()}))
    assert a.dtype == np.dtype([("nd", "<f8")])
    stack = np.stack([(s["nir"].astype(float) - s["red"]) / (s["nir"].astype(float) + s["red"]) for s in scenes()])
    np.testing.assert_allclose(a["nd"], np.median(stack, axis=0), rtol=1e-12)


def test_arithmetic_select_rename_and_types(http):
    img = call("Image.select", input=call("Image.load", id=const(SCENE)), bandSelectors=const(["n.*", 2]), newNames=const(["a", "b"]))
    e = {"result": "0", "values": {
        "0": call("Image.rename", input=call("Image.divide", image1=call("Image.subtract", image1={"valueReference": "1"}, image2=call("Image.constant", value=const(100))), image2=call("Image.toFloat", value=call("Image.constant", value=const(2)))), names=const(["x", "y"])),
        "1": img,
    }}
    a = npy(http.post(CP, json={"expression": e, "fileFormat": "NPY"}))
    assert a.dtype.names == ("x", "y") and a.dtype["x"] == np.float64  # int32 range with a float: double
    s = scenes()[0]
    np.testing.assert_allclose(a["x"], (s["nir"].astype(float) - 100) / 2, rtol=1e-6)
    np.testing.assert_allclose(a["y"], (s["red"].astype(float) - 100) / 2, rtol=1e-6)


def test_int_add_widens_type(http):
    s = call("Image.select", input=call("Image.load", id=const(SCENE)), bandSelectors=const(["nir"]))
    e = expr(call("Image.add", image1=s, image2=s))
    a = npy(http.post(CP, json={"expression": e, "fileFormat": "NPY"}))
    assert a.dtype["nir"] == np.uint32
    np.testing.assert_array_equal(a["nir"], scenes()[0]["nir"].astype(np.uint32) * 2)


def test_every_value_node_kind(http):
    # constantValue, integerValue, bytesValue, arrayValue, dictionaryValue, functionDefinitionValue,
    # functionInvocationValue by name and by reference, argumentReference, valueReference.
    values = {
        "0": {"functionInvocationValue": {"functionReference": "f", "arguments": {"x": {"valueReference": "c"}, "k": {"integerValue": "3"}}}},
        "f": {"functionDefinitionValue": {"argumentNames": ["x", "k"], "body": "body"}},
        "body": call("Image.multiply", image1={"argumentReference": "x"}, image2=call("Image.constant", value={"arrayValue": {"values": [{"argumentReference": "k"}]}})),
        "c": call("Image.select", input=call("Image.constant", value=const([1, 2])), bandSelectors={"arrayValue": {"values": [const("constant_1")]}}),
        "unused_dict": {"dictionaryValue": {"values": {"a": const(1)}}},
        "unused_bytes": {"bytesValue": base64.b64encode(b"abc").decode()},
    }
    a = npy(http.post(CP, json={"expression": {"result": "0", "values": values}, "fileFormat": "NPY", "grid": grid(3, 2)}))
    assert a.dtype.names == ("constant_1",) and (a["constant_1"] == 6).all()


def test_mosaic_and_first(http):
    load = call("ImageCollection.load", id=const(SCENES))
    m = npy(http.post(CP, json={"expression": expr(call("ImageCollection.mosaic", collection=load)), "fileFormat": "NPY", "bandIds": ["red"]}))
    np.testing.assert_array_equal(m["red"], scenes()[-1]["red"])
    f = npy(http.post(CP, json={"expression": expr(call("Collection.first", collection=load)), "fileFormat": "NPY", "bandIds": ["red"]}))
    np.testing.assert_array_equal(f["red"], scenes()[0]["red"])


def test_reduce_with_reducer_names_bands(http):
    load = call("ImageCollection.load", id=const(SCENES))
    e = expr(call("ImageCollection.reduce", collection=load, reducer=call("Reducer.mean")))
    a = npy(http.post(CP, json={"expression": e, "fileFormat": "NPY", "grid": grid(8, 8)}))
    assert a.dtype.names == ("blue_mean", "green_mean", "red_mean", "nir_mean")
    np.testing.assert_allclose(a["nir_mean"], np.mean([s["nir"][:8, :8].astype(float) for s in scenes()], axis=0))


@pytest.mark.parametrize(
    "node,needle",
    [
        (call("Image.frobnicate", input=const(1)), "Image.frobnicate"),
        (call("Image.select", input=call("Image.constant", value=const(1)), bandSelector=const(["a"])), "Unrecognized argument 'bandSelector'"),
        (call("Image.select", input=call("Image.constant", value=const(1))), "Parameter 'bandSelectors' is required"),
        (call("Image.select", input=call("Image.constant", value=const(1)), bandSelectors=const(["zz"])), "Image.select: Pattern 'zz'"),
        (call("Image.add", image1=const("text"), image2=const(1)), "Image.add, argument 'image1': Invalid type"),
        (call("Image.load", id=const("projects/eerest/assets/missing")), "Image.load: Image asset 'projects/eerest/assets/missing' not found"),
        ({"valueReference": "nowhere"}, "nowhere"),
        ({"constantValue": 1, "integerValue": "1"}, "exactly one"),
    ],
)
def test_bad_expressions_are_400_naming_the_cause(http, node, needle):
    r = http.post(CP, json={"expression": expr(node), "fileFormat": "NPY", "grid": grid(1, 1)})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT" and needle in err["message"]


def test_compute_pixels_of_a_collection_is_400(http):
    r = http.post(CP, json={"expression": expr(call("ImageCollection.load", id=const(SCENES))), "fileFormat": "NPY"})
    assert r.status_code == 400 and "Image" in r.json()["error"]["message"]


def test_compute_images_lists_collection(http):
    r = http.post(CI, json={"expression": expr(call("ImageCollection.load", id=const(SCENES)))})
    images = r.json()["images"]
    assert [i["id"] for i in images] == [f"sample/scenes/2024{d}" for d in ("0504", "0524", "0613", "0703", "0723")]
    first = images[0]
    assert first["type"] == "IMAGE" and first["name"] == SCENE
    assert first["startTime"] == "2024-05-04T10:05:31Z" and first["geometry"]["type"] == "Polygon"
    assert [b["id"] for b in first["bands"]] == ["blue", "green", "red", "nir"]
    assert "nextPageToken" not in r.json()


def test_compute_images_paging_is_stable(http):
    e = expr(call("ImageCollection.load", id=const(SCENES)))
    ids, token, pages = [], None, 0
    while True:
        body = {"expression": e, "pageSize": 2, **({"pageToken": token} if token else {})}
        page = http.post(CI, json=body).json()
        ids += [i["id"] for i in page["images"]]
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            break
    assert pages == 3 and len(ids) == 5 and len(set(ids)) == 5
    r = http.post(CI, json={"expression": e, "pageSize": 2, "pageToken": "garbage"})
    assert r.status_code == 400
    other = expr(call("Collection.limit", collection=call("ImageCollection.load", id=const(SCENES)), limit=const(4)))
    tok = http.post(CI, json={"expression": e, "pageSize": 2}).json()["nextPageToken"]
    assert http.post(CI, json={"expression": other, "pageSize": 2, "pageToken": tok}).status_code == 400


def test_compute_images_filters_and_limit(http):
    load = call("ImageCollection.load", id=const(SCENES))
    dates = call("Filter.dateRangeContains", leftValue=call("DateRange", start=const("2024-05-10"), end=const("2024-07-10")), rightField=const("system:time_start"))
    clouds = call("Filter.lessThan", leftField=const("CLOUD_COVER"), rightValue=const(20))
    e = expr(call("Collection.filter", collection=call("Collection.filter", collection=load, filter=dates), filter=clouds))
    assert [i["id"][-8:] for i in http.post(CI, json={"expression": e}).json()["images"]] == ["20240613", "20240703"]
    eq = call("Filter.equals", leftField=const("SPACECRAFT"), rightValue=const("EERESTSAT-B"))
    e = expr(call("Collection.filter", collection=load, filter=eq))
    assert [i["id"][-8:] for i in http.post(CI, json={"expression": e}).json()["images"]] == ["20240524", "20240703"]
    lim = call("Collection.limit", collection=load, limit=const(2), key=const("CLOUD_COVER"), ascending=const(False))
    assert [i["id"][-8:] for i in http.post(CI, json={"expression": expr(lim)}).json()["images"]] == ["20240524", "20240703"]
    both = call("Filter.and", filters={"arrayValue": {"values": [eq, {"functionInvocationValue": {"functionName": "Filter.not", "arguments": {"filter": clouds}}}]}})
    assert [i["id"][-8:] for i in http.post(CI, json={"expression": expr(call("Collection.filter", collection=load, filter=both))}).json()["images"]] == ["20240524"]


def test_compute_images_of_mapped_collection(http):
    load = call("ImageCollection.load", id=const(SCENES))
    fn = {"functionDefinitionValue": {"argumentNames": ["img"], "body": "b"}}
    e = {"result": "0", "values": {
        "0": call("Collection.map", collection=load, baseAlgorithm={"valueReference": "f"}),
        "f": fn,
        "b": call("Image.normalizedDifference", input={"argumentReference": "img"}, bandNames=const(["nir", "red"])),
    }}
    images = http.post(CI, json={"expression": e}).json()["images"]
    assert len(images) == 5 and images[0]["bands"][0]["id"] == "nd"
    assert images[0]["bands"][0]["dataType"] == {"precision": "FLOAT"}
