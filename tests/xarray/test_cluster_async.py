"""``cluster_max_concurrency`` for the async client: a ``distributed.Semaphore`` caps the
requests in flight of an ``AsyncClient`` (``ClientConfig.create_async``), its blocking calls
off the event loop, and a cancelled request never keeps a lease."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

import eerest.xarray
from eerest.tiling import PixelGrid

SCENE = "projects/eerest/assets/sample/scenes/20240524"
GRID = PixelGrid(40, 40, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633").to_api()


def config(emu: Any, cap: int | None) -> eerest.xarray.ClientConfig:
    return eerest.xarray.ClientConfig(
        project=EMULATOR_PROJECT,
        base_url=emu.url,
        credentials=emulator_credentials,
        max_concurrency=8,
        max_requests_per_second=None,
        max_retries=0,
        cluster_max_concurrency=cap,
    )


async def fetch(c: Any) -> Any:
    return await c.projects.assets.get_pixels(name=SCENE, file_format="NPY", band_ids=["nir"], grid=GRID)


async def burst(emu: Any, cap: int | None, n: int = 10) -> tuple[int, float]:
    """(the most requests in flight at the server, the longest the event loop was held)."""
    async with config(emu, cap).create_async() as c:
        await fetch(c)  # the asset's metadata, cached
        emu.faults.set_limits()  # resets the peak count
        emu.inject("slow", delay=0.1, count=n, path=":getPixels")
        stalls: list[float] = []

        async def ticker() -> None:
            while True:
                t = time.perf_counter()
                await asyncio.sleep(0.005)
                stalls.append(time.perf_counter() - t - 0.005)

        tick = asyncio.create_task(ticker())
        results = await asyncio.gather(*(fetch(c) for _ in range(n)))
        tick.cancel()
        assert all(r.to_numpy().shape == (40, 40) for r in results)
        return max(emu.faults.peak_concurrent.values()), max(stalls)


def cluster() -> Any:
    """A dask.distributed cluster in this process (its own event loop thread) and a client
    of it, set as the default: outside the test's event loop, as a script's would be."""
    distributed = pytest.importorskip("distributed")  # here, not at collection: the default run skips these
    local = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=40
    )
    return local, distributed.Client(local, set_as_default=True)


@pytest.mark.slow  # starts a dask.distributed cluster
def test_the_async_client_keeps_to_cluster_max_concurrency(ee_emulator: Any) -> None:
    local, client = cluster()
    with local, client:
        uncapped, _ = asyncio.run(burst(ee_emulator, None))
        capped, stall = asyncio.run(burst(ee_emulator, 2))
    assert uncapped > 2  # the requests do overlap
    assert capped <= 2
    assert stall < 0.05  # the semaphore's round trips never held the loop


class CountingGate:
    """A gate's calls counted: a cancelled request's acquire may still be under way (and
    take its lease) well after the cancel, so "no lease held" is only meaningful once every
    acquire has returned and every lease taken has been given back."""

    def __init__(self, gate: Any) -> None:
        self.gate = gate
        self.lock = threading.Lock()
        self.calls = self.leased = self.released = 0

    def acquire(self, timeout: float | None) -> bool:
        with self.lock:
            self.calls += 1
        try:
            leased = bool(self.gate.acquire(timeout))
        finally:
            with self.lock:
                self.calls -= 1
        with self.lock:
            self.leased += leased
        return leased

    def release(self) -> None:
        self.gate.release()
        with self.lock:
            self.released += 1

    def settled(self) -> bool:
        with self.lock:
            return self.calls == 0 and self.leased == self.released


async def cancel_midway(emu: Any) -> None:
    async with config(emu, 2).create_async() as c:
        await fetch(c)
        gate = c.limiter.gate
        assert gate is not None
        counted = c.limiter.gate = CountingGate(gate)
        emu.inject("slow", delay=0.5, count=6, path=":getPixels")
        tasks = [asyncio.create_task(fetch(c)) for _ in range(6)]  # 2 in flight, 4 waiting for a lease
        await asyncio.sleep(0.2)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(200):  # the acquires still under way end, their leases come back
            if counted.settled():
                break
            await asyncio.sleep(0.05)
        assert counted.settled() and counted.leased >= 1
        assert await asyncio.to_thread(gate.get_value) == 0
        c.limiter.gate = gate
        assert c.limiter.in_flight == 0
        emu.faults.clear()
        assert (await fetch(c)).to_numpy().shape == (40, 40)  # the cap still admits requests


@pytest.mark.slow  # starts a dask.distributed cluster
def test_a_cancelled_request_gives_its_lease_back(ee_emulator: Any) -> None:
    local, client = cluster()
    with local, client:
        asyncio.run(cancel_midway(ee_emulator))


def gate_threads() -> int:
    return sum(t.name.startswith("eerest-gate") for t in threading.enumerate())


async def open_use_close(emu: Any) -> Any:
    async with config(emu, 2).create_async() as c:
        await asyncio.gather(*(fetch(c) for _ in range(4)))
        assert gate_threads() > 0
        return c.limiter.gate


@pytest.mark.slow  # starts a dask.distributed cluster
def test_closing_the_client_ends_its_gate_threads_and_lease_refreshing(ee_emulator: Any) -> None:
    """The semaphore's calls run in threads of the client's limiter and the semaphore
    refreshes its leases on the cluster client's loop: the client's close ends both, and
    repeated open/close leaves nothing behind."""
    local, client = cluster()
    with local, client:
        assert gate_threads() == 0
        gates = [asyncio.run(open_use_close(ee_emulator)) for _ in range(3)]
        deadline = time.monotonic() + 2
        while (gate_threads() or any(g.refresh_callback.is_running() for g in gates)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gate_threads() == 0  # 2 acquire + 2 release threads a client, 12 without the close's ending them
        assert not any(g.refresh_callback.is_running() for g in gates)
        assert gates[0].get_value() == 0  # no lease kept
