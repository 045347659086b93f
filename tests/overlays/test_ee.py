"""expression= from the official earthengine-api: ee objects are serialised with
ee.serializer.encode(..., for_cloud_api=True); eerest never imports ee by itself.

Building ee objects needs an initialised ee, so ee is initialised against the emulator
(which serves the discovery document and algorithms.list it asks for)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eerest_emulator import BUNDLED_DATA
from pixhelp import run

ee = pytest.importorskip("ee")

SCENE = "projects/eerest/assets/sample/scenes/20240504"
SCENE_DATA = np.load(Path(BUNDLED_DATA) / "eerest" / "sample" / "scenes" / "20240504.npy")


@pytest.fixture(scope="module")
def ee_ready(emulator_session: Any) -> Iterator[Any]:
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=emulator_session.url)
    yield ee
    ee.Reset()


def test_ee_image_as_expression(flavour: tuple[str, str], ee_ready: Any, emulator: Any) -> None:
    image = ee.Image(SCENE).select(["nir", "red"]).normalizedDifference(["nir", "red"]).rename("ndvi")
    version, kind = flavour
    px = run(version, kind, emulator.url, lambda c: c.projects.image.compute_pixels(
        expression=image, file_format="NPY", band_dtypes=["float32"]))
    sent = emulator.requests[-1].json()
    assert sent["expression"] == ee.serializer.encode(image, for_cloud_api=True)
    nir, red = SCENE_DATA["nir"].astype(np.float64), SCENE_DATA["red"].astype(np.float64)
    np.testing.assert_allclose(px.to_numpy()["ndvi"], (nir - red) / (nir + red), rtol=1e-6)


def test_any_computed_object(ee_ready: Any, emulator: Any) -> None:
    from eerest._ee import is_ee_object, to_expression

    collection = SCENE.rsplit("/", 1)[0]
    expected = [
        (ee.Image(1), {"functionInvocationValue": {
            "functionName": "Image.constant", "arguments": {"value": {"constantValue": 1}}}}),
        (ee.ImageCollection(collection), {"functionInvocationValue": {
            "functionName": "ImageCollection.load", "arguments": {"id": {"constantValue": collection}}}}),
        (ee.Number(3), {"constantValue": 3}),
        (ee.String("x"), {"constantValue": "x"}),
    ]
    for obj, node in expected:
        assert is_ee_object(obj)
        expression = to_expression(obj)
        assert set(expression) == {"result", "values"}
        assert expression["values"][expression["result"]] == node
    expr = {"result": "0", "values": {"0": {"constantValue": 1}}}
    assert to_expression(expr) is expr and not is_ee_object(expr)


def test_dict_and_message_expressions_unchanged(emulator: Any) -> None:
    import eerest.v1 as v1

    expr = {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.load", "arguments": {"id": {"constantValue": SCENE}}}}}}
    for given in (expr, v1.types.Expression.model_validate(expr)):
        run("v1", "sync", emulator.url, lambda c, g=given: c.projects.image.compute_pixels(
            expression=g, file_format="NPY", grid={"dimensions": {"width": 2, "height": 2}}))
        assert emulator.requests[-1].json()["expression"] == expr


@pytest.mark.slow
def test_eerest_never_imports_ee(emulator: Any) -> None:
    code = f"""
import sys, google.auth.credentials, eerest
c = eerest.Client("p", credentials=google.auth.credentials.AnonymousCredentials(), base_url={emulator.url!r})
expr = {{"result": "0", "values": {{"0": {{"functionInvocationValue": {{
    "functionName": "Image.load", "arguments": {{"id": {{"constantValue": {SCENE!r}}}}}}}}}}}}}
px = c.projects.image.compute_pixels(expression=expr, file_format="NPY", grid={{"dimensions": {{"width": 2, "height": 2}}}})
px.to_numpy()
print(json.dumps(sorted(m for m in sys.modules if m == "ee" or m.startswith("ee."))))
""".replace("import sys,", "import json, sys,")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_ee_objects_are_accepted_by_methods_without_an_overlay(
    flavour: tuple[str, str], ee_ready: Any, emulator: Any
) -> None:
    """computeImages has no overlay: the conversion is in the request building every method shares."""
    collection = ee.ImageCollection(SCENE.rsplit("/", 1)[0]).filter(ee.Filter.eq("system:index", "20240504"))
    version, kind = flavour

    async def ids_async(c: Any) -> list[str]:
        return [image.id async for image in c.projects.image_collection.compute_images(expression=collection)]

    def ids(c: Any) -> Any:
        if kind == "async":
            return ids_async(c)
        return [image.id for image in c.projects.image_collection.compute_images(expression=collection)]

    assert run(version, kind, emulator.url, ids) == ["sample/scenes/20240504"]  # ids are relative
    sent = emulator.requests[-1].json()
    assert sent["expression"] == ee.serializer.encode(collection, for_cloud_api=True)
