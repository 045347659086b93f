"""The same computation on a dask.distributed cluster of worker processes: the graph
carries a client configuration, each worker builds one client (and one limiter)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials
from xarray_helpers import SCENES

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
