"""Each of the four methods in each version sends exactly what the reference specifies."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.client.helpers import ASSET, EXPRESSION, NPY, async_client, client, npy_body, png_body, version
from tests.conftest import VERSIONS


@pytest.mark.parametrize("v", VERSIONS)
def test_compute_pixels_wire(server, v):
    server.reply(body=png_body(), headers={"content-type": "image/png"})
    with client(v, server.url) as c:
        c.projects.image.compute_pixels(
            expression=EXPRESSION,
            file_format="PNG",
            grid={"dimensions": {"width": 256, "height": 128}, "crsCode": "EPSG:4326"},
            band_ids=["red", "green", "blue"],
            visualization_options={"ranges": [{"min": 0, "max": 3000}], "gamma": None},
            workload_tag="tests",
        )
    (req,) = server.requests
    assert req.method == "POST"
    assert req.path == f"/{v}/projects/my-proj/image:computePixels"
    assert req.json == {
        "expression": EXPRESSION,
        "fileFormat": "PNG",
        "grid": {"dimensions": {"width": 256, "height": 128}, "crsCode": "EPSG:4326"},
        "bandIds": ["red", "green", "blue"],
        "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]},  # explicit None: not sent
        "workloadTag": "tests",
    }
    assert req.headers["content-type"] == "application/json"
    assert req.headers["accept"] == "*/*"


@pytest.mark.parametrize("v", VERSIONS)
def test_compute_pixels_body_has_no_nulls_and_camel_case(server, v):
    server.reply(body=npy_body((8, 8)), headers=NPY)
    with client(v, server.url) as c:
        c.projects.image.compute_pixels(
            expression=version(v).types.Expression(result="0", values={"0": {"constant_value": 1}}),
            file_format=version(v).types.ImageFileFormat.NPY,
            grid=version(v).types.PixelGrid(crs_code="EPSG:4326", dimensions={"width": 8, "height": 8}),
        )
    assert server.requests[0].json == {
        "expression": {"result": "0", "values": {"0": {"constantValue": 1}}},
        "fileFormat": "NPY",
        "grid": {"crsCode": "EPSG:4326", "dimensions": {"width": 8, "height": 8}},
    }


@pytest.mark.parametrize("v", VERSIONS)
def test_get_pixels_wire(server, v):
    server.reply(json_body=ASSET)  # band types, read once per client for the size check
    server.reply(body=npy_body((16, 16), [("red", "<u2")]), headers=NPY)
    server.reply(body=npy_body((16, 16), [("red", "<u2")]), headers=NPY)
    with client(v, server.url) as c:
        for _ in range(2):
            c.projects.assets.get_pixels(
                name="projects/eerest/assets/sample/scenes/s1",
                file_format="NPY",
                band_ids=["red"],
                grid={
                    "dimensions": {"width": 16, "height": 16},
                    "affineTransform": {"scaleX": 10, "scaleY": -10, "translateX": 500000, "translateY": 4100000},
                },
            )
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", f"/{v}/projects/eerest/assets/sample/scenes/s1"),
        ("POST", f"/{v}/projects/eerest/assets/sample/scenes/s1:getPixels"),
        ("POST", f"/{v}/projects/eerest/assets/sample/scenes/s1:getPixels"),
    ]
    assert server.requests[-1].json == {
        "fileFormat": "NPY",
        "bandIds": ["red"],
        "grid": {
            "dimensions": {"width": 16, "height": 16},
            "affineTransform": {"scaleX": 10.0, "scaleY": -10.0, "translateX": 500000.0, "translateY": 4100000.0},
        },
    }


@pytest.mark.parametrize("v", VERSIONS)
def test_assets_get_wire_and_parse(server, v):
    server.reply(json_body={**ASSET, "newServerField": {"a": 1}})
    with client(v, server.url) as c:
        asset = c.projects.assets.get(name="projects/eerest/assets/sample/scenes/s1")
    req = server.requests[-1]
    assert (req.method, req.path, req.body) == ("GET", f"/{v}/projects/eerest/assets/sample/scenes/s1", b"")
    assert req.headers["accept"] == "application/json"
    types = version(v).types
    assert isinstance(asset, types.EarthEngineAsset)
    assert asset.type == types.EarthEngineAssetType.IMAGE
    assert asset.size_bytes == 9007199254740993  # int64 beyond 2**53 survives
    assert asset.start_time == dt.datetime(2024, 6, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert asset.bands[0].data_type.range.max == 65535
    assert asset.bands[0].pyramiding_policy == types.PyramidingPolicy.MEAN
    assert asset.model_extra == {"newServerField": {"a": 1}}  # unknown fields kept
    assert asset.to_dict()["newServerField"] == {"a": 1}
    assert asset.to_dict()["sizeBytes"] == "9007199254740993"


@pytest.mark.parametrize("v", VERSIONS)
def test_compute_images_pages(server, v):
    names = [f"projects/p/assets/i{i}" for i in range(5)]
    server.reply(json_body={"images": [{"name": n} for n in names[:2]], "nextPageToken": "t1"})
    server.reply(json_body={"images": [{"name": n} for n in names[2:4]], "nextPageToken": "t2"})
    server.reply(json_body={"images": [{"name": names[4]}]})
    with client(v, server.url) as c:
        pager = c.projects.image_collection.compute_images(expression=EXPRESSION, page_size=2)
        assert server.requests == []  # lazy: nothing fetched before iteration
        it = iter(pager)
        assert next(it).name == names[0]
        assert len(server.requests) == 1  # one page at a time
        assert [a.name for a in it] == names[1:]
    assert [r.path for r in server.requests] == [f"/{v}/projects/my-proj/imageCollection:computeImages"] * 3
    assert [r.json.get("pageToken") for r in server.requests] == [None, "t1", "t2"]
    assert all(r.json["pageSize"] == 2 and r.json["expression"] == EXPRESSION for r in server.requests)


@pytest.mark.parametrize("v", VERSIONS)
def test_compute_images_pages_property_and_start_token(server, v):
    server.reply(json_body={"images": [{"name": "projects/p/assets/a"}], "nextPageToken": "t9"})
    server.reply(json_body={"images": []})
    with client(v, server.url) as c:
        pages = list(c.projects.image_collection.compute_images(expression=EXPRESSION, page_token="t8").pages)
    assert [p.next_page_token for p in pages] == ["t9", None]
    assert server.requests[0].json["pageToken"] == "t8"


@pytest.mark.parametrize("v", VERSIONS)
async def test_async_client_same_tree(server, v):
    server.reply(json_body=ASSET)
    server.reply(body=npy_body(), headers=NPY)
    server.reply(json_body={"images": [{"name": "projects/p/assets/a"}], "nextPageToken": "n"})
    server.reply(json_body={"images": [{"name": "projects/p/assets/b"}]})
    async with async_client(v, server.url) as c:
        asset = await c.projects.assets.get(name="projects/eerest/assets/sample/scenes/s1")
        await c.projects.image.compute_pixels(expression=EXPRESSION, file_format="NPY")
        names = [a.name async for a in c.projects.image_collection.compute_images(expression=EXPRESSION)]
    assert asset.name == ASSET["name"]
    assert names == ["projects/p/assets/a", "projects/p/assets/b"]
    assert [r.path for r in server.requests] == [
        f"/{v}/projects/eerest/assets/sample/scenes/s1",
        f"/{v}/projects/my-proj/image:computePixels",
        f"/{v}/projects/my-proj/imageCollection:computeImages",
        f"/{v}/projects/my-proj/imageCollection:computeImages",
    ]


def test_explicit_project_argument_and_forms(server):
    server.default.body = b"{}"
    with client("v1", server.url) as c:
        list(c.projects.image_collection.compute_images(project="other", expression=EXPRESSION))
        list(c.projects.image_collection.compute_images(project="projects/third", expression=EXPRESSION))
    assert [r.path for r in server.requests] == [
        "/v1/projects/other/imageCollection:computeImages",
        "/v1/projects/third/imageCollection:computeImages",
    ]


def test_extra_headers_query_body_and_timeout(server):
    server.reply(body=npy_body(), headers=NPY)
    with client("v1", server.url) as c:
        c.projects.image.compute_pixels(
            expression=EXPRESSION,
            extra_headers={"X-Trace": "abc"},
            extra_query={"fields": "x", "alt": ["media"]},
            extra_body={"futureField": [1, 2]},
            timeout=5,
        )
    req = server.requests[0]
    assert req.headers["x-trace"] == "abc"
    assert req.query == [("fields", "x"), ("alt", "media")]
    assert req.json["futureField"] == [1, 2]


def test_streaming_response_to_file(server, tmp_path):
    payload = bytes(range(256)) * 4096
    server.reply(body=payload, headers={"content-type": "application/octet-stream"})
    with client("v1", server.url) as c:
        with c.projects.image.with_streaming_response.compute_pixels(expression=EXPRESSION) as response:
            assert response.status_code == 200
            assert response.content_length == len(payload)
            written = response.write_to(tmp_path / "out.bin")
    assert written == len(payload)
    assert (tmp_path / "out.bin").read_bytes() == payload


async def test_async_streaming_iter_bytes(server):
    payload = b"z" * 300_000
    server.reply(body=payload, headers={"content-type": "application/octet-stream"})
    async with async_client("v1", server.url) as c:
        async with c.projects.image.with_streaming_response.compute_pixels(expression=EXPRESSION) as r:
            assert b"".join([chunk async for chunk in r.iter_bytes()]) == payload
