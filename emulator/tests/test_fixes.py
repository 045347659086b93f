"""unmask's sameFootprint, loading an asset as the wrong kind, and broken files in the data directory."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from eerest_emulator import BUNDLED_DATA, Emulator
from emulator_helpers import ELEVATION, SCENES, X0, Y0, call, const, expr, grid

ELEVATION_META = json.loads((BUNDLED_DATA / "eerest/sample/elevation.json").read_text())


def _pixels(http: httpx.Client, node: dict, g: dict) -> np.ndarray:
    r = http.post("/v1/projects/eerest/image:computePixels", json={"expression": expr(node), "fileFormat": "NPY", "grid": g})
    assert r.status_code == 200, r.text
    return np.load(io.BytesIO(r.content))


# -- unmask ------------------------------------------------------------------------------------
# 4 x 1 pixels of 20 m, the first two west of the elevation model, the last two on it
EDGE = grid(4, 1, scale=20.0, x0=X0 - 40.0, y0=Y0)
HIDDEN = call("Image.updateMask", image=call("Image.load", id=const(ELEVATION)), mask=call("Image.constant", value=const(0)))


@pytest.mark.parametrize(
    ("same_footprint", "expected_mask"),
    [(None, [0, 0, 1, 1]), (True, [0, 0, 1, 1]), (False, [1, 1, 1, 1])],
)
def test_unmask_same_footprint(http, same_footprint, expected_mask):
    args = {"input": HIDDEN, "value": const(7)}
    if same_footprint is not None:
        args["sameFootprint"] = const(same_footprint)
    unmasked = call("Image.unmask", **args)
    mask = _pixels(http, call("Image.mask", image=unmasked), EDGE)
    assert mask["elevation"][0].tolist() == expected_mask
    values = _pixels(http, unmasked, EDGE)["elevation"][0]
    assert values.tolist() == [7 if m else 0 for m in expected_mask]  # masked pixels are 0 in NPY


def test_unmask_keeps_unmasked_pixels(http):
    g = grid(3, 3, scale=20.0)
    plain = _pixels(http, call("Image.load", id=const(ELEVATION)), g)["elevation"]
    unmasked = _pixels(http, call("Image.unmask", input=call("Image.load", id=const(ELEVATION)), value=const(-1)), g)
    np.testing.assert_array_equal(unmasked["elevation"], plain)


# -- the wrong kind of asset ---------------------------------------------------------------------
def test_a_collection_loaded_as_an_image_says_so(http):
    r = http.post("/v1/projects/eerest/image:computePixels",
                  json={"expression": expr(call("Image.load", id=const(SCENES))), "fileFormat": "NPY", "grid": grid(2, 2)})
    assert r.status_code == 400
    message = r.json()["error"]["message"]
    assert f"Asset '{SCENES}' is an ImageCollection, not an Image." in message and "ee.ImageCollection" in message
    assert "not found" not in message


def test_an_image_loaded_as_a_collection_says_so(http):
    body = {"expression": expr(call("ImageCollection.load", id=const(ELEVATION)))}
    r = http.post("/v1/projects/eerest/imageCollection:computeImages", json=body)
    assert r.status_code == 400
    assert f"Asset '{ELEVATION}' is an Image, not an ImageCollection." in r.json()["error"]["message"]


def test_a_missing_asset_is_still_not_found(http):
    r = http.post("/v1/projects/eerest/image:computePixels",
                  json={"expression": expr(call("Image.load", id=const("projects/eerest/assets/nope"))), "fileFormat": "NPY"})
    assert r.status_code == 400 and "not found" in r.json()["error"]["message"]


def test_ee_client_sees_the_message(ee_emulator):
    ee = pytest.importorskip("ee")
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    try:
        with pytest.raises(ee.EEException, match="is an ImageCollection, not an Image"):
            ee.data.computePixels({"expression": ee.Image(SCENES), "fileFormat": "NUMPY_NDARRAY", "grid": grid(2, 2)})
    finally:
        ee.Reset()


# -- broken files in --data ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("broken")
    folder = root / "p" / "bad"
    folder.mkdir(parents=True)
    (folder / "syntax.json").write_text('{"type": "IMAGE", ')
    (folder / "list.json").write_text("[1, 2]")
    (folder / "pixels.json").write_text(json.dumps(ELEVATION_META))
    (folder / "pixels.npy").write_bytes(b"\x93NUMPY this is not an array")
    (folder / "bands.json").write_text(json.dumps({**ELEVATION_META, "bands": [{"dataType": {"precision": "FLOAT"}}]}))
    (folder / "field.json").write_text(json.dumps({**ELEVATION_META, "title": "not an EarthEngineAsset field"}))
    (folder / "field.npy").write_bytes((BUNDLED_DATA / "eerest/sample/elevation.npy").read_bytes())
    with Emulator(data_dir=root) as emu:
        yield emu.url, folder


@pytest.mark.parametrize(
    ("asset", "file", "why"),
    [
        ("syntax", "syntax.json", "JSONDecodeError"),
        ("list", "list.json", "expected a JSON object"),
        ("bands", "bands.json", "KeyError"),
        ("field", "field.json", 'does not hold a valid EarthEngineAsset: Invalid JSON payload received. Unknown name "title"'),
    ],
)
def test_broken_metadata_is_a_500_naming_the_file(broken, asset, file, why):
    url, folder = broken
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer t"}) as http:
        r = http.get(f"/v1/projects/p/assets/bad/{asset}")
        if asset == "bands":  # metadata reads; the bands do not
            r = http.post(f"/v1/projects/p/assets/bad/{asset}:getPixels", json={"fileFormat": "NPY"})
        assert r.status_code == 500, r.text
        error = r.json()["error"]
        assert error["status"] == "INTERNAL"
        assert str(folder / file) in error["message"] and why in error["message"]
        assert http.get("/v1/projects/p:listAssets").status_code == 200  # same connection, still served


def test_broken_pixels_are_a_500_naming_the_file(broken):
    url, folder = broken
    r = httpx.post(f"{url}/v1/projects/p/assets/bad/pixels:getPixels", json={"fileFormat": "NPY"},
                   headers={"Authorization": "Bearer t"})
    assert r.status_code == 500 and r.json()["error"]["status"] == "INTERNAL"
    assert f"cannot read the asset file {folder / 'pixels.npy'}" in r.json()["error"]["message"]


def test_listing_a_folder_with_a_broken_file_names_it(broken):
    url, folder = broken
    r = httpx.get(f"{url}/v1/projects/p/assets/bad:listAssets", headers={"Authorization": "Bearer t"})
    assert r.status_code == 500 and str(folder) in r.json()["error"]["message"]
