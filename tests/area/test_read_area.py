"""read_area against the emulator: equal, bit for bit, to one request over the same grid."""

from __future__ import annotations

import asyncio
import os
import random
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eerest_emulator.testing import emulator_credentials

import eerest
import eerest.v1alpha
import eerest.v1beta
from eerest._formats.geotiff_read import geokeys
from eerest.pixels import Pixels
from eerest.tiling import PixelGrid, Window, plan_tiles

SCENE = "projects/eerest/assets/sample/scenes/20240524"
ELEVATION = "projects/eerest/assets/sample/elevation"
BANDS = ["blue", "green", "red", "nir"]


def load(asset: str) -> dict[str, Any]:
    return {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {"functionName": "Image.load", "arguments": {"id": {"constantValue": asset}}}
            }
        },
    }


def ndvi() -> dict[str, Any]:
    return {
        "result": "0",
        "values": {
            "img": {
                "functionInvocationValue": {"functionName": "Image.load", "arguments": {"id": {"constantValue": SCENE}}}
            },
            "0": {
                "functionInvocationValue": {
                    "functionName": "Image.normalizedDifference",
                    "arguments": {"input": {"valueReference": "img"}, "bandNames": {"constantValue": ["nir", "red"]}},
                }
            },
        },
    }


def random_grid(rng: random.Random) -> PixelGrid:
    """A grid over (and around) the sample scene, at a random scale and offset."""
    scale = rng.choice([10.0, 20.0, 7.5, 13.0, 30.0])
    width, height = rng.randint(1, 260), rng.randint(1, 260)
    x0 = 533120.0 + rng.randint(-20, 120) * 10.0
    y0 = 5311840.0 - rng.randint(-20, 120) * 10.0
    return PixelGrid(width, height, (scale, 0.0, x0, 0.0, -scale, y0), "EPSG:32633")


@pytest.fixture
def ee_client(unthrottled_client: Any) -> Any:
    """Here without the rate cap: reads of up to a hundred tiles would only wait for it."""
    return unthrottled_client


def client(emu: Any, cls: Any = eerest.Client, **kwargs: Any) -> Any:
    return cls(project="eerest", base_url=emu.url, credentials=emulator_credentials(), **kwargs)


def one_request(c: Any, source: Any, grid: PixelGrid, band_ids: list[str] | None) -> np.ndarray:
    if isinstance(source, str):
        px = c.projects.assets.get_pixels(name=source, file_format="NPY", grid=grid.to_api(), band_ids=band_ids)
    else:
        px = c.projects.image.compute_pixels(
            expression=source, file_format="NPY", grid=grid.to_api(), band_ids=band_ids
        )
    return px.to_numpy()


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


CASES = [
    (SCENE, None),
    (SCENE, ["nir", "red"]),
    (ELEVATION, None),
    (load(SCENE), ["green"]),
    (ndvi(), None),
    (load(ELEVATION), None),
]


@pytest.mark.parametrize("seed", range(12))
def test_sync_equals_one_request(ee_client: Any, seed: int) -> None:
    rng = random.Random(seed)
    source, band_ids = CASES[seed % len(CASES)]
    grid = random_grid(rng)
    one = one_request(ee_client, source, grid, band_ids)
    smallest = one.nbytes * 2 // 100  # at most ~100 tiles
    arr = ee_client.read_area(
        source,
        grid=grid,
        band_ids=band_ids,
        max_tile_bytes=rng.randint(max(200, smallest), max(400, 40 * smallest)),
        block_size=rng.choice([16, 64, 256]),
        max_concurrency=rng.randint(1, 6),
    )
    assert same(arr, one)


@pytest.mark.parametrize("seed", range(4))
async def test_async_equals_one_request(ee_emulator: Any, seed: int) -> None:
    rng = random.Random(100 + seed)
    source, band_ids = CASES[seed % len(CASES)]
    grid = random_grid(rng)
    async with client(ee_emulator, eerest.AsyncClient) as c:
        one = (
            await c.projects.assets.get_pixels(name=source, file_format="NPY", grid=grid.to_api(), band_ids=band_ids)
            if isinstance(source, str)
            else await c.projects.image.compute_pixels(
                expression=source, file_format="NPY", grid=grid.to_api(), band_ids=band_ids
            )
        ).to_numpy()
        smallest = one.nbytes * 2 // 100
        arr = await c.read_area(
            source, grid=grid, band_ids=band_ids, max_tile_bytes=rng.randint(max(200, smallest), 40000)
        )
    assert same(arr, one)


