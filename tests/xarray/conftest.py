from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("xarray")
pytest.importorskip("dask")

from eerest_emulator import Emulator
from xarray_helpers import make_client, write_collection


@pytest.fixture(scope="session")
def small_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator of small test collections: ``many`` (1000 images), ``shuffled`` (6 images
    whose start times run against their names)."""
    root = tmp_path_factory.mktemp("eerest-xarray-data")
    write_collection(root, "many", 1000, size=2, pixels=False)
    write_collection(root, "shuffled", 6, shuffle_times=True)
    with Emulator(data_dir=root) as emu:
        yield emu


@pytest.fixture
def small_client(small_emulator: Emulator) -> Iterator[Any]:
    small_emulator.app.clear_requests()
    with make_client(small_emulator.url) as client:
        yield client
