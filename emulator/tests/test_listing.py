"""Listing: projects.listAssets, projects.assets.listAssets and projects.assets.listImages, over
raw HTTP and through earthengine-api's ee.data.listAssets / listImages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from eerest_emulator import BUNDLED_DATA, Emulator
from emulator_helpers import ELEVATION, PLACES, SCENES

DATES = ["20240504", "20240524", "20240613", "20240703", "20240723"]
CLOUD = {d: json.loads((BUNDLED_DATA / "eerest/sample/scenes" / f"{d}.json").read_text())["properties"]["CLOUD_COVER"] for d in DATES}


def _names(assets: list[dict]) -> list[str]:
    return [a["name"].rsplit("/", 1)[-1] for a in assets]


# -- raw HTTP over the bundled sample ---------------------------------------------------------
def test_project_root_lists_its_folders(http):
    r = http.get("/v1/projects/eerest:listAssets")
    assert r.status_code == 200, r.text
    (sample,) = r.json()["assets"]
    assert sample == {"type": "FOLDER", "name": "projects/eerest/assets/sample", "id": "sample"}


def test_folder_lists_its_children_in_full(http):
    assets = http.get("/v1/projects/eerest/assets/sample:listAssets").json()["assets"]
    assert [(a["name"], a["type"]) for a in assets] == [
        (ELEVATION, "IMAGE"), ("projects/eerest/assets/sample/fields", "TABLE"),
        ("projects/eerest/assets/sample/monthly", "IMAGE_COLLECTION"), (PLACES, "TABLE"), (SCENES, "IMAGE_COLLECTION")]
    assert assets[0]["bands"][0]["id"] == "elevation" and assets[0] == http.get(f"/v1/{ELEVATION}").json()


def test_collection_lists_its_images_in_time_order(http):
    assets = http.get(f"/v1beta/{SCENES}:listAssets").json()["assets"]
    assert _names(assets) == DATES
    assert [a["properties"]["CLOUD_COVER"] for a in assets] == [CLOUD[d] for d in DATES]


def test_basic_view(http):
    assets = http.get(f"/v1/{SCENES}:listAssets", params={"view": "BASIC"}).json()["assets"]
    assert set(assets[0]) == {"type", "name", "id", "updateTime"}


def test_list_images_by_time(http):
    params = {"startTime": "2024-05-20T00:00:00Z", "endTime": "2024-07-10T00:00:00Z"}
    images = http.get(f"/v1alpha/{SCENES}:listImages", params=params).json()["images"]
    assert _names(images) == ["20240524", "20240613", "20240703"]


def test_list_images_by_property_and_filter_string(http):
    r = http.get(f"/v1/{SCENES}:listImages", params=[("properties", "CLOUD_COVER<10"), ("properties", "SPACECRAFT=EERESTSAT-A")])
    expected = [d for d in DATES if CLOUD[d] < 10]
    assert _names(r.json()["images"]) == expected
    flt = 'properties.CLOUD_COVER < 10 AND startTime >= "2024-06-01T00:00:00Z"'
    later = [d for d in DATES if CLOUD[d] < 10 and d >= "20240601"]
    assert later and _names(http.get(f"/v1/{SCENES}:listAssets", params={"filter": flt}).json()["assets"]) == later


def test_paging(http):
    seen, token, pages = [], None, 0
    while True:
        params = {"pageSize": 2, **({"pageToken": token} if token else {})}
        body = http.get(f"/v1/{SCENES}:listImages", params=params).json()
        seen += _names(body["images"])
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    assert seen == DATES and pages == 3
    # a token belongs to its listing
    first = http.get(f"/v1/{SCENES}:listImages", params={"pageSize": 2}).json()["nextPageToken"]
    r = http.get(f"/v1/{SCENES}:listImages", params={"pageSize": 2, "pageToken": first, "startTime": "2024-06-01T00:00:00Z"})
    assert r.status_code == 400 and r.json()["error"]["message"] == "Invalid page token."


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter": 'startTime >= "2024-01-01" OR endTime < "2025-01-01"'}, "joined by AND only, not OR"),
        ({"filter": 'bands.id = "x"'}, "not 'bands.id'"),
        ({"filter": 'startTime >= "yesterday"'}, "is not an RFC 3339 time"),
        ({"filter": "intersects(POINT(1 2))"}, "intersects takes one quoted GeoJSON geometry"),
        ({"region": "CIRCLE(15.45 47.95, 3)"}, "region must be a GeoJSON or WKT geometry"),
        ({"region": "POINT()"}, "cannot read the WKT"),
        ({"pageSize": "many"}, "Invalid value at 'page_size' (TYPE_INT32), \"many\""),
        ({"startTime": "May 1"}, "Invalid value at 'start_time' (type.googleapis.com/google.protobuf.Timestamp)"),
        ({"view": "ALL"}, "Invalid value at 'view' (TYPE_ENUM), \"ALL\""),
    ],
)
def test_bad_filters_are_400s_that_say_why(http, params, message):
    r = http.get(f"/v1/{SCENES}:listImages", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert message in r.json()["error"]["message"]


def test_listing_an_image_or_a_missing_asset(http):
    r = http.get(f"/v1/{ELEVATION}:listAssets")
    assert r.status_code == 400 and "is not a folder or an image collection (it is IMAGE)" in r.text
    r = http.get("/v1/projects/eerest/assets/sample/nope:listImages")
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
    assert http.get("/v1/projects/unknown-project:listAssets").json() == {"assets": []}


def test_listing_needs_auth(ee_emulator):
    r = httpx.get(f"{ee_emulator.url}/v1/{SCENES}:listAssets")
    assert r.status_code == 401


# -- region filters over a data directory of known footprints ----------------------------------
def _square(x0: float, y0: float, size: float = 1.0) -> dict:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


FOOTPRINTS = {"a": _square(0, 0), "b": _square(2, 0), "c": _square(0, 2), "far": _square(50, 50)}


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("tiles")
    folder = root / "demo" / "tiles"
    folder.mkdir(parents=True)
    (root / "demo" / "tiles.json").write_text(json.dumps({"type": "IMAGE_COLLECTION"}))
    for i, (name, geometry) in enumerate(FOOTPRINTS.items()):
        meta = {
            "type": "IMAGE",
            "startTime": f"2024-01-0{i + 1}T00:00:00Z",
            "geometry": geometry,
            "bands": [{"id": "b", "dataType": {"precision": "FLOAT"}, "grid": {
                "crsCode": "EPSG:4326",
                "affineTransform": {"scaleX": 0.5, "scaleY": -0.5, "translateX": geometry["coordinates"][0][0][0],
                                    "translateY": geometry["coordinates"][0][2][1]},
                "dimensions": {"width": 2, "height": 2}}}],
        }
        (folder / f"{name}.json").write_text(json.dumps(meta))
        np.save(folder / f"{name}.npy", np.zeros((2, 2), np.float32))
    with Emulator(data_dir=root) as emu:
        yield emu.url


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (_square(0.5, 0.5), ["a"]),  # overlaps a only
        (_square(0.25, 0.25, 0.5), ["a"]),  # inside a
        (_square(-1, -1, 10), ["a", "b", "c"]),  # contains a, b and c
        ({"type": "Point", "coordinates": [2.5, 0.5]}, ["b"]),
        ({"type": "LineString", "coordinates": [[-1, 2.5], [5, 2.5]]}, ["c"]),  # crosses c, no vertex inside
        ({"type": "Polygon", "coordinates": [[[1.5, -1], [1.6, -1], [1.6, 5], [1.5, 5], [1.5, -1]]]}, []),  # in the gap
        ({"type": "MultiPoint", "coordinates": [[50.5, 50.5], [0.5, 2.5]]}, ["c", "far"]),
        ("POINT (2.5 0.5)", ["b"]),  # WKT
        ("POLYGON ((0.5 0.5, 1.5 0.5, 1.5 1.5, 0.5 1.5, 0.5 0.5))", ["a"]),
        ("MULTIPOINT ((50.5 50.5), (0.5 2.5))", ["c", "far"]),
    ],
)
def test_list_images_by_region(tiles, region, expected):
    text = region if isinstance(region, str) else json.dumps(region)
    r = httpx.get(f"{tiles}/v1/projects/demo/assets/tiles:listImages", params={"region": text},
                  headers={"Authorization": "Bearer t"})
    assert r.status_code == 200, r.text
    assert sorted(_names(r.json()["images"])) == expected


# -- earthengine-api ----------------------------------------------------------------------------
@pytest.fixture
def ee_init(ee_emulator):
    ee = pytest.importorskip("ee")
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    yield ee
    ee.Reset()


def test_ee_list_assets(ee_init):
    ee = ee_init
    listed = ee.data.listAssets({"parent": "projects/eerest/assets/sample"})
    assert [a["id"] for a in listed["assets"]] == [
        "sample/elevation", "sample/fields", "sample/monthly", "sample/places", "sample/scenes"]
    assert [a["name"] for a in ee.data.listAssets("projects/eerest/assets/")["assets"]] == ["projects/eerest/assets/sample"]
    page = ee.data.listAssets({"parent": SCENES, "pageSize": 2})
    assert _names(page["assets"]) == DATES[:2] and page["nextPageToken"]
    assert _names(ee.data.listAssets(SCENES)["assets"]) == DATES  # follows every page


def test_ee_list_images(ee_init):
    ee = ee_init
    listed = ee.data.listImages({"parent": SCENES, "startTime": "2024-05-20T00:00:00Z", "endTime": "2024-07-10T00:00:00Z",
                                 "properties": ["CLOUD_COVER>1"]})
    assert _names(listed["images"]) == [d for d in ["20240524", "20240613", "20240703"] if CLOUD[d] > 1]
    footprint = ee.data.getAsset(f"{SCENES}/20240504")["geometry"]
    assert _names(ee.data.listImages({"parent": SCENES, "region": footprint})["images"]) == DATES
    away = {"type": "Point", "coordinates": [0, 0]}
    assert ee.data.listImages({"parent": SCENES, "region": away})["images"] == []
