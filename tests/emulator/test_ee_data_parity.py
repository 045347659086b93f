"""``ee.data`` parity: for each function of earthengine-api's ``ee.data`` that calls the REST
API, the eerest call that does the same, both run against the same emulator and compared.

The rows are the table in ``docs/ee-data.md`` (a test keeps the two equal). Rows that change
the emulator's state (create, copy, move, delete, patch) run on a copy of its sample data,
each side on assets of its own, and compare what the two sides made.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ee = pytest.importorskip("ee")

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "projects/eerest"
ASSETS = f"{PROJECT}/assets"
SCENES = f"{ASSETS}/sample/scenes"
SCENE = f"{SCENES}/20240504"
ELEVATION = f"{ASSETS}/sample/elevation"
PLACES = f"{ASSETS}/sample/places"
GRID = {
    "dimensions": {"width": 8, "height": 6},
    "affineTransform": {"scaleX": 10, "shearX": 0, "translateX": 533120, "shearY": 0, "scaleY": -10,
                        "translateY": 5311840},
    "crsCode": "EPSG:32633",
}


@dataclass(frozen=True)
class Row:
    """One ``ee.data`` function and its eerest counterpart. ``ee_call`` and ``eerest_call``
    get an asset name prefix of their own side (``…/parity/ee_<row>`` or ``…/parity/eerest_<row>``) for rows
    that create assets; both results are normalised (messages to dicts, the side's prefix
    to ``SIDE``) before they are compared."""

    function: str  # ee.data.<function>
    method: str  # the REST method both call
    eerest: str  # the eerest call, as the docs show it
    ee_call: Callable[[str], Any]
    eerest_call: Callable[[Any, str], Any]
    compare: Callable[[Any, Any], None] | None = None


def _expression(obj: Any) -> Any:
    return ee.serializer.encode(obj, for_cloud_api=True)


def _ids(listing: Any) -> list[str]:
    return sorted(a["name"] for a in listing)


def _same_pixels(ours: Any, theirs: Any) -> None:
    import numpy as np

    np.testing.assert_array_equal(ours.to_numpy(), theirs)  # Pixels are not messages: left as they are


def _same_keys(ours: Any, theirs: Any) -> None:
    assert set(ours) == set(theirs), (ours, theirs)


def _same_names(ours: Any, theirs: Any) -> None:
    assert _ids(ours) == _ids(theirs)


def _same_ids(ours: Any, theirs: Any) -> None:
    assert [i["id"] for i in ours] == [i["id"] for i in theirs]


def _both_under(prefix: str) -> Callable[[Any, Any], None]:
    """Both sides made a new resource (its name differs: a server-made id) under ``prefix``."""

    def check(ours: Any, theirs: Any) -> None:
        assert ours.startswith(prefix) and theirs.startswith(prefix), (ours, theirs)

    return check


ROWS = [
    Row("computeValue", "projects.value.compute", "client.projects.value.compute(expression=obj).result",
        lambda side: ee.data.computeValue(ee.Number(2).add(3).multiply(ee.List([1, 2]).length())),
        lambda c, side: c.projects.value.compute(
            expression=ee.Number(2).add(3).multiply(ee.List([1, 2]).length())).result),
    Row("computeValue (image info)", "projects.value.compute",
        "client.projects.value.compute(expression=ee.Image(...)).result",
        lambda side: ee.data.computeValue(ee.Image(SCENE).select("red")),
        lambda c, side: c.projects.value.compute(expression=ee.Image(SCENE).select("red")).result),
    Row("getAsset", "projects.assets.get", "client.projects.assets.get(name=...)",
        lambda side: ee.data.getAsset(SCENE),
        lambda c, side: c.projects.assets.get(name=SCENE)),
    Row("listAssets", "projects.assets.listAssets", "list(client.projects.assets.list_assets(parent=...))",
        lambda side: ee.data.listAssets({"parent": f"{ASSETS}/sample"})["assets"],
        lambda c, side: list(c.projects.assets.list_assets(parent=f"{ASSETS}/sample")),
        _same_names),
    Row("listImages", "projects.assets.listAssets", "list(client.projects.assets.list_assets(parent=collection))",
        lambda side: ee.data.listImages({"parent": SCENES})["images"],
        lambda c, side: list(c.projects.assets.list_assets(parent=SCENES)),
        _same_names),
    Row("getAssetRoots", "projects.listAssets", "list(client.projects.list_assets(parent='projects/p'))",
        lambda side: ee.data.getAssetRoots(),
        lambda c, side: list(c.projects.list_assets(parent=PROJECT)),
        lambda ours, theirs: _same_keys([a["name"] for a in ours], [a["id"] for a in theirs])),
    Row("computePixels", "projects.image.computePixels",
        "client.projects.image.compute_pixels(expression=..., file_format='NPY', grid=...).to_numpy()",
        lambda side: ee.data.computePixels({"expression": ee.Image(SCENE).select("red").add(1),
                                            "fileFormat": "NUMPY_NDARRAY", "grid": GRID}),
        lambda c, side: c.projects.image.compute_pixels(expression=ee.Image(SCENE).select("red").add(1),
                                                        file_format="NPY", grid=GRID),
        _same_pixels),
    Row("getPixels", "projects.assets.getPixels",
        "client.projects.assets.get_pixels(name=..., file_format='NPY', grid=...).to_numpy()",
        lambda side: ee.data.getPixels({"assetId": SCENE, "fileFormat": "NUMPY_NDARRAY", "grid": GRID,
                                        "bandIds": ["nir"]}),
        lambda c, side: c.projects.assets.get_pixels(name=SCENE, file_format="NPY", grid=GRID, band_ids=["nir"]),
        _same_pixels),
    Row("computeImages", "projects.imageCollection.computeImages",
        "list(client.projects.image_collection.compute_images(expression=...))",
        lambda side: ee.data.computeImages({"expression": ee.ImageCollection(SCENES).limit(2)})["images"],
        lambda c, side: list(c.projects.image_collection.compute_images(expression=ee.ImageCollection(SCENES).limit(2))),
        _same_ids),
    Row("getAlgorithms", "projects.algorithms.list", "client.projects.algorithms.list().algorithms",
        lambda side: ee.data.getAlgorithms(),
        lambda c, side: c.projects.algorithms.list().algorithms,
        lambda ours, theirs: _same_keys({a["name"].removeprefix("algorithms/") for a in ours}, set(theirs))),
    Row("getMapId", "projects.maps.create", "client.projects.maps.create(expression=...)",
        lambda side: ee.data.getMapId({"image": ee.Image(SCENE).select("red")})["mapid"],
        lambda c, side: c.projects.maps.create(expression=ee.Image(SCENE).select("red")).name,
        _both_under(f"{PROJECT}/maps/")),
    Row("getThumbId", "projects.thumbnails.create", "client.projects.thumbnails.create(expression=..., grid=...)",
        lambda side: ee.data.getThumbId({"image": ee.Image(SCENE).select("red"), "dimensions": [8, 6],
                                         "format": "png"})["thumbid"],
        lambda c, side: c.projects.thumbnails.create(expression=ee.Image(SCENE).select("red"), file_format="PNG",
                                                     grid={"dimensions": {"width": 8, "height": 6}}).name,
        _both_under(f"{PROJECT}/thumbnails/")),
    Row("createFolder", "projects.assets.create", "client.projects.assets.create(asset_id=..., type='FOLDER')",
        lambda side: ee.data.createFolder(f"{side}_folder"),
        lambda c, side: c.projects.assets.create(asset_id=f"{side}_folder".removeprefix(f"{ASSETS}/"), type="FOLDER")),
    Row("createAsset", "projects.assets.create",
        "client.projects.assets.create(asset_id=..., type='IMAGE_COLLECTION', properties=...)",
        lambda side: ee.data.createAsset({"type": "IMAGE_COLLECTION"}, f"{side}_collection", {"kind": "parity"}),
        lambda c, side: c.projects.assets.create(asset_id=f"{side}_collection".removeprefix(f"{ASSETS}/"),
                                                 type="IMAGE_COLLECTION", properties={"kind": "parity"})),
    Row("copyAsset", "projects.assets.copy", "client.projects.assets.copy(source_name=..., destination_name=...)",
        lambda side: (ee.data.copyAsset(ELEVATION, f"{side}_copied"), ee.data.getAsset(f"{side}_copied"))[1],
        lambda c, side: c.projects.assets.copy(source_name=ELEVATION, destination_name=f"{side}_copied")),
    Row("renameAsset", "projects.assets.move", "client.projects.assets.move(source_name=..., destination_name=...)",
        lambda side: (ee.data.copyAsset(ELEVATION, f"{side}_to_move"), ee.data.renameAsset(f"{side}_to_move", f"{side}_moved"),
                      ee.data.getAsset(f"{side}_moved"))[2],
        lambda c, side: (c.projects.assets.copy(source_name=ELEVATION, destination_name=f"{side}_to_move"),
                         c.projects.assets.move(source_name=f"{side}_to_move", destination_name=f"{side}_moved"))[1]),
    Row("setAssetProperties", "projects.assets.patch",
        "client.projects.assets.patch(name=..., asset={'properties': ...}, update_mask='properties')",
        lambda side: (ee.data.createFolder(f"{side}_props"), ee.data.setAssetProperties(f"{side}_props", {"a": 1}),
                      ee.data.getAsset(f"{side}_props"))[2],
        lambda c, side: (c.projects.assets.create(asset_id=f"{side}_props".removeprefix(f"{ASSETS}/"), type="FOLDER"),
                         c.projects.assets.patch(name=f"{side}_props", asset={"properties": {"a": 1}},
                                                 update_mask="properties"))[1]),
    Row("deleteAsset", "projects.assets.delete", "client.projects.assets.delete(name=...)",
        lambda side: (ee.data.createFolder(f"{side}_gone"), ee.data.deleteAsset(f"{side}_gone"))[1],
        lambda c, side: (c.projects.assets.create(asset_id=f"{side}_gone".removeprefix(f"{ASSETS}/"), type="FOLDER"),
                         c.projects.assets.delete(name=f"{side}_gone"))[1]),
    Row("getIamPolicy", "projects.assets.getIamPolicy", "client.projects.assets.get_iam_policy(resource=...)",
        lambda side: ee.data.getIamPolicy(ELEVATION),
        lambda c, side: c.projects.assets.get_iam_policy(resource=ELEVATION)),
    Row("setIamPolicy", "projects.assets.setIamPolicy",
        "client.projects.assets.set_iam_policy(resource=..., policy=...)",
        lambda side: (ee.data.createFolder(f"{side}_shared"),
                      ee.data.setIamPolicy(f"{side}_shared", {"bindings": [{"role": "roles/viewer",
                                                                             "members": ["allUsers"]}]}),
                      ee.data.getIamPolicy(f"{side}_shared"))[2],
        lambda c, side: (c.projects.assets.create(asset_id=f"{side}_shared".removeprefix(f"{ASSETS}/"), type="FOLDER"),
                         c.projects.assets.set_iam_policy(resource=f"{side}_shared", policy={
                             "bindings": [{"role": "roles/viewer", "members": ["allUsers"]}]}),
                         c.projects.assets.get_iam_policy(resource=f"{side}_shared"))[2]),
    Row("getProjectConfig", "projects.getConfig", "client.projects.get_config(name='projects/p/config')",
        lambda side: ee.data.getProjectConfig(),
        lambda c, side: c.projects.get_config(name=f"{PROJECT}/config")),
    Row("exportImage", "projects.image.export", "client.projects.image.export(expression=..., file_export_options=...)",
        lambda side: ee.data.exportImage(ee.data.newTaskId()[0], {
            "expression": ee.Image(SCENE).select("red"), "description": "parity",
            "fileExportOptions": {"fileFormat": "GEO_TIFF",
                                  "cloudStorageDestination": {"bucket": "b", "filenamePrefix": f"{side[-6:]}/x"}},
            "grid": GRID})["metadata"]["type"],
        lambda c, side: c.projects.image.export(
            expression=ee.Image(SCENE).select("red"), description="parity", grid=GRID,
            file_export_options={"fileFormat": "GEO_TIFF",
                                 "cloudStorageDestination": {"bucket": "b", "filenamePrefix": f"{side[-6:]}/x"}},
        ).metadata["type"]),
    Row("getOperation", "projects.operations.get", "client.projects.operations.get(name=...)",
        lambda side: ee.data.getOperation(_ee_export(side)["name"])["metadata"]["type"],
        lambda c, side: c.projects.operations.get(name=_eerest_export(c, side).name).metadata["type"]),
    Row("cancelOperation", "projects.operations.cancel", "client.projects.operations.cancel(name=...)",
        lambda side: ee.data.cancelOperation(_ee_export(side)["name"]),
        lambda c, side: c.projects.operations.cancel(name=_eerest_export(c, side).name)),
    Row("exportTable", "projects.table.export", "client.projects.table.export(expression=..., file_export_options=...)",
        lambda side: ee.data.exportTable(ee.data.newTaskId()[0], {
            "expression": ee.FeatureCollection([ee.Feature(ee.Geometry.Point([15.46, 47.95]), {"a": 1})]),
            "description": "parity", "fileExportOptions": {
                "fileFormat": "CSV", "cloudStorageDestination": {"bucket": "b", "filenamePrefix": f"{side[-8:]}t"}}},
        )["metadata"]["type"],
        lambda c, side: c.projects.table.export(
            expression=ee.FeatureCollection([ee.Feature(ee.Geometry.Point([15.46, 47.95]), {"a": 1})]),
            description="parity", file_export_options={
                "fileFormat": "CSV", "cloudStorageDestination": {"bucket": "b", "filenamePrefix": f"{side[-8:]}t"}},
        ).metadata["type"]),
    Row("updateAsset", "projects.assets.patch",
        "client.projects.assets.patch(name=..., asset={...}, update_mask='start_time')",
        lambda side: (ee.data.createFolder(f"{side}_titled"),
                      ee.data.updateAsset(f"{side}_titled", {"startTime": "2020-01-01T00:00:00Z"}, ["start_time"]),
                      ee.data.getAsset(f"{side}_titled"))[2],
        lambda c, side: (c.projects.assets.create(asset_id=f"{side}_titled".removeprefix(f"{ASSETS}/"), type="FOLDER"),
                         c.projects.assets.patch(name=f"{side}_titled", asset={"start_time": "2020-01-01T00:00:00Z"},
                                                 update_mask="start_time"))[1]),
    Row("getDownloadId", "projects.thumbnails.create",
        "client.projects.thumbnails.create(expression=..., file_format='GEO_TIFF', grid=...)",
        lambda side: ee.data.getDownloadId({"image": ee.Image(SCENE).select("red"), "format": "GEO_TIFF",
                                            "dimensions": [8, 6]})["docid"],
        lambda c, side: c.projects.thumbnails.create(expression=ee.Image(SCENE).select("red"), file_format="GEO_TIFF",
                                                     grid={"dimensions": {"width": 8, "height": 6}}).name,
        _both_under(f"{PROJECT}/thumbnails/")),
    Row("getTableDownloadId", "projects.tables.create + tables.getFeatures",
        "client.projects.tables.get_features(name=client.projects.tables.create(expression=fc, file_format='CSV').name)",
        lambda side: _download(ee.data.makeTableDownloadUrl(ee.data.getTableDownloadId(
            {"table": ee.FeatureCollection(PLACES), "format": "CSV", "selectors": ["name", "population"]}))),
        lambda c, side: c.projects.tables.get_features(name=c.projects.tables.create(
            expression=ee.FeatureCollection(PLACES), file_format="CSV", selectors=["name", "population"]).name)),
    Row("getThumbId (filmstrip)", "projects.filmstripThumbnails.create + getPixels",
        "client.projects.filmstrip_thumbnails.get_pixels(name=client.projects.filmstrip_thumbnails.create(...).name)",
        lambda side: _download(ee.data.makeThumbUrl(ee.data.getThumbId(
            {"image": _visual_scenes(), "format": "png"}, thumbType="filmstrip"))),
        lambda c, side: c.projects.filmstrip_thumbnails.get_pixels(name=c.projects.filmstrip_thumbnails.create(
            expression=_visual_scenes(), file_format="PNG", orientation="VERTICAL").name)),
    Row("getThumbId (video)", "projects.videoThumbnails.create + getPixels",
        "client.projects.video_thumbnails.get_pixels(name=client.projects.video_thumbnails.create(...).name)",
        lambda side: _download(ee.data.makeThumbUrl(ee.data.getThumbId(
            {"image": _visual_scenes(), "format": "gif", "framesPerSecond": 2}, thumbType="video"))),
        lambda c, side: c.projects.video_thumbnails.get_pixels(name=c.projects.video_thumbnails.create(
            expression=_visual_scenes(), file_format="GIF", video_options={"frames_per_second": 2}).name)),
    Row("listOperations", "projects.operations.list", "list(client.projects.operations.list(name='projects/p'))",
        lambda side: [o["metadata"]["type"] for o in ee.data.listOperations()],
        lambda c, side: [o.metadata["type"] for o in c.projects.operations.list(name=PROJECT)]),
    Row("startIngestion", "projects.image.import", "client.import_image(manifest).result(); or client.projects.image.import_(...)",
        lambda side: _ee_ingested(side, "image"),
        lambda c, side: _eerest_ingested(c, side, "image")),
    Row("startTableIngestion", "projects.table.import", "client.import_table(manifest).result(); or client.projects.table.import_(...)",
        lambda side: _ee_ingested(side, "table"),
        lambda c, side: _eerest_ingested(c, side, "table")),
]


def _export_request(side: str) -> dict[str, Any]:
    return {"expression": ee.Image(SCENE).select("red"), "description": "parity", "grid": GRID,
            "fileExportOptions": {"fileFormat": "GEO_TIFF",
                                  "cloudStorageDestination": {"bucket": "b", "filenamePrefix": side[-12:]}}}


def _ee_export(side: str) -> Any:
    return ee.data.exportImage(ee.data.newTaskId()[0], _export_request(side))


def _eerest_export(client: Any, side: str) -> Any:
    request = _export_request(side)
    return client.projects.image.export(expression=request["expression"], description="parity", grid=GRID,
                                        file_export_options=request["fileExportOptions"])


def _source_export(side: str, kind: str) -> tuple[str, dict[str, Any]]:
    """The export that writes an ingestion's source file (gs://b/<side's last part>.tif or .csv)."""
    prefix = "src_" + side.rsplit("/", 1)[1]
    if kind == "image":
        return f"gs://b/{prefix}.tif", {
            "expression": ee.Image(SCENE).select("red"), "description": "source", "grid": GRID,
            "fileExportOptions": {"fileFormat": "GEO_TIFF", "cloudStorageDestination": {"bucket": "b", "filenamePrefix": prefix}}}
    return f"gs://b/{prefix}.csv", {
        "expression": ee.FeatureCollection([ee.Feature(ee.Geometry.Point([15.46, 47.95]), {"a": 1}),
                                            ee.Feature(ee.Geometry.Point([15.47, 47.96]), {"a": 2})]),
        "description": "source",
        "fileExportOptions": {"fileFormat": "CSV", "cloudStorageDestination": {"bucket": "b", "filenamePrefix": prefix}}}


def _manifest(side: str, kind: str, uri: str) -> dict[str, Any]:
    if kind == "image":
        return {"name": side, "tilesets": [{"id": "t", "sources": [{"uris": [uri]}]}],
                "bands": [{"id": "red", "tilesetId": "t", "tilesetBandIndex": 0}], "properties": {"kind": "parity"}}
    return {"name": side, "sources": [{"uris": [uri]}], "properties": {"kind": "parity"}}


def _ee_done(name: str) -> dict[str, Any]:
    for _ in range(1200):
        op = ee.data.getOperation(name)
        if op.get("done"):
            assert "error" not in op, op
            return op  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"{name} is not done after a minute")


def _ee_ingested(side: str, kind: str) -> Any:
    uri, request = _source_export(side, kind)
    export = ee.data.exportImage if kind == "image" else ee.data.exportTable
    _ee_done(export(ee.data.newTaskId()[0], request)["name"])
    start = ee.data.startIngestion if kind == "image" else ee.data.startTableIngestion
    _ee_done(start(ee.data.newTaskId()[0], _manifest(side, kind, uri))["name"])
    return ee.data.getAsset(side)


def _eerest_ingested(client: Any, side: str, kind: str) -> Any:
    uri, request = _source_export(side, kind)
    client.export(request, kind=kind).result(timeout=60, poll=0.05)
    ingest = client.import_image if kind == "image" else client.import_table
    ingest(_manifest(side, kind, uri)).result(timeout=60, poll=0.05)
    return client.projects.assets.get(name=side)


def _download(url: str) -> bytes:
    import httpx

    r = httpx.get(url, timeout=60)
    r.raise_for_status()
    return r.content


def _visual_scenes() -> Any:
    """The sample scenes as 8-bit pictures of one small grid: what filmstrips and videos draw."""
    box = ee.Geometry.Rectangle([533120, 5311780, 533200, 5311840], "EPSG:32633", False)
    return ee.ImageCollection(SCENES).limit(3).map(
        lambda img: img.visualize(bands=["red"], min=0, max=3000).clipToBoundsAndScale(geometry=box, width=8, height=6))


def _normalise(value: Any, side: str) -> Any:
    if hasattr(value, "to_dict") and callable(value.to_dict):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: _normalise(v, side) for k, v in value.items() if k not in ("updateTime", "createTime", "etag")}
    if isinstance(value, (list, tuple)):
        return [_normalise(v, side) for v in value]
    if isinstance(value, str):
        return value.replace(side, "SIDE").replace(side.removeprefix(f"{ASSETS}/"), "SIDE")
    return value


@pytest.fixture(scope="module")
def writable_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from eerest_emulator import BUNDLED_DATA, Emulator

    data = tmp_path_factory.mktemp("parity") / "data"
    shutil.copytree(BUNDLED_DATA, data)
    (data / "eerest" / "parity").mkdir()
    with Emulator(data_dir=data, task_seconds=0) as emu:
        yield emu


@pytest.fixture(scope="module")
def sides(writable_emulator: Any) -> Iterator[tuple[Any, Any]]:
    """(an eerest client, ee) on the same emulator."""
    from eerest_emulator.testing import emulator_credentials
    from google.oauth2.credentials import Credentials

    import eerest

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=writable_emulator.url)
    client = eerest.Client(project="eerest", base_url=writable_emulator.url, credentials=emulator_credentials())
    try:
        yield client, ee
    finally:
        client.close()
        ee.Reset()


@pytest.mark.parametrize("row", ROWS, ids=[r.function for r in ROWS])
def test_ee_data_and_eerest_agree(row: Row, sides: tuple[Any, Any]) -> None:
    client, _ = sides
    slug = re.sub(r"\W+", "_", row.function).strip("_").lower()
    theirs_side, ours_side = f"{ASSETS}/parity/ee_{slug}", f"{ASSETS}/parity/eerest_{slug}"
    theirs = row.ee_call(theirs_side)
    ours = row.eerest_call(client, ours_side)
    ours, theirs = _normalise(ours, ours_side), _normalise(theirs, theirs_side)
    if row.compare is not None:
        row.compare(ours, theirs)
    else:
        assert ours == theirs


def table() -> str:
    """The parity table of the docs, from the rows."""
    lines = ["| `ee.data` | REST method | eerest |", "|---|---|---|"]
    lines += [f"| `{r.function}` | `{r.method}` | `{r.eerest}` |" for r in ROWS]
    return "\n".join(lines)


def test_the_docs_table_is_the_rows() -> None:
    page = ROOT / "docs" / "ee-data.md"
    if not page.exists():
        pytest.skip("docs/ee-data.md is not in this tree")
    assert table() in page.read_text(encoding="utf-8"), "regenerate the table: python -c 'import ...; print(table())'"
