"""The same computation on a dask.distributed cluster of worker processes: the graph
carries a client configuration, each worker builds one client (and one limiter)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from xarray_helpers import SCENES

import eerest.xarray
from eerest.testing import EMULATOR_PROJECT, emulator_credentials

distributed = pytest.importorskip("distributed")


def _process_clients() -> tuple[int, int]:
    from eerest.xarray import _config

    return os.getpid(), len(_config._PROCESS_CLIENTS._clients)


def test_local_cluster_of_two_processes_gives_the_same_result(ee_emulator):
    ds = eerest.xarray.open_dataset(
        SCENES,
        project=EMULATOR_PROJECT,
        base_url=ee_emulator.url,  # the emulator runs in this process; workers reach it on 127.0.0.1
        credentials_factory=emulator_credentials,
        chunks={"time": 1, "y": 112, "x": 112},
    )
    expected = ds.compute(scheduler="threads")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster, distributed.Client(cluster) as client:
        got = client.compute(ds).result()
        per_worker = client.run(_process_clients)
    for band in ds.data_vars:
        assert got[band].dtype == np.uint16
        assert got[band].values.tobytes() == expected[band].values.tobytes()
    pids = {pid for pid, _ in per_worker.values()}
    assert len(pids) == 2 and os.getpid() not in pids
    assert sorted(count for _, count in per_worker.values()) == [1, 1]  # one client per process, reused
