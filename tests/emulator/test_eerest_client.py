"""eerest.Client / AsyncClient against the emulator, through the eerest_emulator.testing fixtures."""

from __future__ import annotations

import io

import numpy as np
from emulator_helpers import SCENE, SCENES, call, const, expr

LOAD = expr(call("ImageCollection.load", id=const(SCENES)))


def test_assets_get(ee_client):
    a = ee_client.projects.assets.get(name=SCENE)
    assert [b.id for b in a.bands] == ["blue", "green", "red", "nir"]


def test_compute_images_pager(ee_client, ee_emulator):
    ids = [i.id for i in ee_client.projects.image_collection.compute_images(expression=LOAD, page_size=2)]
    assert len(ids) == 5
    assert sum(r.path.endswith(":computeImages") for r in ee_emulator.requests) == 3


def test_get_pixels_and_retry_on_503(ee_client, ee_emulator):
    ee_emulator.faults.fail(503, count=1, retry_after=0, path=":getPixels")
    body = ee_client.projects.assets.get_pixels(name=SCENE, file_format="NPY", band_ids=["nir"])
    a = np.load(io.BytesIO(bytes(body)))
    assert a.dtype.names == ("nir",) and a.shape == (224, 224)
    assert sum(r.path.endswith(":getPixels") for r in ee_emulator.requests) == 2


async def test_async_client(ee_async_client, ee_emulator):
    a = await ee_async_client.projects.assets.get(name=SCENE)
    assert a.type == "IMAGE" and [b.id for b in a.bands] == ["blue", "green", "red", "nir"]
    ids = [i.id async for i in ee_async_client.projects.image_collection.compute_images(expression=LOAD, page_size=2)]
    assert ids == [f"sample/scenes/{d}" for d in ("20240504", "20240524", "20240613", "20240703", "20240723")]
    assert sum(r.path.endswith(":computeImages") for r in ee_emulator.requests) == 3
