"""Asset management over HTTP: create, copy, move, patch, delete, IAM policies and project
configs, with the service's error shapes, kept in the data directory across restarts."""

from __future__ import annotations

import shutil
import uuid

import httpx
import pytest
from emulator_helpers import ELEVATION, SCENE

P = "/v1/projects/eerest-writes"
A = "projects/eerest-writes/assets"


def error(r: httpx.Response, code: int, status: str) -> str:
    assert r.status_code == code, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["status"] == status
    return err["message"]


def test_create_copy_move_patch_delete(http):
    t = uuid.uuid4().hex[:8]
    f = f"{A}/w_{t}"
    r = http.post(f"{P}/assets", params={"assetId": f"w_{t}"}, json={"type": "FOLDER"})
    assert r.status_code == 200 and r.json()["type"] == "FOLDER" and r.json()["name"] == f
    error(http.post(f"{P}/assets", params={"assetId": f"w_{t}"}, json={"type": "FOLDER"}), 409, "ALREADY_EXISTS")
    error(http.post(f"{P}/assets", params={"assetId": f"nope_{t}/x"}, json={"type": "FOLDER"}), 404, "NOT_FOUND")
    error(http.post(f"{P}/assets", params={"assetId": f"w_{t}/img"}, json={"type": "IMAGE"}), 400, "INVALID_ARGUMENT")
    error(http.post(f"{P}/assets", params={"assetId": f"w_{t}/b@d"}, json={"type": "FOLDER"}), 400, "INVALID_ARGUMENT")
    r = http.post(f"{P}/assets", params={"assetId": f"w_{t}/c"},
                  json={"type": "IMAGE_COLLECTION", "properties": {"k": "v"}})
    assert r.json()["type"] == "IMAGE_COLLECTION" and r.json()["properties"] == {"k": "v"}
    r = http.post(f"/v1/{SCENE}:copy", json={"destinationName": f"{f}/c/one"})
    assert r.status_code == 200 and r.json()["bands"] == http.get(f"/v1/{SCENE}").json()["bands"]
    error(http.post(f"/v1/{SCENE}:copy", json={"destinationName": f"{f}/c/one"}), 409, "ALREADY_EXISTS")
    assert http.post(f"/v1/{SCENE}:copy", json={"destinationName": f"{f}/c/one", "overwrite": True}).status_code == 200
    error(http.post(f"/v1/{SCENE}:copy", json={"destinationName": f"{f}/missing/one"}), 404, "NOT_FOUND")
    error(http.post(f"/v1/{f}:copy", json={"destinationName": f"{f}_2"}), 400, "INVALID_ARGUMENT")  # a folder
    images = http.get(f"/v1/{f}/c:listImages").json()["images"]
    assert [i["name"] for i in images] == [f"{f}/c/one"]
    r = http.post(f"/v1/{f}/c/one:move", json={"destinationName": f"{f}/moved"})
    assert r.status_code == 200 and r.json()["name"] == f"{f}/moved"
    error(http.get(f"/v1/{f}/c/one"), 404, "NOT_FOUND")
    error(http.post(f"/v1/{ELEVATION}:move", json={"destinationName": f"{f}/moved"}), 409, "ALREADY_EXISTS")
    r = http.patch(f"/v1/{f}/moved", json={"asset": {"properties": {"a": 1}, "startTime": "2020-01-01T00:00:00Z"},
                                           "updateMask": "properties.a,start_time"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["properties"]["a"] == 1 and got["startTime"] == "2020-01-01T00:00:00Z"
    assert "CLOUD_COVER" in got["properties"]  # other properties stay
    r = http.patch(f"/v1/{f}/moved", json={"asset": {"properties": {"only": "this"}}, "updateMask": "properties"})
    assert r.json()["properties"] == {"only": "this"}
    error(http.patch(f"/v1/{f}/moved", json={"asset": {}, "updateMask": "bogus"}), 400, "INVALID_ARGUMENT")
    msg = error(http.delete(f"/v1/{f}"), 400, "FAILED_PRECONDITION")
    assert "not empty" in msg
    listed = http.get(f"/v1/{f}:listAssets").json()["assets"]
    assert [(a["name"], a["type"]) for a in listed] == [(f"{f}/c", "IMAGE_COLLECTION"), (f"{f}/moved", "IMAGE")]
    for name in (f"{f}/moved", f"{f}/c", f):
        assert http.delete(f"/v1/{name}").json() == {}
    error(http.get(f"/v1/{f}"), 404, "NOT_FOUND")
    error(http.delete(f"/v1/{f}"), 404, "NOT_FOUND")


def test_iam_policies(http):
    t = uuid.uuid4().hex[:8]
    name = f"{A}/iam_{t}"
    assert http.post(f"/v1/{ELEVATION}:copy", json={"destinationName": name}).status_code == 200
    empty = http.post(f"/v1/{name}:getIamPolicy", json={}).json()
    assert "bindings" not in empty and empty["etag"]
    policy = {"bindings": [{"role": "roles/viewer", "members": ["allUsers", "user:a@example.com"]}], "etag": empty["etag"]}
    set_ = http.post(f"/v1/{name}:setIamPolicy", json={"policy": policy}).json()
    assert set_["bindings"] == policy["bindings"] and set_["etag"] != empty["etag"]
    assert http.post(f"/v1/{name}:getIamPolicy", json={}).json() == set_
    error(http.post(f"/v1/{name}:setIamPolicy", json={"policy": policy}), 409, "ABORTED")  # stale etag
    error(http.post(f"/v1/{name}:setIamPolicy", json={"policy": {"bindings": [{"role": "owner"}]}}), 400, "INVALID_ARGUMENT")
    perms = ["earthengine.assets.get", "earthengine.assets.update"]
    assert http.post(f"/v1/{name}:testIamPermissions", json={"permissions": perms}).json() == {"permissions": perms}
    error(http.post(f"{P}/assets/nope_{t}:getIamPolicy", json={}), 404, "NOT_FOUND")
    # the policy moves with the asset and goes with it
    http.post(f"/v1/{name}:move", json={"destinationName": f"{name}_m"})
    assert http.post(f"/v1/{name}_m:getIamPolicy", json={}).json()["bindings"] == policy["bindings"]
    http.delete(f"/v1/{name}_m")
    http.post(f"/v1/{ELEVATION}:copy", json={"destinationName": f"{name}_m"})
    assert "bindings" not in http.post(f"/v1/{name}_m:getIamPolicy", json={}).json()


def test_project_config(http):
    r = http.get("/v1alpha/projects/cfg-project/config")
    assert r.json() == {"name": "projects/cfg-project/config", "registrationState": "REGISTERED_NOT_COMMERCIALLY"}
    r = http.patch("/v1alpha/projects/cfg-project/config", params={"updateMask": "maxConcurrentExports"},
                   json={"maxConcurrentExports": 7})
    assert r.status_code == 200 and r.json()["maxConcurrentExports"] == 7
    assert http.get("/v1alpha/projects/cfg-project/config").json()["maxConcurrentExports"] == 7
    error(http.patch("/v1alpha/projects/cfg-project/config", params={"updateMask": "registrationState"},
                     json={"registrationState": "NOT_REGISTERED"}), 400, "INVALID_ARGUMENT")


def test_changes_persist_in_the_data_directory(tmp_path):
    from eerest_emulator import BUNDLED_DATA, Emulator

    shutil.copytree(BUNDLED_DATA, tmp_path / "data")
    headers = {"Authorization": "Bearer t"}
    with Emulator(tmp_path / "data") as emu, httpx.Client(base_url=emu.url, headers=headers) as c:
        assert c.post(f"{P}/assets", params={"assetId": "kept"}, json={"type": "FOLDER"}).status_code == 200
        c.post(f"/v1/{A}/kept:setIamPolicy", json={"policy": {"bindings": [{"role": "roles/viewer", "members": ["allUsers"]}]}})
    with Emulator(tmp_path / "data") as emu, httpx.Client(base_url=emu.url, headers=headers) as c:
        assert c.get(f"/v1/{A}/kept").json()["type"] == "FOLDER"
        assert c.post(f"/v1/{A}/kept:getIamPolicy", json={}).json()["bindings"][0]["members"] == ["allUsers"]
    assert (tmp_path / "data" / "eerest-writes" / "kept.json").is_file()


def test_the_bundled_sample_itself_is_read_only():
    from eerest_emulator import App, AssetStore
    from eerest_emulator._http import Request

    app = App(AssetStore(), require_auth=False)
    r = app.handle(Request("POST", f"{P}/assets?assetId=x", {}, b'{"type": "FOLDER"}'), "http://x/")
    assert r.status == 400 and b"FAILED_PRECONDITION" in bytes(r.body) and b"read-only" in bytes(r.body)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_admin_operations_settings(http, method):
    if method == "GET":
        s = http.get("/_emulator/operations").json()
        assert s["runSeconds"] == 2 and s["maxRunning"] == 4 and s["maxQueued"] == 3000 and s["manualClock"] is False
    else:
        s = http.post("/_emulator/operations", json={"runSeconds": 0.5, "maxQueued": 10}).json()
        assert s["runSeconds"] == 0.5 and s["maxQueued"] == 10
        assert http.post("/_emulator/operations", json={"maxQueued": 0}).status_code == 400
        assert http.post("/_emulator/operations", json={"bogus": 1}).status_code == 400
