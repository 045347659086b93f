"""A connection reset (TCP RST) before any answer or mid-body, as the emulator's "reset"
fault sends it: a read is retried with backoff, within the call's deadline, sync and async,
and ``read_area`` gives the same bytes as an undisturbed read."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eerest_emulator.testing import emulator_credentials

import eerest
from eerest._core.retry import RetryPolicy
from eerest.tiling import PixelGrid

SCENE = "projects/eerest/assets/sample/scenes/20240524"
GRID = PixelGrid(60, 40, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
DELAY = 0.05  # the first backoff (tests' scale; the default is 1 s)


def make(emu: Any, kind: Any = eerest.Client, **kw: Any) -> Any:
    c = kind(project="eerest", base_url=emu.url, credentials=emulator_credentials(), max_requests_per_second=None, **kw)
    c._retry = RetryPolicy(max_retries=kw.get("max_retries", 5), initial_delay=DELAY)
    return c


def pixels(c: Any) -> Any:
    return c.projects.assets.get_pixels(name=SCENE, file_format="NPY", band_ids=["nir"], grid=GRID.to_api())


def test_resets_are_retried_with_backoff(ee_emulator: Any) -> None:
    with make(ee_emulator) as c:
        expected = pixels(c).to_numpy()
        ee_emulator.app.clear_requests()
        ee_emulator.faults.reset(count=1, fraction=0.0, path=":getPixels")  # no answer at all
        ee_emulator.faults.reset(count=1, fraction=0.5, path=":getPixels")  # half the body, then RST
        started = time.perf_counter()
        got = pixels(c).to_numpy()
        elapsed = time.perf_counter() - started
    assert (got == expected).all()
    assert [r.status for r in ee_emulator.requests] == [None, 200, 200]  # two resets, then the answer
    assert elapsed >= 0.75 * DELAY + 0.75 * 2 * DELAY  # two backoffs (each at least 3/4 of nominal)


async def test_resets_are_retried_by_the_async_client(ee_emulator: Any) -> None:
    async with make(ee_emulator, eerest.AsyncClient) as c:
        ee_emulator.faults.reset(count=2, fraction=0.0, path=":getPixels")
        ee_emulator.faults.reset(count=1, fraction=0.9, path=":getPixels")
        got = (
            await c.projects.assets.get_pixels(name=SCENE, file_format="NPY", band_ids=["nir"], grid=GRID.to_api())
        ).to_numpy()
    assert got.shape == (40, 60) and len([r for r in ee_emulator.requests if r.grid]) == 4


def test_resets_without_end_stop_at_the_retry_budget_or_the_deadline(ee_emulator: Any) -> None:
    ee_emulator.faults.reset(count=1000, path=":getPixels")
    with make(ee_emulator, max_retries=3) as c, pytest.raises(eerest.APIConnectionError, match=r"(?i)reset|disconnect"):
        pixels(c)
    assert len([r for r in ee_emulator.requests if r.grid]) == 4  # the request and 3 retries
    ee_emulator.app.clear_requests()
    with make(ee_emulator, max_retries=1000, deadline=1.0) as c:
        started = time.perf_counter()
        with pytest.raises(eerest.APIConnectionError):  # APITimeoutError is one
            pixels(c)
        assert time.perf_counter() - started < 1.0 + 0.5  # never past the deadline (plus scheduling)


def test_read_area_rides_out_resets(ee_emulator: Any, tmp_path: Path) -> None:
    grid = PixelGrid(180, 140, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    kw: dict[str, Any] = {"grid": grid, "max_tile_bytes": 8000, "block_size": 64, "max_concurrency": 4}
    with make(ee_emulator) as c:
        expected = c.read_area(SCENE, **kw)
        ee_emulator.faults.reset(count=3, fraction=0.0, path=":getPixels")
        ee_emulator.faults.slow(0.0, count=2, path=":getPixels")
        ee_emulator.faults.reset(count=3, fraction=0.6, path=":getPixels")
        path = c.read_area(SCENE, out=tmp_path / "a.npy", **kw)
    assert (np.load(path) == expected).all()
    assert not ee_emulator.faults.pending()  # every reset fired