@pytest.mark.parametrize("version", [eerest.v1alpha, eerest.v1beta])
def test_every_api_version(ee_emulator: Any, version: Any) -> None:
    with client(ee_emulator, version.Client) as c:
        grid = PixelGrid(50, 40, (10.0, 0.0, 533200.0, 0.0, -10.0, 5311700.0), "EPSG:32633")
        assert same(c.read_area(SCENE, grid=grid, max_tile_bytes=2000), one_request(c, SCENE, grid, None))


def test_band_dtypes_given_skip_discovery(ee_client: Any, ee_emulator: Any) -> None:
    grid = PixelGrid(64, 48, (20.0, 0.0, 533120.0, 0.0, -20.0, 5311840.0), "EPSG:32633")
    arr = ee_client.read_area(
        load(ELEVATION),
        grid=grid,
        band_ids=["elevation"],
        band_dtypes=["float32"],
        max_tile_bytes=3000,
        workload_tag="area-test",
    )
    assert same(arr, one_request(ee_client, load(ELEVATION), grid, None))
    pixel_requests = [r for r in ee_emulator.requests if r.grid is not None]
    sizes = {(r.grid["dimensions"]["width"], r.grid["dimensions"]["height"]) for r in pixel_requests}
    assert (1, 1) not in sizes  # no probe: the types were given
    assert all(r.json().get("workloadTag") == "area-test" for r in pixel_requests[:-1])


def test_more_than_1024_bands_in_band_groups(ee_client: Any, ee_emulator: Any) -> None:
    values = list(range(1100))  # constant images: uint8, then uint16 bands
    expr = {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {
                    "functionName": "Image.constant",
                    "arguments": {"value": {"constantValue": values}},
                }
            }
        },
    }
    grid = PixelGrid(6, 5, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32633")
    names = [f"constant_{i}" for i in values]  # more than 1024: the probe needs them, in groups
    arr = ee_client.read_area(expr, grid=grid, band_ids=names, max_tile_bytes=40000)
    assert arr.dtype.names == tuple(f"constant_{i}" for i in values)
    assert all((arr[f"constant_{i}"] == i).all() for i in (0, 255, 256, 1023, 1024, 1099))
    groups = {len(r.json()["bandIds"]) for r in ee_emulator.requests if r.grid and r.grid["dimensions"]["width"] > 1}
    assert groups and max(groups) <= 1024


def test_out_array_structured_and_plain(ee_client: Any) -> None:
    grid = PixelGrid(70, 33, (10.0, 0.0, 533150.0, 0.0, -10.0, 5311800.0), "EPSG:32633")
    one = one_request(ee_client, SCENE, grid, None)
    out = np.zeros((33, 70), dtype=one.dtype)
    assert ee_client.read_area(SCENE, grid=grid, out=out, max_tile_bytes=1500) is out
    assert same(out, one)
    plain = np.zeros((33, 70, 4), dtype=np.float64)
    ee_client.read_area(SCENE, grid=grid, out=plain, max_tile_bytes=1500)
    assert (plain == np.stack([one[b] for b in BANDS], axis=-1)).all()
    window = Window(10, 5, 30, 20)
    part = ee_client.read_area(SCENE, grid=grid, window=window, max_tile_bytes=800)
    assert same(part, one[window.slices])
    with pytest.raises(eerest.InvalidRequestError, match="shape"):
        ee_client.read_area(SCENE, grid=grid, out=np.zeros((33, 71), dtype=one.dtype))


def test_npy_file(ee_client: Any, tmp_path: Path) -> None:
    grid = PixelGrid(120, 90, (10.0, 0.0, 533100.0, 0.0, -10.0, 5311900.0), "EPSG:32633")
    for size, block in ((3000, 16), (40000, 256)):  # tiles narrower than the file, and full rows
        path = ee_client.read_area(SCENE, grid=grid, out=tmp_path / "a.npy", max_tile_bytes=size, block_size=block)
        assert path == str(tmp_path / "a.npy") and same(np.load(path), one_request(ee_client, SCENE, grid, None))
    assert sorted(os.listdir(tmp_path)) == ["a.npy"]


def tiff_tags(path: str) -> dict[str, Any]:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        return {t.name: t.value for t in page.tags.values()} | {"tile": (page.tilelength, page.tilewidth)}


def test_geotiff_file(ee_client: Any, tmp_path: Path) -> None:
    grid = PixelGrid(300, 270, (10.0, 0.0, 533000.0, 0.0, -10.0, 5312000.0), "EPSG:32633")
    one = one_request(ee_client, SCENE, grid, None)
    path = ee_client.read_area(SCENE, grid=grid, out=str(tmp_path / "a.tif"), max_tile_bytes=60000, block_size=64)
    geo = Pixels.from_file(path, file_format="GEO_TIFF").to_geoarray()
    assert geo.transform == grid.transform and geo.crs == "EPSG:32633"
    assert geo.array.dtype == np.uint16 and (geo.array == np.stack([one[b] for b in BANDS], axis=-1)).all()
    assert tiff_tags(path)["tile"] == (64, 64)
    # a single float band, in geographic coordinates, sub-block tiles
    grid = PixelGrid(37, 29, (0.0002, 0.0, 15.44, 0.0, -0.0002, 47.96), "EPSG:4326")
    expr = {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {
                    "functionName": "Image.constant",
                    "arguments": {"value": {"constantValue": 2.5}},
                }
            }
        },
    }
    path = ee_client.read_area(expr, grid=grid, out=str(tmp_path / "b.tif"), max_tile_bytes=700)
    geo = Pixels.from_file(path, file_format="GEO_TIFF").to_geoarray()
    assert geo.transform == grid.transform and geo.crs == "EPSG:4326" and (geo.array == 2.5).all()
    assert geokeys(tiff_tags(path)["GeoKeyDirectoryTag"]).get(2048) == 4326  # GeographicTypeGeoKey
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "b.tif"]


