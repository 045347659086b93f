"""Concurrent lookups of the same asset share one request (single flight in the client's
metadata cache), sync and async; a failed lookup fails every waiter and is not cached."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from eerest_emulator.testing import emulator_credentials

import eerest
from eerest._core.overlay import Fetch

SCENE = "projects/eerest/assets/sample/scenes/20240524"


def gets(emu: Any) -> int:
    return len([r for r in emu.requests if r.method == "GET" and r.path.endswith("scenes/20240524")])


def test_threads_share_one_lookup(ee_emulator: Any) -> None:
    ee_emulator.inject("slow", delay=0.3, count=1, path="scenes/20240524")
    with eerest.Client(project="eerest", base_url=ee_emulator.url, credentials=emulator_credentials()) as c:
        c.projects.assets  # noqa: B018 - loads the API's methods
        results: list[Any] = []
        barrier = threading.Barrier(8)

        def look() -> None:
            barrier.wait()
            results.append(c._perform(Fetch("projects.assets.get", {"name": SCENE}), c._new_deadline()))

        threads = [threading.Thread(target=look) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert gets(ee_emulator) == 1


def test_tasks_share_one_lookup(ee_emulator: Any) -> None:
    ee_emulator.inject("slow", delay=0.3, count=1, path="scenes/20240524")

    async def main() -> list[Any]:
        async with eerest.AsyncClient(
            project="eerest", base_url=ee_emulator.url, credentials=emulator_credentials()
        ) as c:
            c.projects.assets  # noqa: B018
            return await asyncio.gather(
                *(c._perform(Fetch("projects.assets.get", {"name": SCENE}), c._new_deadline()) for _ in range(8))
            )

    results = asyncio.run(main())
    assert all(r is results[0] for r in results) and gets(ee_emulator) == 1


def test_a_failed_lookup_fails_its_waiters_and_is_not_cached(ee_emulator: Any) -> None:
    ee_emulator.faults.fail(403, count=1, path="scenes/20240524")
    with eerest.Client(
        project="eerest", base_url=ee_emulator.url, credentials=emulator_credentials(), max_retries=0
    ) as c:
        c.projects.assets  # noqa: B018
        errors: list[BaseException] = []

        def look() -> None:
            try:
                c._perform(Fetch("projects.assets.get", {"name": SCENE}), c._new_deadline())
            except eerest.PermissionDeniedError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=look) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(errors) >= 1
        assert c._perform(Fetch("projects.assets.get", {"name": SCENE}), c._new_deadline()).name == SCENE


def test_read_area_of_an_asset_looks_it_up_once(ee_emulator: Any) -> None:
    from eerest.tiling import PixelGrid

    grid = PixelGrid(60, 40, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
    with eerest.Client(project="eerest", base_url=ee_emulator.url, credentials=emulator_credentials()) as c:
        c.read_area(SCENE, grid=grid, max_tile_bytes=2000)
    assert gets(ee_emulator) == 1
