"""Features: table assets, ``table.computeFeatures`` and ``assets.listFeatures`` in pages,
``FeatureCollection.randomPoints``, and the official client reading them."""

from __future__ import annotations

import json

import pytest
from emulator_helpers import ELEVATION, PLACES, call, const, expr

LOAD = call("Collection.loadTable", tableId=const(PLACES))


def features(http, body: dict, version: str = "v1") -> dict:
    r = http.post(f"/{version}/projects/eerest/table:computeFeatures", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_compute_features_of_the_sample_table(http):
    got = features(http, {"expression": expr(LOAD)})
    assert got["type"] == "FeatureCollection" and "nextPageToken" not in got
    assert len(got["features"]) == 12
    first = got["features"][0]
    assert first == {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [15.448, 47.955]},
        "properties": {"name": "Hochkar Hut", "kind": "hut", "population": 12, "height_m": 1480.5,
                       "surveyed": {"type": "Date", "value": 1622505600000}, "protected": True},
    }
    kinds = [f["geometry"]["type"] for f in got["features"]]
    assert kinds.count("Point") == 8 and {"Polygon", "MultiPolygon", "LineString"} <= set(kinds)


@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
def test_compute_features_pages(http, version):
    seen, token, pages = [], None, 0
    while True:
        body = {"expression": expr(LOAD), "pageSize": 5, **({"pageToken": token} if token else {})}
        got = features(http, body, version)
        seen += [f["properties"]["name"] for f in got["features"]]
        pages += 1
        token = got.get("nextPageToken")
        if not token:
            break
    assert pages == 3 and len(seen) == 12 and len(set(seen)) == 12


def test_page_tokens_are_bound_to_their_request(http):
    token = features(http, {"expression": expr(LOAD), "pageSize": 5})["nextPageToken"]
    other = expr(call("Collection.limit", collection=LOAD, limit=const(6)))
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": other, "pageToken": token})
    assert r.status_code == 400 and "page token" in r.json()["error"]["message"]
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": expr(LOAD), "pageToken": "nonsense"})
    assert r.status_code == 400


def test_bad_requests(http):
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": expr(LOAD), "pageSize": -1})
    assert r.status_code == 400 and "negative" in r.json()["error"]["message"]
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": expr(LOAD), "pageSize": "many"})
    assert r.status_code == 400
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": expr(LOAD), "unknownField": 1})
    assert r.status_code == 400
    image = expr(call("Image.load", id=const(ELEVATION)))
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": image})
    assert r.status_code == 400 and "FeatureCollection" in r.json()["error"]["message"]
    missing = expr(call("Collection.loadTable", tableId=const("projects/eerest/assets/sample/nope")))
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": missing})
    assert r.status_code == 400 and "not found" in r.json()["error"]["message"]
    not_table = expr(call("Collection.loadTable", tableId=const(ELEVATION)))
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={"expression": not_table})
    assert r.status_code == 400 and "not a Table" in r.json()["error"]["message"]
    r = http.post("/v1/projects/eerest/table:computeFeatures", json={})
    assert r.status_code == 400


def test_list_features_pages_filter_and_region(http):
    r = http.get(f"/v1/{PLACES}:listFeatures", params={"pageSize": 7})
    assert r.status_code == 200, r.text
    page = r.json()
    assert len(page["features"]) == 7 and page["nextPageToken"]
    rest = http.get(f"/v1/{PLACES}:listFeatures", params={"pageSize": 7, "pageToken": page["nextPageToken"]}).json()
    assert len(rest["features"]) == 5 and "nextPageToken" not in rest
    got = http.get(f"/v1/{PLACES}:listFeatures", params={"filter": "population > 5"}).json()["features"]
    assert sorted(f["properties"]["name"] for f in got) == ["Hochkar Hut", "Oak Farm", "Village"]
    got = http.get(f"/v1/{PLACES}:listFeatures", params={"filter": 'kind = "hut" AND properties.height_m > 1000'}).json()
    assert [f["properties"]["name"] for f in got["features"]] == ["Hochkar Hut"]
    box = {"type": "Polygon", "coordinates": [[[15.445, 47.95], [15.455, 47.95], [15.455, 47.96], [15.445, 47.96], [15.445, 47.95]]]}
    got = http.get(f"/v1/{PLACES}:listFeatures", params={"region": json.dumps(box)}).json()["features"]
    assert sorted(f["properties"]["name"] for f in got) == ["Hochkar Hut", "Upper Meadow"]