def test_mixed_types_geotiff_in_common_type(ee_client: Any, tmp_path: Path) -> None:
    expr = {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {
                    "functionName": "Image.constant",
                    "arguments": {"value": {"constantValue": [7, 1.5]}},
                }
            }
        },
    }
    grid = PixelGrid(20, 10, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32633")
    path = ee_client.read_area(expr, grid=grid, out=str(tmp_path / "m.tif"), max_tile_bytes=300)
    geo = Pixels.from_file(path, file_format="GEO_TIFF").to_geoarray()
    assert geo.array.dtype == np.float32 and (geo.array[..., 0] == 7).all() and (geo.array[..., 1] == 1.5).all()


# -- quota, faults, failures ------------------------------------------------------------------
def test_never_more_in_flight_than_the_limit(ee_emulator: Any) -> None:
    ee_emulator.faults.set_limits(max_concurrent=3)
    ee_emulator.faults.slow(0.01, count=1000, path=":getPixels")
    grid = PixelGrid(160, 120, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    with client(ee_emulator, max_concurrency=3, max_retries=0) as c:
        arr = c.read_area(SCENE, grid=grid, max_tile_bytes=4000, max_concurrency=8)
    assert ee_emulator.faults.rejected == 0 and ee_emulator.faults.peak_concurrent["eerest"] == 3
    ee_emulator.faults.clear()
    with client(ee_emulator) as c:
        assert same(arr, one_request(c, SCENE, grid, None))


def test_429_and_truncated_bodies_are_retried(ee_emulator: Any) -> None:
    grid = PixelGrid(100, 100, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    with client(ee_emulator) as c:
        one = one_request(c, SCENE, grid, None)
        ee_emulator.faults.fail(429, count=3, retry_after=0, message="Quota exceeded.", path=":getPixels")
        ee_emulator.faults.truncate(count=2, fraction=0.4, path=":getPixels")
        # One budget per tile for 429s and cut bodies alike: 5 faults may all hit one tile.
        c._retry = c._retry.__class__(max_retries=5, initial_delay=0.01)
        assert same(c.read_area(SCENE, grid=grid, max_tile_bytes=5000, max_concurrency=2), one)
        assert c.limiter.throttled == 3
    statuses = [r.status for r in ee_emulator.requests]
    assert statuses.count(429) == 3


@pytest.mark.parametrize("asynchronous", [False, True])
def test_cut_bodies_and_429s_share_one_retry_budget(ee_emulator: Any, asynchronous: bool) -> None:
    """A tile's 429s and cut bodies count against the client's one max_retries: with
    max_retries=1, a 429 then a cut body is two requests and the read fails (not four)."""
    grid = PixelGrid(40, 40, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")

    def faults() -> None:
        ee_emulator.app.clear_requests()
        ee_emulator.faults.fail(429, count=1, retry_after=0, message="Quota exceeded.", path=":getPixels")
        ee_emulator.faults.truncate(count=1, fraction=0.4, path=":getPixels")

    async def read_async() -> None:
        async with client(ee_emulator, eerest.AsyncClient) as c:
            c._retry = c._retry.__class__(max_retries=1, initial_delay=0.01)
            await c.projects.assets.get(name=SCENE)  # its metadata first: only tiles follow
            faults()
            await c.read_area(SCENE, grid=grid, band_ids=["red"])

    with pytest.raises(eerest.ResponseDecodeError, match="incomplete"):
        if asynchronous:
            asyncio.run(read_async())
        else:
            with client(ee_emulator) as c:
                c._retry = c._retry.__class__(max_retries=1, initial_delay=0.01)
                c.projects.assets.get(name=SCENE)
                faults()
                c.read_area(SCENE, grid=grid, band_ids=["red"])
    tiles = [r for r in ee_emulator.requests if r.path.endswith(":getPixels")]
    assert [r.status for r in tiles] == [429, 200]


def test_memory_limit_splits_tiles(ee_emulator: Any) -> None:
    grid = PixelGrid(200, 150, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    with client(ee_emulator) as c:
        one = one_request(c, SCENE, grid, None)
        ee_emulator.faults.set_limits(memory_limit_pixels=3000)
        ee_emulator.app.clear_requests()
        arr = c.read_area(SCENE, grid=grid, max_tile_bytes=100_000)
        assert same(arr, one)
    answered = [(r.grid["dimensions"], r.status) for r in ee_emulator.requests if r.grid]
    assert all(d["width"] * d["height"] <= 3000 for d, status in answered if status == 200)
    assert any(status == 400 for _, status in answered)


def test_too_many_concurrent_aggregations_splits(ee_emulator: Any) -> None:
    grid = PixelGrid(64, 64, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    with client(ee_emulator, max_retries=0) as c:
        one = one_request(c, SCENE, grid, None)
        ee_emulator.faults.fail(429, count=1, path=":getPixels")  # "Too many concurrent aggregations."
        assert same(c.read_area(SCENE, grid=grid), one)
    widths = [r.grid["dimensions"]["width"] for r in ee_emulator.requests if r.grid]
    assert widths == [64, 64, 32, 32, 32, 32]  # one request, the tile (429), its quarters


def test_memory_limit_gives_up_at_the_floor(ee_client: Any, ee_emulator: Any, tmp_path: Path) -> None:
    grid = PixelGrid(64, 64, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    ee_emulator.faults.set_limits(memory_limit_pixels=10)
    with pytest.raises(eerest.BadRequestError, match=r"memory limit.*") as info:
        ee_client.read_area(SCENE, grid=grid, out=str(tmp_path / "x.tif"))
    tile = info.value.tile  # type: ignore[attr-defined]
    assert "8x8 pixels at column" in str(info.value) and tile.window.width == 8  # 64 / 2**3
    assert os.listdir(tmp_path) == []


def test_fatal_error_midway_leaves_nothing(ee_emulator: Any, tmp_path: Path) -> None:
    grid = PixelGrid(200, 200, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    before = set(threading.enumerate())
    ee_emulator.faults.slow(0.01, count=6, path=":getPixels")
    ee_emulator.faults.fail(403, count=1, message="Permission denied on the asset.", path=":getPixels")
    with client(ee_emulator) as c:
        with pytest.raises(eerest.PermissionDeniedError, match=r"^.*pixels at column \d+, row \d+") as info:
            c.read_area(SCENE, grid=grid, out=tmp_path / "x.npy", max_tile_bytes=3000, max_concurrency=4)
        assert c.limiter.in_flight == 0
    assert isinstance(info.value.tile.window, Window)  # type: ignore[attr-defined]
    assert os.listdir(tmp_path) == []
    ours = [
        t for t in set(threading.enumerate()) - before if "process_request_thread" not in t.name
    ]  # not the server's
    assert ours == []
    plan = plan_tiles(grid, ["uint16"] * 4, max_tile_bytes=3000)
    assert len([r for r in ee_emulator.requests if r.grid]) < len(plan.tiles)  # the rest was never asked for


def test_fatal_error_ends_other_tiles_waits_between_retries(ee_emulator: Any) -> None:
    # One tile is told to retry in 30 s while another fails for good: the read ends with
    # the failure at once, and the retry is never sent.
    grid = PixelGrid(200, 200, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    before = set(threading.enumerate())
    ee_emulator.faults.fail(503, count=1, retry_after=30, path=":getPixels")
    ee_emulator.faults.fail(403, count=1, message="Permission denied on the asset.", path=":getPixels")
    with client(ee_emulator) as c:
        with pytest.raises(eerest.PermissionDeniedError, match="pixels at column"):
            c.read_area(SCENE, grid=grid, max_tile_bytes=3000, max_concurrency=2)
        assert c.limiter.in_flight == 0
    assert [r.status for r in ee_emulator.requests if r.grid] in ([503, 403], [403, 503])
    ours = [t for t in set(threading.enumerate()) - before if "process_request_thread" not in t.name]
    assert ours == []


def test_fatal_error_ends_other_tiles_waiting_for_an_answer(ee_emulator: Any) -> None:
    # One tile's answer takes 2 s while another fails for good: the read ends with the
    # failure without waiting for that answer (its connection is shut down).
    grid = PixelGrid(200, 200, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    before = set(threading.enumerate())
    ee_emulator.faults.slow(2.0, count=1, path=":getPixels")
    ee_emulator.faults.fail(403, count=1, message="Permission denied on the asset.", path=":getPixels")
    with client(ee_emulator) as c:
        with pytest.raises(eerest.PermissionDeniedError, match="pixels at column"):
            c.read_area(SCENE, grid=grid, max_tile_bytes=3000, max_concurrency=2)
        assert [r.status for r in ee_emulator.requests if r.grid] == [None, 403]  # the slow one: not answered yet
        assert c.limiter.in_flight == 0
    ours = [t for t in set(threading.enumerate()) - before if "process_request_thread" not in t.name]
    assert ours == []


async def test_async_fatal_error_cancels_tasks(ee_emulator: Any, tmp_path: Path) -> None:
    grid = PixelGrid(200, 200, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    ee_emulator.faults.fail(404, count=1, message="Asset not found.", path=":getPixels")
    ee_emulator.faults.slow(2.0, count=50, path=":getPixels")
    async with client(ee_emulator, eerest.AsyncClient) as c:
        with pytest.raises(eerest.NotFoundError, match="pixels at column"):
            await c.read_area(SCENE, grid=grid, out=tmp_path / "x.tif", max_tile_bytes=3000, max_concurrency=4)
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert c.limiter.in_flight == 0
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("suffix", ["tif", "npy"])
def test_resume_completes_identically(ee_emulator: Any, tmp_path: Path, suffix: str) -> None:
    grid = PixelGrid(180, 140, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    whole, partial = tmp_path / f"whole.{suffix}", tmp_path / f"resumed.{suffix}"
    with client(ee_emulator, max_retries=0, max_requests_per_second=None) as c:
        c.read_area(SCENE, grid=grid, out=whole, max_tile_bytes=4000, block_size=64)
        ee_emulator.app.clear_requests()
        ee_emulator.faults.slow(0.01, count=5, path=":getPixels")
        ee_emulator.faults.fail(500, count=1, path=":getPixels")
        with pytest.raises(eerest.InternalServerError):
            c.read_area(
                SCENE, grid=grid, out=partial, max_tile_bytes=4000, block_size=64, resume=True, max_concurrency=2
            )
        assert not partial.exists()
        assert sorted(os.listdir(tmp_path)) == sorted(
            [whole.name, partial.name + ".partial", partial.name + ".partial.resume"]
        )
        first = len([r for r in ee_emulator.requests if r.grid and r.status == 200])
        assert first >= 4  # the 5th may be given up: it was still waiting for its answer when the 500 came
        ee_emulator.app.clear_requests()
        c.read_area(SCENE, grid=grid, out=partial, max_tile_bytes=4000, block_size=64, resume=True)
        second = len([r for r in ee_emulator.requests if r.grid])
    total = len(plan_tiles(grid, ["uint16"] * 4, max_tile_bytes=4000, block_size=64).tiles)
    assert second <= total - first + 2  # only what was missing (tiles in flight at the failure may repeat)
    assert partial.read_bytes() == whole.read_bytes()
    assert sorted(os.listdir(tmp_path)) == sorted([whole.name, partial.name])


def test_resume_of_another_read_starts_afresh(ee_client: Any, tmp_path: Path) -> None:
    grid = PixelGrid(60, 40, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    out = tmp_path / "a.npy"
    (tmp_path / "a.npy.partial").write_bytes(b"garbage")
    (tmp_path / "a.npy.partial.resume").write_text('{"fingerprint": "other"}\n[0, 0, 60, 40, 0, 3]\n')
    ee_client.read_area(SCENE, grid=grid, out=out, resume=True)
    assert same(np.load(out), one_request(ee_client, SCENE, grid, None))
    assert sorted(os.listdir(tmp_path)) == ["a.npy"]


def test_wrong_band_dtypes_are_a_decode_error(ee_client: Any) -> None:
    grid = PixelGrid(20, 20, (20.0, 0.0, 533120.0, 0.0, -20.0, 5311840.0), "EPSG:32633")
    with pytest.raises(eerest.ResponseDecodeError, match=r"dtype .*<f4.* instead of .*<f8"):
        ee_client.read_area(load(ELEVATION), grid=grid, band_ids=["elevation"], band_dtypes=["float64"])


def test_progress(ee_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    grid = PixelGrid(100, 60, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    calls: list[tuple[int, int, int]] = []
    ee_client.read_area(SCENE, grid=grid, max_tile_bytes=4000, progress=lambda *a: calls.append(a))
    total = len(plan_tiles(grid, ["uint16"] * 4, max_tile_bytes=4000).tiles)
    assert [c[0] for c in calls] == list(range(1, total + 1)) and calls[-1][1] == total
    assert calls[-1][2] == 100 * 60 * 8
    ee_client.read_area(SCENE, grid=grid, max_tile_bytes=4000, progress=True)
    assert f"{total}/{total}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "USGS/SRTMGL1_003"}, "projects/earthengine-public/assets/USGS/SRTMGL1_003"),
        ({"source": load(SCENE), "grid": None}, "grid= is required"),
        ({"out": "x.png"}, r"\.tif"),
        ({"out": None, "resume": True}, "needs a file output"),
        ({"out": "/nonexistent/dir/x.tif"}, "does not exist"),
        ({"band_ids": ["nope"]}, "no band"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"progress": "yes"}, "progress"),
        ({"grid": {"dimensions": {"width": 5, "height": 5}}}, "affineTransform"),
    ],
)
def test_bad_arguments(ee_client: Any, ee_emulator: Any, kwargs: dict[str, Any], match: str) -> None:
    args = {"source": SCENE, "grid": PixelGrid(10, 10, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")}
    args.update(kwargs)
    with pytest.raises(eerest.InvalidRequestError, match=match):
        ee_client.read_area(args.pop("source"), **args)
    assert not [r for r in ee_emulator.requests if r.grid and r.grid["dimensions"]["width"] > 1]


def test_native_grid_of_an_asset(ee_client: Any) -> None:
    arr = ee_client.read_area(SCENE, max_tile_bytes=20000)
    assert same(arr, ee_client.projects.assets.get_pixels(name=SCENE, file_format="NPY").to_numpy())


def test_bigtiff_past_4_gib(tmp_path: Path) -> None:
    import tifffile

    from eerest._formats.geotiff_write import create_geotiff

    grid = PixelGrid(40000, 30000, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), "EPSG:32633")  # 4.8 GB of float32
    layout = create_geotiff(str(tmp_path / "big.tif"), grid, 1, np.dtype("<f4"), 256)
    assert os.stat(tmp_path / "big.tif").st_blocks * 512 < 2**24  # a sparse file: the data is a hole
    with tifffile.TiffFile(tmp_path / "big.tif") as tif:
        assert tif.is_bigtiff and tif.pages[0].shape == (30000, 40000)
    assert layout.offset(0, 117, 156) + 256 * 256 * 4 <= os.stat(tmp_path / "big.tif").st_size
    small = create_geotiff(str(tmp_path / "small.tif"), grid.window(Window(0, 0, 1000, 1000)), 1, np.dtype("<f4"), 256)
    with tifffile.TiffFile(tmp_path / "small.tif") as tif:
        assert not tif.is_bigtiff and small.tiles_across == 4


async def test_async_read_runs_off_the_event_loop_and_cancels_with_its_task(ee_emulator: Any, tmp_path: Path) -> None:
    """Tile bodies are received in threads (the event loop stays free: a ticker keeps
    ticking); cancelling the task stops them, removes the file and frees the limiter."""
    grid = PixelGrid(200, 200, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    ee_emulator.faults.slow(0.5, count=1000, path=":getPixels")
    loop_threads: set[str] = set()

    def progress(done: int, total: int, nbytes: int) -> None:
        loop_threads.add(threading.current_thread().name)

    async with client(ee_emulator, eerest.AsyncClient) as c:
        task = asyncio.ensure_future(
            c.read_area(SCENE, grid=grid, out=tmp_path / "x.tif", max_tile_bytes=3000, max_concurrency=4,
                        progress=progress)
        )
        ticks = 0
        while len([r for r in ee_emulator.requests if r.grid]) < 8:
            await asyncio.sleep(0.01)
            ticks += 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ticks > 5  # the loop ran while tiles were in flight
        assert c.limiter.in_flight == 0
        sent = len([r for r in ee_emulator.requests if r.grid])
        await asyncio.sleep(0.7)
        assert len([r for r in ee_emulator.requests if r.grid]) == sent  # nothing more is sent
    assert loop_threads and all(name.startswith("eerest-read-area") for name in loop_threads)
    assert os.listdir(tmp_path) == []


async def test_async_client_with_its_own_http_client_reads_on_the_event_loop(ee_emulator: Any) -> None:
    import httpx

    grid = PixelGrid(90, 70, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    async with httpx.AsyncClient() as http, client(ee_emulator, eerest.AsyncClient, http_client=http) as c:
        one = (await c.projects.assets.get_pixels(name=SCENE, file_format="NPY", grid=grid.to_api())).to_numpy()
        assert same(await c.read_area(SCENE, grid=grid, max_tile_bytes=5000), one)
        assert c._twin is None


async def test_the_blocking_twin_shares_the_limiter_and_closes_with_its_client(ee_emulator: Any) -> None:
    grid = PixelGrid(90, 70, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    c = client(ee_emulator, eerest.AsyncClient)
    await c.read_area(SCENE, grid=grid, max_tile_bytes=5000)
    twin = c._twin
    assert twin is not None and twin.limiter is c.limiter and twin._auth is c._auth
    await c.close()
    assert c._twin is None and twin._http.is_closed


async def test_the_blocking_twin_has_its_own_flights_and_shares_the_cache(ee_emulator: Any) -> None:
    """The async client's in-flight lookups hold asyncio futures, the twin's thread futures:
    they must not meet, while finished lookups (the cache) are shared."""
    c = client(ee_emulator, eerest.AsyncClient)
    twin = c._blocking_twin()
    assert twin is not None and twin._flights is not c._flights and twin._cache is c._cache
    await c.close()
