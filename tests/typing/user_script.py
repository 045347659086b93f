"""A user's script over the generated surface (exports, operations, assets CRUD, listing
pagers, thumbnails, maps, value.compute, ingestion): type-checked by mypy --strict and pyright
(strict) in ``tests/typing/test_types.py``, never run. Each result is its exact type."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import eerest
from eerest import AsyncPager, SyncPager
from eerest.v1 import types

EXPR: dict[str, Any] = {"result": "0", "values": {"0": {"constantValue": 1}}}
GRID = types.PixelGrid(crs_code="EPSG:4326", dimensions=types.GridDimensions(width=8, height=8))
GCS = {"bucket": "my-bucket", "filenamePrefix": "exports/x"}


def exports(client: eerest.Client) -> list[str]:
    image = client.projects.image.export(
        expression=EXPR, grid=GRID, file_export_options={"fileFormat": "GEO_TIFF", "cloudStorageDestination": GCS}
    )
    table = client.projects.table.export(expression=EXPR, file_export_options={"fileFormat": "CSV"})
    video = client.projects.video.export(expression=EXPR, description="v", priority=100)
    tiles = client.projects.map.export(expression=EXPR, request_id="r-1")
    for op in (image, table, video, tiles):
        assert_type(op, types.Operation)
    return [op.name or "" for op in (image, table, video, tiles)]


def operations(client: eerest.Client, names: list[str]) -> None:
    pager = client.projects.operations.list(name="projects/p", filter="metadata.state=RUNNING", page_size=50)
    assert_type(pager, SyncPager[types.ListOperationsResponse, types.Operation])
    for op in pager:
        assert_type(op.done, bool | None)
    got = client.projects.operations.get(name=names[0])
    assert_type(got, types.Operation)
    assert_type(client.projects.operations.wait(name=names[0], body_timeout="30s"), types.Operation)
    assert_type(client.projects.operations.cancel(name=names[1]), None)
    assert_type(client.projects.operations.delete(name=names[1]), None)
    wrapped = client.operation(got)
    assert_type(wrapped, eerest.Operation)
    assert_type(wrapped.metadata.state, str | None)


def assets(client: eerest.Client) -> None:
    folder = client.projects.assets.create(asset_id="folder", type="FOLDER")
    assert_type(folder, types.EarthEngineAsset)
    name = folder.name or ""
    copied = client.projects.assets.copy(source_name=name, destination_name=name + "_copy", overwrite=True)
    moved = client.projects.assets.move(source_name=copied.name or "", destination_name=name + "_moved")
    patched = client.projects.assets.patch(
        name=moved.name or "", asset={"properties": {"a": 1}}, update_mask="properties"
    )
    for asset in (copied, moved, patched):
        assert_type(asset, types.EarthEngineAsset)
    assert_type(client.projects.assets.delete(name=name + "_moved"), None)
    listing = client.projects.assets.list_assets(parent=name, page_size=10)
    assert_type(listing, SyncPager[types.ListAssetsResponse, types.EarthEngineAsset])
    for child in listing:
        assert_type(child.type, types.EarthEngineAssetType | None)
    features = client.projects.assets.list_features(asset="projects/p/assets/table")
    assert_type(features, SyncPager[types.ListFeaturesResponse, types.Feature])
    roots = client.projects.list_assets(parent="projects/p")
    assert_type(roots, SyncPager[types.ListAssetsResponse, types.EarthEngineAsset])
    policy = client.projects.assets.get_iam_policy(resource=name)
    assert_type(policy, types.Policy)


def pictures(client: eerest.Client) -> bytes:
    thumb = client.projects.thumbnails.create(expression=EXPR, file_format="PNG", grid=GRID)
    assert_type(thumb, types.Thumbnail)
    png = client.projects.thumbnails.get_pixels(name=thumb.name or "")
    assert_type(png, bytes)
    made = client.projects.maps.create(expression=EXPR, visualization_options={"ranges": [{"min": 0, "max": 1}]})
    assert_type(made, types.EarthEngineMap)
    tile = client.projects.maps.tiles.get(parent=made.name or "", zoom=0, x=0, y=0)
    assert_type(tile, bytes)
    return png + tile


def values_and_ingestion(client: eerest.Client) -> None:
    value = client.projects.value.compute(expression=EXPR)
    assert_type(value, types.ComputeValueResponse)
    assert_type(value.result, Any | None)
    raw = client.projects.image.import_(image_manifest={"name": "projects/p/assets/i"}, overwrite=True)
    assert_type(raw, types.Operation)
    image = client.import_image(types.ImageManifest(name="projects/p/assets/i"), overwrite=True)
    table = client.import_table({"name": "projects/p/assets/t", "sources": [{"uris": ["gs://b/t.csv"]}]})
    assert_type(image, eerest.Operation)
    assert_type(table, eerest.Operation)
    assert_type(table.result(timeout=600), dict[str, Any])


async def async_script(client: eerest.AsyncClient) -> None:
    op = await client.projects.image.export(expression=EXPR, grid=GRID)
    assert_type(op, types.Operation)
    assert_type(await client.projects.operations.get(name=op.name or ""), types.Operation)
    pager = client.projects.assets.list_assets(parent="projects/p/assets/folder")
    assert_type(pager, AsyncPager[types.ListAssetsResponse, types.EarthEngineAsset])
    async for asset in pager:
        assert_type(asset, types.EarthEngineAsset)
    assert_type(await client.projects.thumbnails.get_pixels(name="projects/p/thumbnails/t"), bytes)
    ingestion = await client.import_image({"name": "projects/p/assets/i"})
    assert_type(ingestion, eerest.AsyncOperation)
    assert_type(await ingestion.result(), dict[str, Any])
