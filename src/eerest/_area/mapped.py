"""A file's tile windows written through a shared mapping of the file (Linux).

An NPY file written row by row with ``pwrite`` costs a copy into a buffer and a copy into
the page cache per byte, and every ``pwrite`` takes the file's inode lock: with 16 workers
writing rows of 8 KiB, the kernel spent a fifth of the read spinning on that lock (perf,
benchmarks/bench_area.py). Mapped, a tile's bytes are received from the socket straight into
the file's pages (one copy, no lock). Only the tile in flight is mapped, from its first row
to its last, and unmapped when it is complete, so the process still holds only the tiles in
flight. The file's blocks are reserved first (``fallocate``): a full disk is an error before
the read starts, never a SIGBUS while a mapped page is written. Where ``fallocate`` is
refused (another OS, a file system without it), the file is written with ``pwrite`` as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import mmap
import os
from typing import Any

import numpy as np

from eerest._area.pages import libc_function
from eerest._area.receive import views_of_runs

__all__ = ["MappedWindow", "reserve", "start_writeback"]

_C_OFF = ctypes.c_int64
_fallocate: Any = None
_sync_file_range: Any = None
_SYNC_FILE_RANGE_WRITE = 2


def _libc64(name: str, argtypes: list[Any]) -> Any:
    """libc's ``name``, or False: in a 32-bit process neither the 64-bit ``off_t`` these take
    nor the address space for mapping large files is there."""
    return (ctypes.sizeof(ctypes.c_void_p) == 8 and libc_function(name, argtypes)) or False


def reserve(fd: int, offset: int, length: int) -> bool:
    """Allocate the file's blocks for ``offset .. offset + length`` (what they hold is kept);
    False where that is not possible here (the file is then written with ``pwrite``). A full
    disk raises ``OSError(ENOSPC)``."""
    global _fallocate
    if _fallocate is None:
        _fallocate = _libc64("fallocate", [ctypes.c_int, ctypes.c_int, _C_OFF, _C_OFF])
    if not _fallocate or length <= 0:
        return False
    if _fallocate(fd, 0, offset, length) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        raise OSError(code, f"{os.strerror(code)}: the output needs {length} bytes")
    return False  # EOPNOTSUPP, ...: no reservation, no mapping


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing ``offset .. offset + length`` of the file to disk now,
    without waiting (Linux's ``sync_file_range``; elsewhere nothing): the ``fsync`` that
    ends the read then waits only for the rest. A hint: errors surface at that ``fsync``."""
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = _libc64("sync_file_range", [ctypes.c_int, _C_OFF, _C_OFF, ctypes.c_uint])
    if _sync_file_range:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


class MappedWindow:
    """One tile's window of a file, mapped: ``runs`` are the window's (file offset, length)
    runs in its C order (one per row, or one for whole rows), ``row_stride`` the file's row
    length in bytes. ``rows`` is the window as a (rows, row bytes) uint8 array, ``targets()``
    its runs as views; :meth:`close` unmaps it."""

    def __init__(self, fd: int, runs: list[tuple[int, int]], row_stride: int) -> None:
        first, row = runs[0]
        end = runs[-1][0] + runs[-1][1]
        start = first - first % mmap.ALLOCATIONGRANULARITY
        self._map: mmap.mmap | None = mmap.mmap(fd, end - start, offset=start)
        self._runs = [(offset - start, length) for offset, length in runs]
        flat = np.frombuffer(self._map, np.uint8)[first - start :]
        self.rows: np.ndarray = np.lib.stride_tricks.as_strided(
            flat, shape=(len(runs), row), strides=(row_stride, 1), writeable=True
        )

    def targets(self) -> list[memoryview]:
        assert self._map is not None, "the window is closed"
        return views_of_runs(memoryview(self._map), self._runs)

    def close(self) -> None:
        del self.rows
        if self._map is not None:
            mapping, self._map = self._map, None
            with contextlib.suppress(BufferError):  # a view is still held: unmapped when it goes
                mapping.close()
