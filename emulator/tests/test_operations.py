"""Operations (batch tasks), exports and ingestion over HTTP: the state machine on a clock the
tests step (admin API), the queue cap, injected failures, and the files the exports write,
read back independently (tifffile, csv, json) and compared with computePixels."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

import numpy as np
import pytest
from emulator_helpers import ELEVATION, SCENE, X0, Y0, call, const, expr, grid

P = "/v1/projects/eerest"


def load(asset: str) -> dict:
    return expr(call("Image.load", id=const(asset)))


def tag() -> str:
    return uuid.uuid4().hex[:10]


def admin(http, path: str, body: dict | None = None, method: str = "POST") -> dict:
    r = http.request(method, f"/_emulator/{path}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def export_image(http, prefix: str, g: dict | None = None, asset: str = SCENE, **extra) -> dict:
    body = {"expression": load(asset), "description": prefix.replace("/", "_"),
            "fileExportOptions": {"fileFormat": "GEO_TIFF",
                                  "cloudStorageDestination": {"bucket": "bucket", "filenamePrefix": prefix}}, **extra}
    if g is not None:
        body["grid"] = g
    r = http.post(f"{P}/image:export", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def get(http, op: dict) -> dict:
    r = http.get(f"/v1/{op['name']}")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def manual(http):
    """A frozen clock: operations move only when the test advances it."""
    return admin(http, "operations", {"manualClock": True, "runSeconds": 10, "maxRunning": 1})


def test_state_machine_pending_running_succeeded_on_a_stepped_clock(http, ee_emulator, manual):
    t = tag()
    a = export_image(http, f"sm/{t}/a", grid(16, 16))
    b = export_image(http, f"sm/{t}/b", grid(16, 16))
    assert a["done"] is False and a["metadata"]["state"] == "PENDING"
    meta = a["metadata"]
    assert meta["@type"] == "type.googleapis.com/google.earthengine.v1.OperationMetadata"
    assert meta["type"] == "EXPORT_IMAGE" and meta["priority"] == 100 and meta["description"] == f"sm_{t}_a"
    assert meta["destinationUris"] == [f"gs://bucket/sm/{t}/a.tif"] and "createTime" in meta
    gcs = ee_emulator.store.root / "gcs" / "bucket" / "sm" / t
    admin(http, "operations:advance", {"seconds": 5})
    a1, b1 = get(http, a), get(http, b)
    assert a1["metadata"]["state"] == "RUNNING" and a1["metadata"]["progress"] == 0.5 and a1["metadata"]["attempt"] == 1
    assert [s["completeWorkUnits"] for s in a1["metadata"]["stages"]] == [1, 0]
    assert b1["metadata"]["state"] == "PENDING" and "startTime" not in b1["metadata"]  # one running slot
    assert not gcs.exists()
    admin(http, "operations:advance", {"seconds": 5})
    a2, b2 = get(http, a), get(http, b)
    assert a2["done"] is True and a2["metadata"]["state"] == "SUCCEEDED" and a2["metadata"]["progress"] == 1
    assert a2["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"} and "error" not in a2
    assert a2["metadata"]["endTime"] == b2["metadata"]["startTime"] and b2["metadata"]["state"] == "RUNNING"
    assert a2["metadata"]["batchEecuUsageSeconds"] > 0
    assert sorted(p.name for p in gcs.iterdir()) == ["a.tif"]
    admin(http, "operations:advance", {"seconds": 10})
    assert get(http, b)["metadata"]["state"] == "SUCCEEDED" and sorted(p.name for p in gcs.iterdir()) == ["a.tif", "b.tif"]


def test_image_export_geotiff_matches_compute_pixels(http, ee_emulator):
    tifffile = pytest.importorskip("tifffile")
    admin(http, "operations", {"runSeconds": 0})
    g = grid(40, 30, scale=20.0, x0=X0 + 100, y0=Y0 - 60)
    op = export_image(http, f"cmp/{tag()}", g)
    done = http.post(f"/v1/{op['name']}:wait", json={"timeout": "10s"}).json()
    assert done["metadata"]["state"] == "SUCCEEDED", done
    path = ee_emulator.store.root / "gcs" / "bucket" / done["metadata"]["destinationUris"][0].removeprefix("gs://bucket/")
    with tifffile.TiffFile(path) as tif:
        got = tif.asarray()
        page = tif.pages[0]
        scale, tie = page.tags["ModelPixelScaleTag"].value, page.tags["ModelTiepointTag"].value
        keys = page.tags["GeoKeyDirectoryTag"].value
    assert got.shape[-2:] == (30, 40) and scale[:2] == (20.0, 20.0) and tie[3:5] == (X0 + 100, Y0 - 60)
    assert 32633 in keys
    npy = http.post(f"{P}/image:computePixels", json={"expression": load(SCENE), "grid": g, "fileFormat": "NPY"})
    want = np.load(io.BytesIO(npy.content))
    for i, band in enumerate(want.dtype.names):
        np.testing.assert_array_equal(got[i], want[band])


def test_drive_and_asset_destinations(http, ee_emulator):
    admin(http, "operations", {"runSeconds": 0})
    t = tag()
    r = http.post(f"{P}/image:export", json={
        "expression": load(ELEVATION), "description": "d", "grid": grid(20, 20, scale=30.0),
        "fileExportOptions": {"fileFormat": "GEO_TIFF", "driveDestination": {"folder": f"f{t}", "filenamePrefix": "elev"}}})
    drive = http.post(f"/v1/{r.json()['name']}:wait", json={}).json()
    path = ee_emulator.store.root / "drive" / f"f{t}" / "elev.tif"
    assert drive["metadata"]["state"] == "SUCCEEDED" and path.is_file()
    assert drive["metadata"]["destinationUris"] == [path.resolve().as_uri()]
    name = f"projects/eerest-writes/assets/exported_{t}"
    g = grid(20, 20, scale=30.0)
    r = http.post(f"{P}/image:export", json={
        "expression": load(ELEVATION), "grid": g, "assetExportOptions": {"earthEngineDestination": {"name": name}}})
    done = http.post(f"/v1/{r.json()['name']}:wait", json={}).json()
    assert done["metadata"]["state"] == "SUCCEEDED" and done["metadata"]["destinationUris"] == [name]
    asset = http.get(f"/v1/{name}").json()
    assert asset["type"] == "IMAGE" and asset["bands"][0]["grid"]["dimensions"] == {"width": 20, "height": 20}
    a = np.load(io.BytesIO(http.post(f"/v1/{name}:getPixels", json={"fileFormat": "NPY"}).content))
    b = np.load(io.BytesIO(http.post(f"{P}/image:computePixels", json={"expression": load(ELEVATION), "grid": g,
                                                                        "fileFormat": "NPY"}).content))
    np.testing.assert_array_equal(a, b)


def _features() -> dict:
    pts = [call("Feature", geometry=call("GeometryConstructors.Point", coordinates=const([15.45 + i / 100, 47.95])),
                metadata=const({"name": f"p{i}", "value": i * 1.5})) for i in range(3)]
    return expr(call("Collection", features={"arrayValue": {"values": pts}}))


def test_table_exports_csv_geojson_and_asset(http, ee_emulator):
    admin(http, "operations", {"runSeconds": 0})
    t = tag()
    ops = {}
    for fmt in ("CSV", "GEO_JSON"):
        r = http.post(f"{P}/table:export", json={
            "expression": _features(), "description": fmt,
            "fileExportOptions": {"fileFormat": fmt, "cloudStorageDestination": {"bucket": "tables", "filenamePrefix": f"{t}/fc"}}})
        assert r.status_code == 200, r.text
        ops[fmt] = http.post(f"/v1/{r.json()['name']}:wait", json={}).json()
        assert ops[fmt]["metadata"]["state"] == "SUCCEEDED" and ops[fmt]["metadata"]["type"] == "EXPORT_FEATURES"
    root = ee_emulator.store.root / "gcs" / "tables" / t
    rows = list(csv.DictReader((root / "fc.csv").open()))
    assert [r["name"] for r in rows] == ["p0", "p1", "p2"] and [float(r["value"]) for r in rows] == [0, 1.5, 3]
    assert list(rows[0]) == ["system:index", "name", "value", ".geo"]
    geo = json.loads(rows[1][".geo"])
    assert geo["type"] == "Point" and geo["coordinates"] == pytest.approx([15.46, 47.95])
    gj = json.loads((root / "fc.geojson").read_text())
    assert [f["properties"]["name"] for f in gj["features"]] == ["p0", "p1", "p2"]
    name = f"projects/eerest-writes/assets/table_{t}"
    r = http.post(f"{P}/table:export", json={"expression": _features(),
                                             "assetExportOptions": {"earthEngineDestination": {"name": name}}})
    assert http.post(f"/v1/{r.json()['name']}:wait", json={}).json()["metadata"]["state"] == "SUCCEEDED"
    asset = http.get(f"/v1/{name}").json()
    assert asset["type"] == "TABLE" and asset["featureCount"] == "3"


def test_export_requests_are_checked_when_submitted(http):
    r = http.post(f"{P}/image:export", json={"expression": load(SCENE), "fileExportOptions": {"fileFormat": "GEO_TIFF"}})
    assert r.status_code == 400 and "destination" in r.json()["error"]["message"]
    r = http.post(f"{P}/image:export", json={"expression": load(SCENE), "bogus": 1})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r = http.post(f"{P}/table:export", json={"expression": load(SCENE), "fileExportOptions": {
        "cloudStorageDestination": {"bucket": "b"}}})
    assert r.status_code == 400 and "FeatureCollection" in r.json()["error"]["message"]
    r = http.post(f"{P}/image:export", json={"expression": load(SCENE), "fileExportOptions": {
        "fileFormat": "TF_RECORD_IMAGE", "cloudStorageDestination": {"bucket": "b"}}})
    assert r.status_code == 400 and "TF_RECORD_IMAGE is not implemented in the eerest emulator" in r.text
    ok = {"expression": load(SCENE), "fileExportOptions": {"cloudStorageDestination": {"bucket": "b"}}}
    assert http.post(f"{P}/image:export", json={**ok, "priority": 10_000}).status_code == 400
    assert http.post(f"{P}/image:export", json={**ok, "description": "x" * 101}).status_code == 400
    assert http.post(f"{P}/video:export", json={}).status_code == 501


def test_cancel_delete_wait_list_and_filters(http, manual):
    t = tag()
    a = export_image(http, f"c/{t}/a", grid(8, 8))
    b = export_image(http, f"c/{t}/b", grid(8, 8))
    admin(http, "operations:advance", {"seconds": 1})
    assert http.post(f"/v1/{b['name']}:cancel", json={}).json() == {}  # pending
    b1 = get(http, b)
    assert b1["done"] and b1["metadata"]["state"] == "CANCELLED" and b1["error"]["code"] == 1
    # wait returns at its timeout while the (frozen) clock does not move
    w = http.post(f"/v1/{a['name']}:wait", json={"timeout": "0.05s"}).json()
    assert w["done"] is False and w["metadata"]["state"] == "RUNNING"
    assert http.post(f"/v1/{a['name']}:wait", json={"timeout": "soon"}).status_code == 400
    http.post(f"/v1/{a['name']}:cancel", json={})  # running: CANCELLING for half a second of the clock
    cancelling = get(http, a)
    assert cancelling["metadata"]["state"] == "CANCELLING" and cancelling["done"] is False
    admin(http, "operations:advance", {"seconds": 0.5})
    cancelled = get(http, a)
    assert cancelled["metadata"]["state"] == "CANCELLED" and cancelled["error"] == {"code": 1, "message": "Cancelled."}
    listed = http.get(f"{P}/operations", params={"filter": 'metadata.state = "CANCELLED"'}).json()["operations"]
    assert {a["name"], b["name"]} <= {o["name"] for o in listed}
    assert all(o["metadata"]["state"] == "CANCELLED" for o in listed)
    page = http.get(f"{P}/operations", params={"pageSize": 1}).json()
    assert len(page["operations"]) == 1 and page["nextPageToken"]
    page2 = http.get(f"{P}/operations", params={"pageSize": 1, "pageToken": page["nextPageToken"]}).json()
    assert page2["operations"][0]["name"] != page["operations"][0]["name"]
    assert http.delete(f"/v1/{a['name']}").json() == {}
    r = http.get(f"/v1/{a['name']}")
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
    assert http.get(f"{P}/operations", params={"filter": "nonsense"}).status_code == 400


def test_injected_failures_fail_the_next_operations(http, ee_emulator):
    admin(http, "operations", {"runSeconds": 0})
    admin(http, "operations/failures", {"count": 2, "code": "RESOURCE_EXHAUSTED", "message": "Quota exceeded (injected)."})
    t = tag()
    ops = [export_image(http, f"f/{t}/{i}", grid(8, 8)) for i in range(3)]
    done = [http.post(f"/v1/{o['name']}:wait", json={}).json() for o in ops]
    assert [d["metadata"]["state"] for d in done] == ["FAILED", "FAILED", "SUCCEEDED"]
    assert done[0]["error"] == {"code": 8, "message": "Quota exceeded (injected)."} and done[0]["done"]
    assert sorted(p.name for p in (ee_emulator.store.root / "gcs" / "bucket" / "f" / t).iterdir()) == ["2.tif"]
    r = http.post("/_emulator/operations/failures", json={"code": "NOPE"})
    assert r.status_code == 400


def test_queue_cap_is_429_and_request_ids_deduplicate(http, manual):
    admin(http, "operations", {"maxQueued": 3})
    ops = [export_image(http, f"q/{tag()}", grid(4, 4)) for _ in range(3)]
    r = http.post(f"{P}/image:export", json={"expression": load(SCENE), "fileExportOptions": {
        "cloudStorageDestination": {"bucket": "b"}}})
    assert r.status_code == 429 and r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    admin(http, "operations:advance", {"seconds": 10})  # one done (one running slot)
    rid = tag()
    first = export_image(http, f"q/{tag()}", grid(4, 4), requestId=rid)
    again = export_image(http, f"q/{tag()}", grid(4, 4), requestId=rid)
    assert first["name"] == again["name"] and get(http, ops[0])["done"]


@pytest.mark.slow  # 5 s: the default tier keeps the smaller cap test
def test_ten_thousand_exports_against_a_cap_of_three_thousand_none_lost_none_duplicated(ee_emulator):
    """A client loop that backs off on 429 (by moving the clock: no sleeping) submits 10,000
    table exports; every one completes, once, with its own file. The loop calls the app the
    HTTP server calls (every request parsed and checked the same), without the sockets: 10,000
    round trips over loopback HTTP would triple the test's time (the HTTP path of the cap is
    `test_queue_cap_is_429_and_request_ids_deduplicate`)."""
    from eerest_emulator._http import Request

    def send(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        req = Request(method, path, {"Authorization": "Bearer t"}, json.dumps(body).encode() if body is not None else b"")
        resp = ee_emulator.app.handle(req, "http://emulator/")
        return resp.status, json.loads(bytes(resp.body))

    ops = ee_emulator.operations
    ops.configure(run_seconds=1, max_running=500, max_queued=3000, manual_clock=True)
    t = tag()
    names, refused = [], 0
    collection = expr(call("Collection", features={"arrayValue": {"values": []}}))
    for i in range(10_000):
        body = {"expression": collection, "description": f"{t}_{i}", "requestId": f"{t}-{i}",
                "fileExportOptions": {"fileFormat": "CSV",
                                      "cloudStorageDestination": {"bucket": "many", "filenamePrefix": f"{t}/{i}"}}}
        while True:
            status, out = send("POST", f"{P}/table:export", body)
            if status == 429:
                assert out["error"]["status"] == "RESOURCE_EXHAUSTED"
                refused += 1
                ops.advance_clock(1)  # back off
                continue
            assert status == 200, out
            names.append(out["name"])
            break
    ops.advance_clock(100)
    assert refused > 0 and len(names) == len(set(names)) == 10_000
    listed, token = [], ""
    while True:
        status, page = send("GET", f"{P}/operations?pageSize=5000" + (f"&pageToken={token}" if token else ""))
        listed += [o for o in page.get("operations", []) if o["metadata"]["description"].startswith(f"{t}_")]
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(listed) == 10_000 and {o["name"] for o in listed} == set(names)
    assert all(o["done"] and o["metadata"]["state"] == "SUCCEEDED" for o in listed)
    files = list((ee_emulator.store.root / "gcs" / "many" / t).iterdir())
    assert len(files) == 10_000 and sorted(int(p.stem) for p in files) == list(range(10_000))


def test_image_ingestion_from_a_local_bucket(http, ee_emulator):
    admin(http, "operations", {"runSeconds": 0})
    t = tag()
    g = grid(24, 16, scale=10.0)
    op = export_image(http, f"ingest/{t}", g)
    assert http.post(f"/v1/{op['name']}:wait", json={}).json()["metadata"]["state"] == "SUCCEEDED"
    name = f"projects/eerest-writes/assets/ingested_{t}"
    r = http.post(f"{P}/image:import", json={"imageManifest": {
        "name": name, "tilesets": [{"id": "t", "sources": [{"uris": [f"gs://bucket/ingest/{t}.tif"]}]}],
        "bands": [{"id": "first", "tilesetId": "t", "tilesetBandIndex": 0}],
        "properties": {"origin": "test"}, "startTime": "2024-05-04T00:00:00Z"}})
    assert r.status_code == 200, r.text
    done = http.post(f"/v1/{r.json()['name']}:wait", json={}).json()
    assert done["metadata"]["state"] == "SUCCEEDED" and done["metadata"]["type"] == "INGEST_IMAGE", done
    asset = http.get(f"/v1/{name}").json()
    assert asset["properties"] == {"origin": "test"} and asset["bands"][0]["grid"]["crsCode"] == "EPSG:32633"
    got = np.load(io.BytesIO(http.post(f"/v1/{name}:getPixels", json={"fileFormat": "NPY"}).content))
    want = np.load(io.BytesIO(http.post(f"{P}/image:computePixels", json={"expression": load(SCENE), "grid": g,
                                                                           "fileFormat": "NPY"}).content))
    np.testing.assert_array_equal(got["first"], want[want.dtype.names[0]])
    missing = http.post(f"{P}/image:import", json={"imageManifest": {
        "name": f"{name}_x", "tilesets": [{"sources": [{"uris": ["gs://bucket/none.tif"]}]}]}}).json()
    failed = http.post(f"/v1/{missing['name']}:wait", json={}).json()
    assert failed["metadata"]["state"] == "FAILED" and failed["error"]["code"] == 5


def test_table_ingestion_from_csv(http, ee_emulator):
    admin(http, "operations", {"runSeconds": 0})
    t = tag()
    src = ee_emulator.store.root / "gcs" / "bucket" / f"{t}.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text("name,lon,lat\na,15.1,47.1\nb,15.2,47.2\n")
    name = f"projects/eerest-writes/assets/csv_{t}"
    r = http.post(f"{P}/table:import", json={"tableManifest": {
        "name": name, "sources": [{"uris": [f"gs://bucket/{t}.csv"], "xColumn": "lon", "yColumn": "lat"}]}})
    done = http.post(f"/v1/{r.json()['name']}:wait", json={}).json()
    assert done["metadata"]["state"] == "SUCCEEDED" and done["metadata"]["type"] == "INGEST_TABLE", done
    asset = http.get(f"/v1/{name}").json()
    assert asset["type"] == "TABLE" and asset["featureCount"] == "2"


def test_table_assets_load_in_expressions_and_list_their_features(http):
    admin(http, "operations", {"runSeconds": 0})
    name = f"projects/eerest-writes/assets/features_{tag()}"
    r = http.post(f"{P}/table:export", json={"expression": _features(),
                                             "assetExportOptions": {"earthEngineDestination": {"name": name}}})
    assert http.post(f"/v1/{r.json()['name']}:wait", json={}).json()["metadata"]["state"] == "SUCCEEDED"
    size = http.post(f"{P}/value:compute", json={"expression": expr(call("Collection.size", collection=call(
        "Collection.loadTable", tableId=const(name))))})
    assert size.json() == {"result": 3}
    page = http.get(f"/v1/{name}:listFeatures", params={"pageSize": 2}).json()
    assert [f["properties"]["name"] for f in page["features"]] == ["p0", "p1"] and page["features"][0]["type"] == "Feature"
    rest = http.get(f"/v1/{name}:listFeatures", params={"pageSize": 2, "pageToken": page["nextPageToken"]}).json()
    assert [f["properties"]["name"] for f in rest["features"]] == ["p2"] and "nextPageToken" not in rest
    filtered = http.get(f"/v1/{name}:listFeatures", params={"filter": 'properties.name = "p1"'}).json()
    assert [f["properties"]["name"] for f in filtered["features"]] == ["p1"]
    r = http.get(f"/v1/{ELEVATION}:listFeatures")
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_files_appear_without_polling_and_max_pixels_fails_the_task(http, ee_emulator):
    admin(http, "operations", {"runSeconds": 0.05})
    t = tag()
    op = export_image(http, f"tick/{t}", grid(8, 8))
    path = ee_emulator.store.root / "gcs" / "bucket" / "tick" / f"{t}.tif"
    for _ in range(200):  # the server's ticker finishes the task; nobody asks about it
        if path.exists():
            break
        time.sleep(0.02)
    assert path.is_file() and not list(path.parent.glob("*.part"))
    assert get(http, op)["metadata"]["state"] == "SUCCEEDED"
    big = export_image(http, f"tick/{t}_big", grid(100, 100), maxPixels="5000")
    done = http.post(f"/v1/{big['name']}:wait", json={"timeout": "5s"}).json()
    assert done["metadata"]["state"] == "FAILED" and done["error"]["code"] == 3
    assert "too large" in done["error"]["message"] and not (path.parent / f"{t}_big.tif").exists()


def test_map_export_writes_the_tiles_maps_serve(http, ee_emulator):
    admin(http, "operations", {"runSeconds": 0})
    t = tag()
    vis = call("Image.visualize", image=load(SCENE)["values"]["0"], bands=const(["red", "green", "blue"]),
               min=const(0), max=const(3000))
    r = http.post(f"{P}/map:export", json={
        "expression": expr(vis), "tileOptions": {"startZoom": 12, "endZoom": 13},
        "tileExportOptions": {"cloudStorageDestination": {"bucket": "maps", "filenamePrefix": f"m{t}"}}})
    assert r.status_code == 200, r.text
    done = http.post(f"/v1/{r.json()['name']}:wait", json={}).json()
    assert done["metadata"]["state"] == "SUCCEEDED" and done["metadata"]["type"] == "EXPORT_TILES", done
    assert done["metadata"]["destinationUris"] == [f"gs://maps/m{t}/"]
    root = ee_emulator.store.root / "gcs" / "maps" / f"m{t}"
    tiles = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert tiles and {p.split("/")[0] for p in tiles} == {"12", "13"}
    name = http.post(f"{P}/maps", json={"expression": expr(vis), "fileFormat": "PNG"}).json()["name"]
    for tile in tiles:
        served = http.get(f"/v1/{name}/tiles/{tile}")
        assert served.status_code == 200 and served.content == (root / tile).read_bytes(), tile
    r = http.post(f"{P}/map:export", json={"expression": expr(vis), "tileOptions": {"endZoom": 3},
                                           "tileExportOptions": {"driveDestination": {"folder": "x"}}})
    assert r.status_code == 400
