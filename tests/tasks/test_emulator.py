"""compute_value (the same plain values ee's getInfo() gives), thumbnails, maps and exports against the emulator."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_helpers import SCENE, SCENES

import eerest

ee = pytest.importorskip("ee")


def objects() -> list[Any]:
    return [
        ee.Number(5).add(3).multiply(2),
        ee.Number(2).pow(10).sqrt(),
        ee.String("Earth").cat(" Engine").toUpperCase(),
        ee.List([3, 1, 2]).sort(),
        ee.Dictionary({"a": 1, "b": [2, "x"]}).set("c", 3),
        ee.Date("2024-05-04T10:00:00Z"),
        ee.Date("2024-05-04").advance(3, "day").format("YYYY-MM-dd"),
        ee.Image(SCENE),
        ee.Image(SCENE).select(["nir", "red"]).normalizedDifference(),
        ee.ImageCollection(SCENES),
        ee.ImageCollection(SCENES).filterDate("2024-05-20", "2024-07-01").size(),
    ]


def test_compute_value_equals_get_info(ee_session: Any) -> None:
    from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

    with eerest.Client(project=EMULATOR_PROJECT, base_url=ee_session.url, credentials=emulator_credentials()) as c:
        for obj in objects():
            expected = obj.getInfo()
            assert c.compute_value(obj) == expected, obj
            # the same as a dict and as a typed Expression
            encoded = ee.serializer.encode(obj, for_cloud_api=True)
            assert c.compute_value(encoded) == expected
            assert c.compute_value(eerest.v1.types.Expression.model_validate(encoded)) == expected


def test_compute_value_sends_workload_tag(ee_session: Any) -> None:
    from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

    with eerest.v1beta.Client(
        project=EMULATOR_PROJECT, base_url=ee_session.url, credentials=emulator_credentials()
    ) as c:
        n = len(ee_session.requests)
        assert c.compute_value(ee.Number(1).add(1), workload_tag="nightly") == 2
        sent = [r for r in ee_session.requests[n:] if r.path.endswith("value:compute")]
        assert sent and sent[-1].json()["workloadTag"] == "nightly"


async def test_async_compute_value(ee_session: Any) -> None:
    from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

    async with eerest.v1alpha.AsyncClient(
        project=EMULATOR_PROJECT, base_url=ee_session.url, credentials=emulator_credentials()
    ) as c:
        obj = ee.ImageCollection(SCENES).first()
        assert await c.compute_value(obj) == obj.getInfo()


def test_thumbnail_and_map_tiles(ee_session: Any) -> None:
    from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

    vis = {"ranges": [{"min": 0, "max": 3000}]}
    image = ee.Image(SCENE).select(["red", "green", "blue"])
    with eerest.Client(project=EMULATOR_PROJECT, base_url=ee_session.url, credentials=emulator_credentials()) as c:
        png = c.thumbnail(
            image, file_format="PNG", visualization_options=vis, grid={"dimensions": {"width": 32, "height": 32}}
        )
        assert png.startswith(b"\x89PNG")
        decoded = eerest.Pixels(png).to_numpy()
        assert decoded.shape[:2] == (32, 32)
        tiles = c.map_tiles(image, visualization_options=vis)
        assert tiles.name.startswith("projects/eerest/maps/")
        assert tiles.url_template == f"{ee_session.url}/v1/{tiles.name}/tiles/{{z}}/{{x}}/{{y}}"
        tile = c.map_tile(tiles, 0, 0, 0)
        assert tile[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb") or tile[:3] == b"\xff\xd8\xff"


async def test_async_thumbnail(ee_session: Any) -> None:
    from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

    async with eerest.AsyncClient(
        project=EMULATOR_PROJECT, base_url=ee_session.url, credentials=emulator_credentials()
    ) as c:
        image = ee.Image(SCENE).select("nir")
        png = await c.thumbnail(image, visualization_options={"ranges": [{"min": 0, "max": 5000}]})
        assert png.startswith(b"\x89PNG")
        tiles = await c.map_tiles(image, visualization_options={"ranges": [{"min": 0, "max": 5000}]})
        assert len(await c.map_tile(tiles.name, 0, 0, 0)) > 0


def test_exports_through_the_emulator_when_it_serves_operations(ee_client: Any, ee_emulator: Any) -> None:
    """Export, result(), submit_exports and list_operations end to end, on an emulator that
    serves batch tasks (skipped on one that answers 501 for exports)."""
    from emulator_helpers import call, const, expr, grid

    ee_emulator.operations.configure(run_seconds=0.05)  # the fixture restores the default after

    body = {
        "kind": "image",
        "expression": expr(call("Image.load", id=const(SCENE))),
        "grid": grid(16, 16),
        "fileExportOptions": {
            "fileFormat": "GEO_TIFF",
            "cloudStorageDestination": {"bucket": "bucket", "filenamePrefix": "tasks/x"},
        },
    }
    try:
        op = ee_client.export(dict(body, description="one"))
    except eerest.APIStatusError as exc:
        if exc.status_code == 501:
            pytest.skip("this emulator does not serve exports")
        raise
    op.result(timeout=60, poll=0.1)
    assert op.metadata.state == "SUCCEEDED" and op.metadata.destination_uris
    policy = eerest.SubmitPolicy(poll=0.1, initial_backoff=0.01)
    ops = ee_client.submit_exports([dict(body, description=f"d{i}") for i in range(10)], max_queued=3, policy=policy)
    assert len({o.name for o in ops}) == 10
    for o in ops:
        o.result(timeout=60, poll=0.1)
    listed = {o.name for o in ee_client.list_operations()}
    assert {op.name, *(o.name for o in ops)} <= listed
