"""Routing, auth, errors, discovery, algorithms.list, assets.get and the admin API over real HTTP."""

from __future__ import annotations

import json

import httpx
import pytest
from emulator_helpers import SCENE, SCENES


def test_missing_bearer_token_is_401(ee_emulator):
    r = httpx.get(f"{ee_emulator.url}/v1/projects/eerest/assets/sample/scenes")
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"
    r = httpx.get(f"{ee_emulator.url}/v1/projects/eerest/assets/sample/scenes", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


@pytest.mark.parametrize("version", ["v1alpha", "v1beta", "v1"])
def test_assets_get_all_versions(http, version):
    r = http.get(f"/{version}/{SCENE}")
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["type"] == "IMAGE" and a["name"] == SCENE and a["id"] == "sample/scenes/20240504"
    assert [b["id"] for b in a["bands"]] == ["blue", "green", "red", "nir"]
    b = a["bands"][0]
    assert b["dataType"] == {"precision": "INT", "range": {"min": 0, "max": 65535}}
    assert b["grid"]["crsCode"] == "EPSG:32633"
    assert b["grid"]["dimensions"] == {"width": 224, "height": 224}
    assert a["startTime"] == "2024-05-04T10:05:31Z"
    assert a["geometry"]["type"] == "Polygon"
    assert "CLOUD_COVER" in a["properties"]


def test_assets_get_collection_and_folder_and_encoded_name(http):
    assert http.get(f"/v1/{SCENES}").json()["type"] == "IMAGE_COLLECTION"
    assert http.get("/v1/projects/eerest/assets/sample").json()["type"] == "FOLDER"
    r = http.get("/v1/projects/eerest/assets/sample%2Fscenes%2F20240504")
    assert r.status_code == 200 and r.json()["name"] == SCENE


def test_unknown_asset_is_404(http):
    r = http.get("/v1/projects/eerest/assets/nope")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err == {"code": 404, "status": "NOT_FOUND", "message": err["message"]}
    assert "projects/eerest/assets/nope" in err["message"]
    r = http.post("/v1/projects/eerest/assets/nope:getPixels", json={"fileFormat": "NPY"})
    assert r.status_code == 404


def test_unknown_route_is_404(http):
    assert http.get("/v2/projects/p/assets/x").status_code == 404
    assert http.get("/v1/something").json()["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path", "method_id"),
    [
        ("POST", "/v1/projects/eerest/video:export", "projects.video.export"),
        ("POST", "/v1beta/projects/eerest/classifier:export", "projects.classifier.export"),
        ("POST", "/v1/projects/eerest/featureViews", "projects.featureViews.create"),
        ("GET", "/v1/projects/eerest/featureViews/fv/tiles/3/1/2", "projects.featureViews.tiles.get"),
        ("POST", "/v1alpha/projects/eerest/image:importExternal", "projects.image.importExternal"),
    ],
)
def test_documented_methods_the_emulator_does_not_serve_are_501(http, method, path, method_id):
    """Every method of the (complete) discovery documents answers: 501 and a google.rpc.Status naming it."""
    r = http.request(method, path, json={} if method == "POST" else None)
    assert r.status_code == 501
    error = r.json()["error"]
    assert error["status"] == "UNIMPLEMENTED" and error["code"] == 501
    assert error["message"].startswith(f"{method_id} is not implemented in the eerest emulator")


def test_bad_json_and_unknown_field_are_400(http):
    r = http.post("/v1/projects/eerest/image:computePixels", content=b"{not json")
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r = http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bogus": 1})
    assert r.status_code == 400
    assert 'Unknown name "bogus"' in r.json()["error"]["message"]


@pytest.mark.parametrize("version", ["v1alpha", "v1beta", "v1"])
def test_discovery_documents(ee_emulator, version):
    r = httpx.get(f"{ee_emulator.url}/$discovery/rest", params={"version": version, "prettyPrint": "false"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["version"] == version and doc["name"] == "earthengine"
    assert doc["rootUrl"] == ee_emulator.url + "/"
    projects = doc["resources"]["projects"]["resources"]
    assert projects["algorithms"]["methods"]["list"]["path"] == f"{version}/{{+parent}}/algorithms"
    assert projects["image"]["methods"]["computePixels"]["httpMethod"] == "POST"
    assert "ListAlgorithmsResponse" in doc["schemas"]
    assert httpx.get(f"{ee_emulator.url}/$discovery/rest", params={"version": "v9"}).status_code == 404


def test_algorithms_list(http):
    r = http.get("/v1/projects/eerest/algorithms")
    algs = {a["name"]: a for a in r.json()["algorithms"]}
    for name in ["Image.load", "Image.constant", "Image.select", "Image.rename", "Image.add", "Image.subtract",
                 "Image.multiply", "Image.divide", "Image.normalizedDifference", "ImageCollection.load",
                 "Collection.first", "ImageCollection.mosaic", "reduce.median", "ImageCollection.reduce",
                 "Reducer.median", "Reducer.mean", "Collection.limit", "Collection.filter", "Filter.dateRangeContains"]:
        assert f"algorithms/{name}" in algs, name
    sel = algs["algorithms/Image.select"]
    assert sel["returnType"] == "Image<unknown bands>"
    assert [a["argumentName"] for a in sel["arguments"]] == ["input", "bandSelectors", "newNames"]
    assert sel["arguments"][2]["optional"] is True


def test_request_log(ee_emulator, http):
    http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["red"]})
    (rec,) = [r for r in ee_emulator.requests if r.path.endswith(":getPixels")]
    assert rec.method == "POST" and rec.json() == {"fileFormat": "NPY", "bandIds": ["red"]}
    assert rec.headers["Authorization"] == "Bearer [redacted]"  # the log never keeps a credential
    log = http.get("/_emulator/requests").json()["requests"]
    assert log[-1]["path"] == f"/v1/{SCENE}:getPixels" and log[-1]["body"]["bandIds"] == ["red"]
    assert http.delete("/_emulator/requests").status_code == 200
    assert ee_emulator.requests == [] and not ee_emulator.requests_received


def test_requests_received_counts_past_the_logs_size(ee_emulator, http):
    ee_emulator.app.clear_requests()
    for _ in range(1005):
        http.get(f"/v1/{SCENE}")
    http.post(f"/v1/{SCENE}:getPixels", json={"fileFormat": "NPY", "bandIds": ["red"]})
    assert len(ee_emulator.requests) == 1000  # the log keeps the last 1000
    assert ee_emulator.requests_received == {"GET": 1005, "getPixels": 1}


def test_admin_health_and_reset(http, ee_emulator):
    assert http.get("/_emulator/health").json() == {"status": "ok"}
    ee_emulator.faults.fail(503)
    assert http.post("/_emulator/reset").status_code == 200
    assert ee_emulator.faults.pending() == []
    assert http.get("/_emulator/nope").status_code == 404


def test_concurrent_requests(ee_emulator):
    import concurrent.futures as cf

    def one(i: int) -> int:
        with httpx.Client(base_url=ee_emulator.url, headers={"Authorization": "Bearer x"}) as c:
            body = {"fileFormat": "NPY", "bandIds": ["nir"], "grid": {"dimensions": {"width": 32 + i, "height": 32}}}
            return c.post(f"/v1/{SCENE}:getPixels", content=json.dumps(body)).status_code

    with cf.ThreadPoolExecutor(16) as ex:
        assert set(ex.map(one, range(32))) == {200}
