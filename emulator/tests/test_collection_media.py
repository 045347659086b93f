"""Filmstrips, video thumbnails and table downloads, fetched as earthengine-api fetches them
(``getFilmstripThumbURL``, ``getVideoThumbURL``, a FeatureCollection's ``getDownloadURL``),
checked against numpy on the sample scenes and against the sample table's file."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

ee = pytest.importorskip("ee")
requests = pytest.importorskip("requests")
PIL = pytest.importorskip("PIL.Image")

from emulator_helpers import PLACES, SCENES, X0, Y0  # noqa: E402

DATES = ["20240504", "20240524", "20240613"]
REGION = {"crs": "EPSG:32633", "crs_transform": [10, 0, X0, 0, -10, Y0], "dimensions": [40, 30]}


def scene(date: str) -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "scenes" / f"{date}.npy")


def gray(date: str) -> np.ndarray:
    """The red band of a scene's top-left 40 x 30 pixels drawn with min 0, max 3000, as uint8."""
    red = scene(date)["red"][:30, :40].astype(np.float64)
    return np.clip(np.round(red / 3000 * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def ee_session(ee_emulator_session):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield ee_emulator_session
    ee.Reset()


def fetch(url: str) -> requests.Response:
    r = requests.get(url, timeout=60)
    assert r.status_code == 200, r.text
    return r


def collection() -> ee.ImageCollection:
    return ee.ImageCollection(SCENES).filter(ee.Filter.inList("system:index", DATES)).sort("system:time_start")


@pytest.mark.parametrize("orientation", ["VERTICAL", "HORIZONTAL"])
def test_filmstrip_lays_out_every_image(ee_session, orientation):
    params = {"bands": ["red"], "min": 0, "max": 3000, "format": "png", **REGION}
    if orientation == "VERTICAL":  # what getFilmstripThumbURL asks for
        r = fetch(collection().getFilmstripThumbURL(params))
    else:  # the REST field, which the official client never sets
        prepared = collection().map(
            lambda img: img.clipToBoundsAndScale(**_bounds()).visualize(bands=["red"], min=0, max=3000)
        )
        body = {"expression": ee.serializer.encode(prepared, for_cloud_api=True), "fileFormat": "PNG",
                "orientation": "HORIZONTAL"}
        name = ee.data._get_cloud_projects().filmstripThumbnails().create(
            parent="projects/eerest", body=body).execute()["name"]
        r = fetch(f"{ee_session.url}/v1/{name}:getPixels")
    assert r.headers["content-type"] == "image/png"
    px = np.asarray(PIL.open(io.BytesIO(r.content)))
    want = np.concatenate([gray(d) for d in DATES], axis=0 if orientation == "VERTICAL" else 1)
    assert px.shape[:2] == want.shape
    np.testing.assert_array_equal(px[..., 0], want)


def _bounds() -> dict:
    return {"geometry": ee.Geometry.Rectangle([X0, Y0 - 300, X0 + 400, Y0], "EPSG:32633", False),
            "width": 40, "height": 30}


def test_video_thumbnail_is_an_animated_gif_with_a_frame_per_image(ee_session):
    url = collection().getVideoThumbURL(
        {"bands": ["red"], "min": 0, "max": 3000, "framesPerSecond": 4, **REGION}
    )
    r = fetch(url)
    assert r.headers["content-type"] == "image/gif"
    gif = PIL.open(io.BytesIO(r.content))
    assert gif.n_frames == len(DATES) and gif.size == (40, 30)
    for i, date in enumerate(DATES):
        gif.seek(i)
        assert gif.info["duration"] == 250
        frame = np.asarray(gif.convert("RGB"))
        # A GIF frame has at most 256 colours: a grey picture with fewer survives exactly.
        want = gray(date)
        if len(np.unique(want)) <= 256:
            np.testing.assert_array_equal(frame[..., 0], want)


def test_video_and_filmstrip_refusals(ee_session):
    projects = ee.data._get_cloud_projects()
    visual = collection().map(lambda img: img.visualize(bands=["red"], min=0, max=3000))
    expression = ee.serializer.encode(visual, for_cloud_api=True)
    call = ee.data._execute_cloud_call
    name = call(projects.videoThumbnails().create(
        parent="projects/eerest", body={"expression": expression, "fileFormat": "MP4"}))["name"]
    r = requests.get(f"{ee_session.url}/v1/{name}:getPixels", timeout=60)
    assert r.status_code == 400 and "MP4 (GIF is served) is not implemented in the eerest emulator" in r.text
    with pytest.raises(ee.EEException, match="must evaluate to an ImageCollection, got Image"):
        call(projects.filmstripThumbnails().create(
            parent="projects/eerest", body={"expression": ee.serializer.encode(visual.first(), for_cloud_api=True)}
        ))
    # Frames of different sizes cannot be drawn together: said, not cropped.
    mixed = ee.ImageCollection([visual.first(), visual.first().clip(ee.Geometry.Rectangle(
        [X0, Y0 - 100, X0 + 100, Y0], "EPSG:32633", False)).clipToBoundsAndScale(width=5, height=5)])
    r = requests.get(mixed.getFilmstripThumbURL({}), timeout=60)
    assert r.status_code == 400 and "different sizes" in r.json()["error"]["message"]


def places_file() -> dict:
    from eerest_emulator import BUNDLED_DATA

    return json.loads((BUNDLED_DATA / "eerest" / "sample" / "places.geojson").read_text())


def test_table_download_csv_has_every_feature(ee_session):
    fc = ee.FeatureCollection(PLACES)
    r = fetch(fc.getDownloadURL(filetype="csv", selectors=["name", "population"], filename="towns"))
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="towns.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    want = [f["properties"] for f in places_file()["features"]]
    assert [row["name"] for row in rows] == [p["name"] for p in want]
    assert [row["population"] for row in rows] == ["" if p.get("population") is None else str(p["population"]) for p in want]
    assert list(rows[0]) == ["name", "population"]
    # A Date property is written as getInfo gives it, not as an object's repr.
    rows = list(csv.DictReader(io.StringIO(fetch(fc.getDownloadURL(filetype="csv", selectors=["surveyed"])).text)))
    assert [json.loads(row["surveyed"]) if row["surveyed"] else None for row in rows] == [
        p.get("surveyed") for p in want]


def test_table_download_geojson_equals_compute_features(ee_session):
    fc = ee.FeatureCollection(PLACES).filter(ee.Filter.gt("population", 5))
    got = fetch(fc.getDownloadURL(filetype="geojson")).json()
    info = fc.getInfo()
    assert [f["geometry"] for f in got["features"]] == [f["geometry"] for f in info["features"]]
    assert [f["properties"]["name"] for f in got["features"]] == [f["properties"]["name"] for f in info["features"]]


def test_table_download_refusals(ee_session):
    with pytest.raises(ee.EEException, match=r"SHP .*not implemented in the eerest emulator"):
        ee.FeatureCollection(PLACES).getDownloadURL(filetype="shp")
    with pytest.raises(ee.EEException, match="must evaluate to a FeatureCollection, got Image"):
        ee.data.getTableDownloadId({"table": ee.Image(1)})


def test_thumbnail_gamma_as_earthengine_api_wraps_it(ee_session):
    # earthengine-api sends visualizationOptions.gamma as {"value": 1.5} (a DoubleValue).
    url = ee.Image(f"{SCENES}/{DATES[0]}").getThumbURL({"bands": ["red"], "min": 0, "max": 3000, "gamma": 1.5,
                                                       "format": "png", **REGION})
    px = np.asarray(PIL.open(io.BytesIO(fetch(url).content)))
    red = scene(DATES[0])["red"][:30, :40].astype(np.float64)
    want = np.round(np.clip(red / 3000, 0, 1) ** (1 / 1.5) * 255).astype(np.uint8)
    np.testing.assert_array_equal(px if px.ndim == 2 else px[..., 0], want)
