"""The official client's batch and asset-management calls against the emulator: exports with
ee.batch, operations (getOperation, listOperations, cancelOperation), createAsset, copyAsset,
renameAsset, deleteAsset, updateAsset, getAssetAcl/setAssetAcl, ingestion, getProjectConfig."""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest

ee = pytest.importorskip("ee")
tifffile = pytest.importorskip("tifffile")

from emulator_helpers import ELEVATION, SCENE, X0, Y0  # noqa: E402

ROOT = "projects/eerest-writes/assets"


@pytest.fixture
def ee_ops(ee_emulator):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    ee.data.setMaxRetries(0)
    ee_emulator.operations.configure(run_seconds=0)
    yield ee_emulator
    ee.Reset()


def wait(name: str) -> dict:
    for _ in range(500):
        op = ee.data.getOperation(name)
        if op.get("done"):
            return op
        time.sleep(0.01)
    raise AssertionError(f"{name} never finished")


def test_export_to_cloud_storage_then_operations(ee_ops):
    t = uuid.uuid4().hex[:8]
    region = ee.Geometry.Rectangle([X0, Y0 - 400, X0 + 600, Y0], "EPSG:32633", False)
    task = ee.batch.Export.image.toCloudStorage(
        ee.Image(SCENE).select(["red", "nir"]), description=f"ee_{t}", bucket="eebucket",
        fileNamePrefix=f"ee/{t}", region=region, scale=20, crs="EPSG:32633")
    task.start()
    op = wait(task.name)
    assert op["metadata"]["state"] == "SUCCEEDED" and op["metadata"]["type"] == "EXPORT_IMAGE"
    assert op["metadata"]["destinationUris"] == [f"gs://eebucket/ee/{t}.tif"]
    assert task.status()["state"] == "COMPLETED"
    with tifffile.TiffFile(ee_ops.store.root / "gcs" / "eebucket" / "ee" / f"{t}.tif") as tif:
        got = tif.asarray()
    assert got.shape == (2, 20, 30)
    want = ee.data.computePixels({"expression": ee.Image(SCENE).select(["red", "nir"]).clipToBoundsAndScale(
        geometry=region, scale=20), "fileFormat": "NUMPY_NDARRAY"})
    np.testing.assert_array_equal(got[0], want["red"])
    names = [o["name"] for o in ee.data.listOperations()]
    assert op["name"] in names
    tasks = {t_["id"]: t_ for t_ in ee.data.getTaskList()}
    assert tasks[op["name"].rsplit("/", 1)[1]]["state"] == "COMPLETED"


def test_table_export_to_drive_and_cancel(ee_ops):
    t = uuid.uuid4().hex[:8]
    fc = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([15.45, 47.95]), {"n": 1})])
    task = ee.batch.Export.table.toDrive(fc, description=f"tbl_{t}", folder=f"d{t}", fileFormat="GeoJSON")
    task.start()
    assert wait(task.name)["metadata"]["state"] == "SUCCEEDED"
    assert (ee_ops.store.root / "drive" / f"d{t}" / f"tbl_{t}.geojson").is_file()
    ee_ops.operations.configure(run_seconds=60)
    slow = ee.batch.Export.table.toCloudStorage(fc, description=f"slow_{t}", bucket="b")
    slow.start()
    ee_ops.operations.configure(manual_clock=True)
    slow.cancel()
    assert ee.data.getOperation(slow.name)["metadata"]["state"] == "CANCELLING"
    assert slow.status()["state"] == "CANCEL_REQUESTED"
    ee_ops.operations.advance_clock(1)
    assert ee.data.getOperation(slow.name)["metadata"]["state"] == "CANCELLED"
    assert slow.status()["state"] == "CANCELLED"


def test_asset_management(ee_ops):
    t = uuid.uuid4().hex[:8]
    folder = f"{ROOT}/ee_{t}"
    ee.data.createAsset({"type": "FOLDER"}, folder)
    ee.data.createAsset({"type": "IMAGE_COLLECTION"}, f"{folder}/coll")
    with pytest.raises(ee.EEException, match="Cannot overwrite asset"):
        ee.data.createAsset({"type": "FOLDER"}, folder)
    ee.data.copyAsset(ELEVATION, f"{folder}/elev")
    ee.data.renameAsset(f"{folder}/elev", f"{folder}/dem")
    listed = ee.data.listAssets({"parent": folder})["assets"]
    assert [(a["name"], a["type"]) for a in listed] == [(f"{folder}/coll", "IMAGE_COLLECTION"), (f"{folder}/dem", "IMAGE")]
    assert ee.Image(f"{folder}/dem").reduceRegion(ee.Reducer.count(), None, 30).getInfo()
    ee.data.updateAsset(f"{folder}/dem", {"properties": {"kind": "dem"}}, ["properties.kind"])
    assert ee.data.getAsset(f"{folder}/dem")["properties"]["kind"] == "dem"
    acl = ee.data.getAssetAcl(f"{folder}/dem")
    assert acl == {"owners": [], "readers": [], "writers": []}
    ee.data.setAssetAcl(f"{folder}/dem", {"readers": ["user:a@example.com"], "all_users_can_read": True})
    acl = ee.data.getAssetAcl(f"{folder}/dem")
    assert acl["readers"] == ["user:a@example.com"] and acl["all_users_can_read"] is True
    with pytest.raises(ee.EEException, match="not empty"):
        ee.data.deleteAsset(folder)
    ee.data.deleteAsset(f"{folder}/dem")
    ee.data.deleteAsset(f"{folder}/coll")
    ee.data.deleteAsset(folder)
    with pytest.raises(ee.EEException, match="not found"):
        ee.data.getAsset(folder)


