"""However many dask threads, never more requests in flight than the client's limiter allows:
the emulator's concurrency cap, set to the limit, never answers 429."""

from __future__ import annotations

import dask
import numpy as np
from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials
from xarray_helpers import SCENES

import eerest
import eerest.xarray


def test_dask_threads_never_exceed_the_client_limit(ee_emulator):
    client = eerest.Client(
        project=EMULATOR_PROJECT, base_url=ee_emulator.url, credentials=emulator_credentials(),
        max_concurrency=3, max_retries=0,  # a 429 would fail the computation
        max_requests_per_second=None,  # 160 chunks: the rate cap would only add waiting
    )
    ds = eerest.xarray.open_dataset(SCENES, client=client, chunks={"time": 1, "y": 56, "x": 56})
    assert ds.red.data.npartitions == 5 * 4 * 4
    ee_emulator.faults.set_limits(max_concurrent=3)
    ee_emulator.faults.slow(0.02, count=40)  # requests overlap
    with dask.config.set(scheduler="threads", num_workers=12):
        red, nir = dask.compute(ds.red.data, ds.nir.data)
    assert ee_emulator.faults.rejected == 0
    assert ee_emulator.faults.peak_concurrent[EMULATOR_PROJECT] == 3
    assert client.limiter.in_flight == 0 and client.limiter.throttled == 0
    assert red.dtype == np.uint16 and red.shape == nir.shape == (5, 224, 224)
    client.close()
