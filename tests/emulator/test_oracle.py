"""The emulator is an independent oracle: it checks requests against its own copy of the
discovery documents, strictly, and never uses the SDK's generated classes."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import eerest_emulator
import pytest
from emulator_helpers import SCENE, expr, grid

from eerest.errors import BadRequestError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(eerest_emulator.__file__).parent


def test_shipped_discovery_documents_are_the_repositorys_schema():
    # update_schema writes both; the emulator serves Earth Engine's documents only
    shipped = sorted(p.name for p in (PACKAGE / "discovery").glob("*.json"))
    assert shipped == sorted(p.name for p in (ROOT / "schema").glob("earthengine.*.json"))
    for name in shipped:
        assert (PACKAGE / "discovery" / name).read_bytes() == (ROOT / "schema" / name).read_bytes(), (
            f"{name} differs from schema/{name}: copy it, cp schema/earthengine.*.json emulator/src/eerest_emulator/discovery/ "
            "(nox -s update_schema and nox -s build_schema write both)"
        )


def test_the_emulator_never_imports_the_sdk():
    """Only the pytest plugin's client fixtures import eerest, lazily (inside the fixtures)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            sdk = [n for n in names if n == "eerest" or n.startswith("eerest.")]
            if sdk:
                assert path.name == "testing.py" and node.col_offset > 0, f"{path.name} imports {sdk}"


def test_a_misspelt_field_from_the_sdk_is_rejected(ee_client):
    """What a wrong SDK schema would send (a field the service does not have) fails here as it
    would on Earth Engine, instead of passing on both sides."""
    with pytest.raises(BadRequestError) as info:
        ee_client.projects.assets.get_pixels(name=SCENE, file_format="NPY", extra_body={"bandIDs": ["nir"]})
    err = info.value
    assert err.status == "INVALID_ARGUMENT"
    assert 'Invalid JSON payload received. Unknown name "bandIDs": Cannot find field.' in str(err)
    (violation,) = err.details[0]["fieldViolations"]
    assert violation["description"] == err.message


async def test_a_misspelt_nested_field_from_the_async_sdk_is_rejected(ee_async_client):
    g = grid(4, 4)
    g["affineTransform"]["scalex"] = g["affineTransform"].pop("scaleX")
    load = {"functionInvocationValue": {"functionName": "Image.load", "arguments": {"id": {"constantValue": SCENE}}}}
    async with ee_async_client as client:
        with pytest.raises(BadRequestError, match=r"Unknown name \"scalex\" at 'grid.affine_transform'"):
            await client.projects.image.compute_pixels(
                expression=expr(load), file_format="NPY", extra_body={"grid": g}
            )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"fileFormat": "PNGX"}, "Invalid value at 'file_format' (TYPE_ENUM), \"PNGX\""),
        ({"fileFormat": 3}, "Invalid value at 'file_format' (TYPE_ENUM), 3"),
        ({"bandIds": "nir"}, "Invalid value at 'band_ids' (TYPE_LIST), \"nir\""),
        ({"bandIds": [1]}, "Invalid value at 'band_ids[0]' (TYPE_STRING), 1"),
        ({"grid": {"dimensions": {"width": "wide"}}}, "Invalid value at 'grid.dimensions.width' (TYPE_INT32), \"wide\""),
        ({"grid": {"dimensions": {"width": 2.5}}}, "Invalid value at 'grid.dimensions.width' (TYPE_INT32), 2.5"),
        ({"grid": {"affineTransform": {"scaleX": True}}}, "Invalid value at 'grid.affine_transform.scale_x' (TYPE_DOUBLE), true"),
        ({"grid": []}, "Invalid value at 'grid' (type.googleapis.com/google.earthengine.v1.PixelGrid), []"),
        ({"visualizationOptions": {"ranges": [{"min": 0, "max": 1, "mid": 2}]}},
         "Unknown name \"mid\" at 'visualization_options.ranges[0]': Cannot find field."),
        ({"fileFormat": "NPY", "extra": 1}, 'Unknown name "extra": Cannot find field.'),
    ],
)
def test_bodies_are_checked_against_the_schema(http, body, message):
    r = http.post(f"/v1/{SCENE}:getPixels", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"


def test_expression_nodes_are_checked_too(http):
    node = {"functionInvocationValue": {"functionName": "Image.load", "arguments": {"id": {"constantValu": SCENE}}}}
    r = http.post("/v1/projects/eerest/image:computePixels", json={"expression": expr(node), "fileFormat": "NPY"})
    assert r.status_code == 400
    assert "Unknown name \"constantValu\" at 'expression.values[0].function_invocation_value.arguments[id]'" in r.json()["error"]["message"]


def test_proto3_json_spellings_are_accepted(http):
    """What proto3 JSON allows (numbers as strings, "NaN") passes, normalised."""
    body = {"fileFormat": "NPY", "bandIds": ["nir"], "grid": grid(3, 2)}
    body["grid"]["dimensions"] = {"width": "3", "height": "2"}
    body["grid"]["affineTransform"]["scaleX"] = "10"
    r = http.post(f"/v1/{SCENE}:getPixels", json=body)
    assert r.status_code == 200, r.text


def test_unknown_query_parameters_are_rejected(http):
    r = http.get(f"/v1/{SCENE}", params={"prettyPrint": "false", "feilds": "name"})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        'Invalid JSON payload received. Unknown name "feilds": Cannot bind query parameter. '
        "Field 'feilds' could not be found in request message."
    )
    assert http.get(f"/v1/{SCENE}", params={"prettyPrint": "false", "alt": "json"}).status_code == 200
    r = http.get(f"/v1/{SCENE}", params={"alt": "xml"})
    assert r.status_code == 400 and r.json()["error"]["message"] == "Invalid value at 'alt' (TYPE_ENUM), \"xml\""


def test_responses_are_shaped_by_the_schema(http):
    asset = http.get(f"/v1/{SCENE}").json()
    assert isinstance(asset["sizeBytes"], str) and int(asset["sizeBytes"]) > 0  # int64 as a string


def test_served_discovery_document_is_the_shipped_one_plus_what_the_emulator_adds(http):
    doc = http.get("/$discovery/rest", params={"version": "v1beta"}).json()
    schema = json.loads((ROOT / "schema" / "earthengine.v1beta.json").read_text())
    assert set(schema["schemas"]) <= set(doc["schemas"])
    assert doc["schemas"]["GetPixelsRequest"] == schema["schemas"]["GetPixelsRequest"]
    methods = doc["resources"]["projects"]["resources"]["assets"]["methods"]
    assert {"get", "getPixels", "listAssets", "listImages"} <= set(methods)
    assert doc["rootUrl"] == str(http.base_url.join("/"))
    assert doc["revision"] == schema["revision"]
