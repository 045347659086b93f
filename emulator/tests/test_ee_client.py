"""The official earthengine-api client works against the emulator (skipped without `ee`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

ee = pytest.importorskip("ee")

from emulator_helpers import SCENES, grid  # noqa: E402


@pytest.fixture(scope="module")
def ee_initialize_requests(ee_emulator_session):
    """ee initialized once for this module (each time costs 0.2 s); yields the requests it made."""
    from google.oauth2.credentials import Credentials

    ee_emulator_session.faults.wait_idle()
    ee_emulator_session.app.clear_requests()
    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield list(ee_emulator_session.requests)
    ee.Reset()


@pytest.fixture
def ee_init(ee_initialize_requests, ee_emulator):
    return ee_emulator


def test_initialize_fetches_discovery_and_algorithms(ee_initialize_requests):
    paths = [r.path for r in ee_initialize_requests]
    assert "/$discovery/rest" in paths and "/v1/projects/eerest/algorithms" in paths


def test_compute_images(ee_init):
    coll = ee.ImageCollection(SCENES).filterDate("2024-05-01", "2024-07-01").filter(ee.Filter.lt("CLOUD_COVER", 20))
    r = ee.data.computeImages({"expression": coll})
    assert [i["id"] for i in r["images"]] == ["sample/scenes/20240504", "sample/scenes/20240613"]


def test_compute_pixels_ndvi_median(ee_init):
    nd = ee.ImageCollection(SCENES).map(lambda i: i.normalizedDifference(["nir", "red"])).median()
    arr = ee.data.computePixels({"expression": nd, "fileFormat": "NUMPY_NDARRAY", "grid": grid(32, 32, scale=20.0)})
    assert arr.dtype.names == ("nd",) and arr.shape == (32, 32)
    assert float(arr["nd"].min()) >= -1 and float(arr["nd"].max()) <= 1


def test_compute_pixels_arithmetic_matches_serialised_names(ee_init):
    img = ee.Image(SCENES + "/20240504").select(["nir", "red"]).add(5).multiply(ee.Image(2)).rename(["a", "b"])
    enc = json.dumps(ee.serializer.encode(img, for_cloud_api=True))
    for name in ("Image.load", "Image.select", "Image.add", "Image.constant", "Image.multiply", "Image.rename"):
        assert name in enc
    arr = ee.data.computePixels({"expression": img, "fileFormat": "NUMPY_NDARRAY", "grid": grid(4, 4)})
    assert arr.dtype.names == ("a", "b")


def test_get_pixels(ee_init):
    arr = ee.data.getPixels({"assetId": SCENES + "/20240504", "fileFormat": "NUMPY_NDARRAY", "bandIds": ["nir"]})
    assert arr.dtype == np.dtype([("nir", "<u2")]) and arr.shape == (224, 224)
    png = ee.data.getPixels({"assetId": SCENES + "/20240504", "fileFormat": "PNG", "bandIds": ["red", "green", "blue"],
                             "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]}})
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_become_ee_exceptions(ee_init):
    with pytest.raises(ee.EEException, match="not found"):
        ee.data.computePixels({"expression": ee.Image("projects/eerest/assets/nope"), "fileFormat": "NPY", "grid": grid(2, 2)})


def test_algorithm_signatures_match_earth_engine():
    """Argument names and order of the implemented algorithms match ee's own catalogue."""
    from pathlib import Path

    from eerest_emulator import ALGORITHMS

    path = Path(ee.__file__).with_name("tests") / "algorithms.json"
    if not path.is_file():
        pytest.skip("earthengine-api ships no algorithms.json")
    real = {a["name"][11:]: a for a in json.loads(path.read_text())["algorithms"]}
    for name, alg in ALGORITHMS.items():
        assert name in real, name
        assert [a.name for a in alg.args] == [a["argumentName"] for a in real[name].get("arguments", [])], name
