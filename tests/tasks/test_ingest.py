"""import_image / import_table: ingestion from a manifest, returning an Operation as exports do,
against the emulator's ingestion of local files addressed as gs://bucket/object."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
from emulator_helpers import SCENE, call, const, expr, grid

import eerest
from eerest._tasks.ingest import import_call
from eerest.v1 import types

WRITES = "projects/eerest/assets"


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _exported_tiff(client: Any, prefix: str, g: dict[str, Any]) -> str:
    """A GeoTIFF of the sample scene in the emulator's bucket (an export), as a gs:// URI."""
    op = client.export(
        {
            "kind": "image",
            "expression": expr(call("Image.load", id=const(SCENE))),
            "grid": g,
            "fileExportOptions": {
                "fileFormat": "GEO_TIFF",
                "cloudStorageDestination": {"bucket": "bucket", "filenamePrefix": prefix},
            },
        }
    )
    op.result(timeout=60, poll=0.05)
    return f"gs://bucket/{prefix}.tif"


def _image_manifest(name: str, uri: str) -> dict[str, Any]:
    return {
        "name": name,
        "tilesets": [{"id": "t", "sources": [{"uris": [uri]}]}],
        "bands": [{"id": "first", "tilesetId": "t", "tilesetBandIndex": 0}],
        "properties": {"origin": "import_image"},
    }


def test_import_image_returns_an_operation_and_makes_the_asset(ee_client: Any, ee_emulator: Any) -> None:
    ee_emulator.operations.configure(run_seconds=0.05)
    t, g = _tag(), grid(24, 16)
    uri = _exported_tiff(ee_client, f"ingest/{t}", g)
    name = f"{WRITES}/ingested_{t}"
    op = ee_client.import_image(types.ImageManifest.model_validate(_image_manifest(name, uri)), description="one")
    assert isinstance(op, eerest.Operation)
    op.result(timeout=60, poll=0.05)
    assert op.metadata.state == "SUCCEEDED" and op.metadata.description == "one"
    sent = [r.json() for r in ee_emulator.requests if r.path.endswith("image:import")]
    assert len(sent) == 1 and sent[0]["requestId"] and sent[0]["imageManifest"]["name"] == name
    asset = ee_client.projects.assets.get(name=name)
    assert asset.properties == {"origin": "import_image"} and asset.bands[0].id == "first"
    got = ee_client.projects.assets.get_pixels(name=name, file_format="NPY").to_numpy()
    want = ee_client.projects.image.compute_pixels(
        expression=expr(call("Image.load", id=const(SCENE))), grid=g, file_format="NPY"
    ).to_numpy()
    np.testing.assert_array_equal(got["first"], want[want.dtype.names[0]])
    # again: refused unless overwrite=True
    with pytest.raises(eerest.ConflictError, match="overwrite"):
        ee_client.import_image(_image_manifest(name, uri))
    ee_client.import_image(_image_manifest(name, uri), overwrite=True).result(timeout=60, poll=0.05)


def test_import_table_from_a_csv(ee_client: Any, ee_emulator: Any) -> None:
    ee_emulator.operations.configure(run_seconds=0.05)
    t = _tag()
    src = ee_emulator.store.root / "gcs" / "bucket" / f"{t}.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text("name,lon,lat\na,15.1,47.1\nb,15.2,47.2\nc,15.3,47.3\n")
    name = f"{WRITES}/csv_{t}"
    manifest = {"name": name, "sources": [{"uris": [f"gs://bucket/{t}.csv"], "xColumn": "lon", "yColumn": "lat"}]}
    op = ee_client.import_table(manifest, request_id=f"mine-{t}")
    op.result(timeout=60, poll=0.05)
    assert op.metadata.state == "SUCCEEDED"
    sent = [r.json() for r in ee_emulator.requests if r.path.endswith("table:import")]
    assert sent[-1]["requestId"] == f"mine-{t}"
    asset = ee_client.projects.assets.get(name=name)
    assert asset.type == "TABLE" and asset.feature_count == 3


async def test_async_import_table(ee_async_client: Any, ee_emulator: Any) -> None:
    ee_emulator.operations.configure(run_seconds=0.05)
    t = _tag()
    src = ee_emulator.store.root / "gcs" / "bucket" / f"{t}.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text("name,lon,lat\na,15.1,47.1\n")
    name = f"{WRITES}/async_csv_{t}"
    op = await ee_async_client.import_table(
        types.TableManifest(
            name=name, sources=[{"uris": [f"gs://bucket/{t}.csv"], "x_column": "lon", "y_column": "lat"}]
        )
    )
    assert isinstance(op, eerest.AsyncOperation)
    await op.result(timeout=60, poll=0.05)
    assert (await ee_async_client.projects.assets.get(name=name)).feature_count == 1


def test_a_missing_source_fails_the_task_not_the_call(ee_client: Any, ee_emulator: Any) -> None:
    ee_emulator.operations.configure(run_seconds=0.05)
    op = ee_client.import_image(_image_manifest(f"{WRITES}/none_{_tag()}", "gs://bucket/none.tif"))
    with pytest.raises(eerest.NotFoundError, match=r"none\.tif"):
        op.result(timeout=60, poll=0.05)


def test_the_request_is_checked_before_sending() -> None:
    method, body = import_call("image", {"name": "projects/p/assets/a", "tilesets": []}, overwrite=False)
    assert method == "projects.image.import" and body["overwrite"] is False and len(body["requestId"]) > 8
    assert body["imageManifest"] == {"name": "projects/p/assets/a", "tilesets": []}
    assert "description" not in body
    method, body = import_call("table", types.TableManifest(name="projects/p/assets/t"), description="d")
    assert method == "projects.table.import" and body["tableManifest"] == {"name": "projects/p/assets/t"}
    assert body["description"] == "d"
    with pytest.raises(eerest.InvalidRequestError, match="no 'name'"):
        import_call("table", {"sources": []})
    with pytest.raises(eerest.InvalidRequestError, match=r"types\.ImageManifest or a dict"):
        import_call("image", types.TableManifest(name="projects/p/assets/t"))
    with pytest.raises(eerest.InvalidRequestError, match="not str"):
        import_call("image", "projects/p/assets/a")