def test_list_features_refuses(http):
    assert http.get(f"/v1/{PLACES}:listFeatures", params={"filter": "population >"}).status_code == 400
    assert http.get(f"/v1/{PLACES}:listFeatures", params={"region": "not json"}).status_code == 400
    assert http.get(f"/v1/{PLACES}:listFeatures", params={"pageSize": "x"}).status_code == 400
    assert http.get(f"/v1/{ELEVATION}:listFeatures").status_code == 400
    assert http.get("/v1/projects/eerest/assets/sample/nope:listFeatures").status_code == 400


def test_random_points_make_large_collections_in_pages(http):
    region = call("GeometryConstructors.Polygon", coordinates=const([[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]))
    pts = expr(call("FeatureCollection.randomPoints", region=region, points=const(25_000), seed=const(3)))
    first = features(http, {"expression": pts, "pageSize": 100_000})
    assert len(first["features"]) == 10_000 and first["nextPageToken"]  # the emulator's largest page
    size = http.post("/v1/projects/eerest/value:compute", json={"expression": expr(call("Collection.size", collection=pts["values"]["0"]))})
    assert size.json()["result"] == 25_000
    xy = [f["geometry"]["coordinates"] for f in first["features"]]
    assert all(0 <= x <= 10 and 0 <= y <= 10 for x, y in xy)
    assert features(http, {"expression": pts, "pageSize": 3})["features"] == first["features"][:3]  # seeded


ee = None


@pytest.fixture(scope="module")
def ee_session(ee_emulator_session):
    global ee
    ee = pytest.importorskip("ee")
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield ee_emulator_session
    ee.Reset()


def test_official_client_reads_tables(ee_session):
    fc = ee.FeatureCollection(PLACES)
    assert fc.size().getInfo() == 12
    info = fc.filter(ee.Filter.eq("kind", "village")).getInfo()
    assert [f["properties"]["population"] for f in info["features"]] == [240]
    listed = ee.data.listFeatures({"assetId": PLACES, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
    computed = ee.data.computeFeatures({"expression": fc, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
    assert listed.equals(computed) and len(listed) == 12
    sorted_names = fc.sort("height_m", False).limit(2).aggregate_array("name").getInfo()
    assert sorted_names == ["Saddle", "Hochkar Hut"]
    sel = ee.data.computeFeatures({"expression": fc.select(["name"]).limit(1)})["features"][0]["properties"]
    assert sel == {"name": "Hochkar Hut"}


def test_official_client_reduce_and_sample_regions(ee_session):
    img = ee.Image(ELEVATION)
    areas = ee.FeatureCollection(PLACES).filter(ee.Filter.inList("kind", ["meadow", "village", "lake"]))
    got = ee.data.computeFeatures({"expression": img.reduceRegions(areas, ee.Reducer.mean(), 20)})["features"]
    assert [f["properties"]["name"] for f in got] == ["Upper Meadow", "Village", "Twin Lakes"]
    assert all(100 < f["properties"]["mean"] < 500 for f in got)
    samples = img.sampleRegions(areas, ["name"], 20, geometries=True)
    rows = ee.data.computeFeatures({"expression": samples, "pageSize": 10_000})["features"]
    assert len(rows) == samples.size().getInfo() > 100
    assert set(rows[0]["properties"]) == {"name", "elevation"} and rows[0]["geometry"]["type"] == "Point"
