"""NPY outputs written through a mapping of the tile in flight (eerest._area.mapped): the same
bytes as with ``pwrite``, a full disk said before any request, nothing left mapped, and each
finished row of tiles sent on its way to disk before the final fsync."""

from __future__ import annotations

import ctypes
import errno
import sys
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scripted_server import Reply, ScriptedServer

import eerest
from eerest._area import mapped, sinks

from .test_receive_direct import DTYPE, npy, pixels, read_area

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the mapped path is Linux's")

TILES = ((0, 0, 32, 16), (32, 0, 16, 16), (0, 16, 32, 4), (32, 16, 16, 4))  # (col, row, width, height)


def serve_tiles(server: ScriptedServer, whole: np.ndarray) -> None:
    for col, row, w, h in TILES:
        server.reply(body=npy(whole[row : row + h, col : col + w]))


def read(server: ScriptedServer, target: Path, **kw: Any) -> Any:
    return read_area(server.url, 48, 20, out=target, max_tile_bytes=32 * 16 * 8, block_size=16, **kw)


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref[mapped.MappedWindow]]:
    """The windows mapped during the read (weakly: a window kept here would stay mapped)."""
    made: list[weakref.ref[mapped.MappedWindow]] = []

    class Spy(mapped.MappedWindow):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            made.append(weakref.ref(self))

    monkeypatch.setattr(sinks, "MappedWindow", Spy)
    return made


def no_fallocate(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def refuse(*args: Any) -> int:
        ctypes.set_errno(code)
        return -1

    monkeypatch.setattr(mapped, "_fallocate", refuse)


def mapped_paths() -> str:
    return Path("/proc/self/maps").read_text()


@pytest.mark.parametrize("reserved", [True, False])
def test_mapped_and_pwritten_files_hold_the_same_bytes(
    server: ScriptedServer, tmp_path: Path, windows: list[Any], monkeypatch: pytest.MonkeyPatch, reserved: bool
) -> None:
    if not reserved:
        no_fallocate(monkeypatch, errno.EOPNOTSUPP)  # a file system without fallocate: pwrite
    whole = pixels(48, 20)
    serve_tiles(server, whole)
    path = read(server, tmp_path / "a.npy", max_concurrency=1)  # the replies come in order
    assert np.load(path).tobytes() == whole.tobytes()
    assert len(windows) == (4 if reserved else 0)
    assert str(tmp_path) not in mapped_paths()  # every window unmapped


def test_a_full_disk_is_said_before_any_request(
    server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_fallocate(monkeypatch, errno.ENOSPC)
    with pytest.raises(eerest.InvalidRequestError, match="No space left on device: the output needs 5760 bytes"):
        read(server, tmp_path / "a.npy")
    assert server.pixel_requests == [] and list(tmp_path.iterdir()) == []


def test_a_failed_read_leaves_nothing_mapped(server: ScriptedServer, tmp_path: Path, windows: list[Any]) -> None:
    server.default = Reply(npy(pixels(32, 16)), cut_after=400)  # mid-data, retries spent
    with pytest.raises(eerest.ResponseDecodeError, match="connection broke") as caught:
        read(server, tmp_path / "a.npy", max_concurrency=1)
    assert caught.value.__traceback__ is not None  # the error, alive: it holds no mapping
    assert windows and str(tmp_path) not in mapped_paths()
    assert list(tmp_path.iterdir()) == []


def test_each_finished_row_of_tiles_starts_its_writeback(
    server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(sinks, "start_writeback", lambda fd, offset, length: started.append((offset, length)))
    whole = pixels(48, 20)
    serve_tiles(server, whole)
    path = read(server, tmp_path / "a.npy", max_concurrency=1)
    header = Path(path).stat().st_size - whole.nbytes
    row = 48 * DTYPE.itemsize
    assert started == [(header, 16 * row), (header + 16 * row, 4 * row)]  # once per row of tiles, when complete
