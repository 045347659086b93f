"""The same computation on a dask.distributed cluster of worker processes: the graph
carries a client configuration, each worker builds one client (and one limiter)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials
from xarray_helpers import SCENES

import eerest
import eerest.xarray


def _process_clients() -> tuple[int, int]:
    from eerest.xarray import _config

    return os.getpid(), len(_config._PROCESS_CLIENTS._clients)


@pytest.mark.slow  # starts a cluster of worker processes
def test_local_cluster_of_two_processes_gives_the_same_result(ee_emulator):
    distributed = pytest.importorskip("distributed")  # here, not at collection: the default run skips this test
    config = eerest.xarray.ClientConfig(
        project=EMULATOR_PROJECT,
        base_url=ee_emulator.url,  # the emulator runs in this process; workers reach it on 127.0.0.1
        credentials=emulator_credentials,
        max_concurrency=2,
        max_retries=0,  # a 429 would fail the computation
    )
    ds = eerest.xarray.open_dataset(SCENES, client=config, chunks={"time": 1, "y": 112, "x": 112})
    expected = ds.compute(scheduler="threads")
    # 2 processes x 2 in flight each: the cap on the project is never exceeded, whatever the threads
    ee_emulator.faults.set_limits(max_concurrent=4)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster, distributed.Client(cluster) as client:
        got = client.compute(ds).result()
        per_worker = client.run(_process_clients)
    assert ee_emulator.faults.rejected == 0
    for band in ds.data_vars:
        assert got[band].dtype == np.uint16
        assert got[band].values.tobytes() == expected[band].values.tobytes()
    pids = {pid for pid, _ in per_worker.values()}
    assert len(pids) == 2 and os.getpid() not in pids
    assert sorted(count for _, count in per_worker.values()) == [1, 1]  # one client per process, reused


@pytest.mark.slow  # starts a cluster of worker processes
def test_cluster_max_concurrency_holds_across_four_workers(ee_emulator):
    """4 worker processes x 4 in flight each could send 16 requests at once; with
    cluster_max_concurrency=3 the emulator, capped at 3, never answers 429."""
    distributed = pytest.importorskip("distributed")
    config = eerest.xarray.ClientConfig(
        project=EMULATOR_PROJECT,
        base_url=ee_emulator.url,
        credentials=emulator_credentials,
        max_concurrency=4,
        max_retries=0,  # a 429 would fail the computation
    )
    ds = eerest.xarray.open_dataset(SCENES, client=config, chunks={"time": 1, "y": 56, "x": 56})
    expected = ds.compute(scheduler="threads")
    capped = eerest.xarray.open_dataset(
        SCENES, client=config, chunks={"time": 1, "y": 56, "x": 56}, cluster_max_concurrency=3
    )
    ee_emulator.faults.set_limits(max_concurrent=3)
    ee_emulator.inject("slow", delay=0.05, count=10_000, path=":getPixels")  # requests overlap
    with distributed.LocalCluster(
        n_workers=4, threads_per_worker=4, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster, distributed.Client(cluster) as client:
        got = client.compute(capped).result()
    assert ee_emulator.faults.rejected == 0
    assert max(ee_emulator.faults.peak_concurrent.values()) <= 3
    for band in ds.data_vars:
        assert got[band].values.tobytes() == expected[band].values.tobytes()


def test_errors_name_the_chunk(ee_emulator):
    """An error reading a chunk (here in this process; on a worker the same) names the
    variable, the time step and the window, in its own class."""
    import pickle

    config = eerest.xarray.ClientConfig(
        project=EMULATOR_PROJECT, base_url=ee_emulator.url, credentials=emulator_credentials, max_retries=0
    )
    ds = eerest.xarray.open_dataset(SCENES, client=config, chunks={"time": 1, "y": 56, "x": 56})
    band = next(iter(ds.data_vars))
    ee_emulator.faults.fail(403, count=1, message="Permission denied on the asset.", path=":getPixels")
    with pytest.raises(eerest.PermissionDeniedError) as info:
        ds[band].isel(time=1, y=slice(56, 112), x=slice(0, 56)).compute(scheduler="sync")
    message = str(info.value)
    assert f"variable {band!r}" in message and "time 1" in message and "x 0:56, y 56:112" in message
    assert "Permission denied" in message and info.value.status_code == 403
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is type(info.value) and "x 0:56, y 56:112" in str(again)
