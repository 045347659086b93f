"""What a user's type checker sees: checked by mypy (``nox -s typecheck`` and
``tests/typing/test_types.py``), never run. Every method's result is exact, not ``Any``."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import eerest
from eerest import AsyncPager, Pixels, StreamedResponse, SyncPager, v1alpha, v1beta
from eerest.v1 import types

EXPR = {"result": "0", "values": {"0": {"constantValue": 1}}}


def sync_v1(client: eerest.Client) -> None:
    assert_type(client.projects.assets.get(name="projects/p/assets/a"), types.EarthEngineAsset)
    assert_type(client.projects.assets.get_pixels(name="projects/p/assets/a"), Pixels)
    assert_type(client.projects.image.compute_pixels(expression=EXPR), Pixels)
    pager = client.projects.image_collection.compute_images(expression=EXPR)
    assert_type(pager, SyncPager[types.ComputeImagesResponse, types.EarthEngineAsset])
    for image in pager:
        assert_type(image, types.EarthEngineAsset)
    for page in pager.pages:
        assert_type(page, types.ComputeImagesResponse)
    streamed = client.projects.image.with_streaming_response.compute_pixels(expression=EXPR)
    assert_type(streamed, StreamedResponse[Pixels])
    assert_type(streamed.read(), Pixels)
    asset = client.projects.assets.get(name="projects/p/assets/a", fields="bands", quota_user="me")
    assert_type(asset.bands, list[types.ImageBand] | None)


async def async_v1(client: eerest.AsyncClient) -> None:
    assert_type(await client.projects.assets.get(name="projects/p/assets/a"), types.EarthEngineAsset)
    assert_type(await client.projects.assets.get_pixels(name="projects/p/assets/a"), Pixels)
    assert_type(await client.projects.image.compute_pixels(expression=EXPR), Pixels)
    pager = client.projects.image_collection.compute_images(expression=EXPR)
    assert_type(pager, AsyncPager[types.ComputeImagesResponse, types.EarthEngineAsset])
    async for image in pager:
        assert_type(image, types.EarthEngineAsset)
    async with client.projects.assets.with_streaming_response.get_pixels(name="projects/p/assets/a") as response:
        assert_type(await response.read(), Pixels)


def other_versions(alpha: v1alpha.Client, beta: v1beta.AsyncClient) -> None:
    assert_type(alpha.projects.assets.get(name="projects/p/assets/a"), v1alpha.types.EarthEngineAsset)
    assert_type(alpha.projects.image.compute_pixels(expression=EXPR), Pixels)
    assert_type(
        alpha.projects.image_collection.compute_images(expression=EXPR),
        SyncPager[v1alpha.types.ComputeImagesResponse, v1alpha.types.EarthEngineAsset],
    )
    assert_type(
        beta.projects.image_collection.compute_images(expression=EXPR),
        AsyncPager[v1beta.types.ComputeImagesResponse, v1beta.types.EarthEngineAsset],
    )


def context_managers() -> None:
    with eerest.Client(project="p") as client:
        assert_type(client, eerest.Client)
    with v1beta.Client(project="p") as beta:
        assert_type(beta, v1beta.Client)


def tasks(client: eerest.Client) -> None:
    assert_type(client.compute_value(EXPR), Any)
    op = client.export(types.ExportImageRequest(expression=EXPR, description="x"))
    assert_type(op, eerest.Operation)
    assert_type(client.export({"kind": "table", "expression": EXPR}), eerest.Operation)
    assert_type(op.refresh(), eerest.Operation)
    assert_type(op.wait(timeout=60), eerest.Operation)
    assert_type(op.result(), dict[str, Any])
    assert_type(op.metadata, eerest.OperationMetadata)
    assert_type(op.metadata.state, str | None)
    assert_type(op.metadata.stages, tuple[eerest.OperationStage, ...])
    assert_type(op.done, bool)
    assert_type(client.operation("projects/p/operations/X"), eerest.Operation)
    for listed in client.list_operations(filter="metadata.state=RUNNING"):
        assert_type(listed, eerest.Operation)
    ops = client.submit_exports([("image", {"expression": EXPR})], max_queued=100, policy=eerest.SubmitPolicy(poll=5))
    assert_type(ops, list[eerest.Operation])
    assert_type(client.thumbnail(EXPR, file_format="PNG"), bytes)
    tiles = client.map_tiles(EXPR, visualization_options={"ranges": [{"min": 0, "max": 1}]})
    assert_type(tiles, eerest.MapTiles)
    assert_type(tiles.url_template, str)
    assert_type(client.map_tile(tiles, 0, 0, 0), bytes)


async def async_tasks(client: eerest.AsyncClient) -> None:
    op = await client.export(types.ExportTableRequest(expression=EXPR))
    assert_type(op, eerest.AsyncOperation)
    assert_type(await op.result(timeout=5), dict[str, Any])
    assert_type(await client.submit_exports([types.ExportMapRequest(expression=EXPR)]), list[eerest.AsyncOperation])
    async for listed in client.list_operations():
        assert_type(listed, eerest.AsyncOperation)
    await op.cancel()
