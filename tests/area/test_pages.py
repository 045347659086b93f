"""eerest._area.pages: a new output array's pages prepared (hints only: the array is an
ordinary numpy array and holds exactly what the tiles wrote)."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import numpy as np
import pytest

from eerest._area import pages
from eerest.tiling import PixelGrid

from .test_read_area import SCENE, one_request, same


@pytest.fixture
def ee_client(unthrottled_client: Any) -> Any:
    return unthrottled_client


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int]]:
    """The real madvise, recording each call (address, length, advice); arrays from 1 MiB prepared."""
    made: list[tuple[int, int, int]] = []
    fn = pages.libc_function("madvise", [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int])
    if not fn:
        pytest.skip("no madvise in this libc")

    def recording(address: int, length: int, advice: int) -> int:
        made.append((address, length, advice))
        return int(fn(address, length, advice))

    monkeypatch.setattr(pages, "_madvise", recording)
    monkeypatch.setattr(pages, "PREPARE_BYTES", 1 << 20)
    return made


def test_a_small_array_is_numpys_own() -> None:
    out = pages.new_array((3, 5), np.dtype([("a", "<u2"), ("b", "<f4")]))
    assert out.shape == (3, 5) and out.dtype.names == ("a", "b") and out.flags.owndata and out.flags.writeable


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise hints are Linux's")
def test_a_large_array_is_prepared_and_stays_ordinary(calls: list[tuple[int, int, int]]) -> None:
    out = pages.new_array((1000, 700), np.dtype("<u2, <u2"))  # 2.7 MiB, not a whole number of pages
    assert out.flags.owndata and out.flags.c_contiguous and out.shape == (1000, 700)
    advices = [a for _, _, a in calls]
    assert advices[0] == pages._MADV_NOHUGEPAGE and set(advices[1:]) == {pages._MADV_POPULATE_WRITE}
    start, length, _ = calls[0]
    assert start % pages._PAGE == 0 and length % pages._PAGE == 0
    assert out.ctypes.data <= start and start + length <= out.ctypes.data + out.nbytes
    view = out.view(np.uint8).reshape(-1)
    view[:] = 7  # every byte writable, including the partial pages at both ends
    assert (view == 7).all()


def test_a_refused_hint_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "_madvise", lambda *args: -1)
    monkeypatch.setattr(pages, "PREPARE_BYTES", 0)
    out = pages.new_array((64, 64), np.dtype("<f8"))
    out[:] = 1.5
    assert out.flags.owndata and (out == 1.5).all()


def test_read_area_into_a_prepared_array(ee_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PREPARE_BYTES", 0)
    grid = PixelGrid(120, 90, (10.0, 0.0, 533100.0, 0.0, -10.0, 5311900.0), "EPSG:32633")
    got = ee_client.read_area(SCENE, grid=grid, max_tile_bytes=3000, block_size=16)
    assert got.flags.owndata and same(got, one_request(ee_client, SCENE, grid, None))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise hints are Linux's")
def test_prefault_populates_each_part_once_and_never_changes_the_data(calls: list[tuple[int, int, int]]) -> None:
    out, prefault = pages.new_prefaulted_array((1500, 1000), np.dtype("<u2, <u2"))  # 5.7 MiB
    assert prefault is not None and out.flags.owndata and out.flags.c_contiguous
    assert [a for _, _, a in calls] == [pages._MADV_NOHUGEPAGE]  # nothing populated yet
    flat = out.view(np.uint8).reshape(-1)
    flat[:100_000] = 3  # a tile written before its pages were populated
    prefault.ensure(0, 3 << 20)
    prefault.ensure(1 << 20, 1 << 20)  # populated already: nothing more
    prefault.start()
    prefault.stop()
    populated = [(a, n) for a, n, advice in calls if advice == pages._MADV_POPULATE_WRITE]
    assert populated[0][0] % pages._PAGE == 0
    for (a, n), (b, _) in zip(sorted(populated), sorted(populated)[1:], strict=False):
        assert a + n <= b  # no part twice
    assert (flat[:100_000] == 3).all()
    flat[:] = 9  # every byte writable, the partial pages at both ends included
    assert (flat == 9).all()


def test_prefault_stops_when_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PREPARE_BYTES", 0)
    monkeypatch.setattr(pages, "_madvise", lambda *args: -1)
    monkeypatch.setattr(pages, "_LINUX", True)
    out, prefault = pages.new_prefaulted_array((512, 512), np.dtype("<f8"))
    assert prefault is not None
    prefault.ensure(0, out.nbytes)
    prefault.start()
    prefault.stop()
    out[:] = 2.5
    assert (out == 2.5).all()


def test_read_area_into_a_prefaulted_array(ee_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ensured: list[tuple[int, int]] = []
    original = pages.Prefault.ensure

    def recording(self: pages.Prefault, offset: int, length: int) -> None:
        ensured.append((offset, length))
        original(self, offset, length)

    monkeypatch.setattr(pages, "PREPARE_BYTES", 0)
    monkeypatch.setattr(pages.Prefault, "ensure", recording)
    grid = PixelGrid(120, 90, (10.0, 0.0, 533100.0, 0.0, -10.0, 5311900.0), "EPSG:32633")
    got = ee_client.read_area(SCENE, grid=grid, max_tile_bytes=3000, block_size=16)
    assert got.flags.owndata and same(got, one_request(ee_client, SCENE, grid, None))
    if sys.platform.startswith("linux") and pages._madvise:
        assert ensured and all(offset >= 0 and offset + length <= got.nbytes for offset, length in ensured)