def test_ingestion_and_project_config(ee_ops):
    t = uuid.uuid4().hex[:8]
    task = ee.batch.Export.image.toCloudStorage(ee.Image(ELEVATION), description="src", bucket="ingest",
                                                fileNamePrefix=t, scale=30)
    task.start()
    assert wait(task.name)["metadata"]["state"] == "SUCCEEDED"
    manifest = {"name": f"{ROOT}/ingested_{t}", "tilesets": [{"sources": [{"uris": [f"gs://ingest/{t}.tif"]}]}],
                "properties": {"source": "ee"}}
    result = ee.data.startIngestion(ee.data.newTaskId()[0], manifest)
    op = wait(result["name"])
    assert op["metadata"]["state"] == "SUCCEEDED", op
    assert ee.data.getAsset(f"{ROOT}/ingested_{t}")["properties"] == {"source": "ee"}
    assert ee.data.getProjectConfig()["name"] == "projects/eerest/config"


def test_export_to_asset_then_use_it(ee_ops):
    t = uuid.uuid4().hex[:8]
    region = ee.Geometry.Rectangle([X0, Y0 - 400, X0 + 400, Y0], "EPSG:32633", False)
    task = ee.batch.Export.image.toAsset(ee.Image(ELEVATION), description=f"asset_{t}",
                                         assetId=f"{ROOT}/exported_{t}", region=region, scale=40)
    task.start()
    assert wait(task.name)["metadata"]["state"] == "SUCCEEDED"
    info = ee.data.getAsset(f"{ROOT}/exported_{t}")
    assert info["type"] == "IMAGE" and info["bands"][0]["grid"]["dimensions"] == {"width": 10, "height": 10}
    assert ee.Image(f"{ROOT}/exported_{t}").bandNames().getInfo() == ["elevation"]
    # The name exists now: refused without overwrite (ee always sends it), replaced with it.
    again = ee.batch.Export.image.toAsset(ee.Image(ELEVATION).multiply(2), description=f"again_{t}",
                                          assetId=f"{ROOT}/exported_{t}", region=region, scale=40)
    with pytest.raises(ee.EEException, match="Cannot overwrite asset"):
        again.start()
    replace = ee.batch.Export.image.toAsset(ee.Image(ELEVATION).multiply(2).rename("twice"), description=f"r_{t}",
                                            assetId=f"{ROOT}/exported_{t}", region=region, scale=40, overwrite=True)
    replace.start()
    assert wait(replace.name)["metadata"]["state"] == "SUCCEEDED"
    assert ee.Image(f"{ROOT}/exported_{t}").bandNames().getInfo() == ["twice"]


def test_map_export_to_cloud_storage(ee_ops):
    t = uuid.uuid4().hex[:8]
    image = ee.Image(SCENE).visualize(bands=["red", "green", "blue"], min=0, max=3000)
    task = ee.batch.Export.map.toCloudStorage(image, description=f"map_{t}", bucket="eemaps", fileFormat="png",
                                              path=f"tiles{t}", minZoom=11, maxZoom=12, writePublicTiles=False)
    task.start()
    op = wait(task.name)
    assert op["metadata"]["state"] == "SUCCEEDED" and task.status()["state"] == "COMPLETED", op
    root = ee_ops.store.root / "gcs" / "eemaps" / f"tiles{t}"
    assert {p.parent.parent.name for p in root.rglob("*") if p.is_file()} == {"11", "12"}


def test_export_options_earthengine_api_sends_wrapped(ee_ops):
    """maxPixels (Int64Value), priority, tileSize, shardSize and maxVertices (Int32Value) as
    earthengine-api sends them ({"value": ...}); maxPixels is applied."""
    t = uuid.uuid4().hex[:8]
    region = ee.Geometry.Rectangle([X0, Y0 - 400, X0 + 400, Y0], "EPSG:32633", False)
    image = ee.Image(ELEVATION)
    drive = ee.batch.Export.image.toDrive(image, description=f"w_{t}", folder="wrapped", region=region, scale=40,
                                          maxPixels=1e13, priority=7, shardSize=256)
    drive.start()
    op = wait(drive.name)
    assert op["metadata"]["state"] == "SUCCEEDED" and op["metadata"]["priority"] == 7, op
    asset = ee.batch.Export.image.toAsset(image, description=f"a_{t}", assetId=f"{ROOT}/wrapped_{t}", region=region,
                                          scale=40, maxPixels=1e9, tileSize=256)
    asset.start()
    assert wait(asset.name)["metadata"]["state"] == "SUCCEEDED"
    table = ee.batch.Export.table.toDrive(ee.FeatureCollection([ee.Feature(region, {"n": 1})]), description=f"k_{t}",
                                          fileFormat="KML", maxVertices=1000, priority=3)
    table.start()
    assert wait(table.name)["metadata"]["state"] == "SUCCEEDED"
    small = ee.batch.Export.image.toDrive(image, description=f"s_{t}", folder="wrapped", region=region, scale=40,
                                          maxPixels=50)
    small.start()
    op = wait(small.name)
    assert op["metadata"]["state"] == "FAILED" and "maxPixels is 50" in op["error"]["message"], op
