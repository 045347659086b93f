"""A new output array whose pages the kernel makes ready before the tiles arrive (Linux;
elsewhere, or where refused, an ordinary ``numpy.empty``).

A fresh numpy array's memory is not there until first written: each page is faulted in, and
zeroed, by the copy that first writes it (here the kernel's copy of a tile from its socket).
numpy asks for transparent huge pages for large arrays (``MADV_HUGEPAGE``); where the kernel
then compacts memory synchronously to find them (the common ``defrag=madvise``), and in
virtual machines whose host backs guest memory lazily, those first touches took 0.1-15.8 s
per GiB on the development machine (median 1.0 s) and dominated a read into memory. For an
array of at least :data:`PREPARE_BYTES`, :func:`new_array` asks for normal pages instead
(``MADV_NOHUGEPAGE``) and has the kernel fault them all in at once (``MADV_POPULATE_WRITE``,
Linux 5.14; median 0.44 s per GiB there) before the first tile is requested: the tiles then
land in memory that is already there. Both are hints about memory that stays numpy's own (an
ordinary array, as before) and neither changes what it holds; where either is refused
(another OS, an older kernel), the pages arrive on first touch, as before.
See docs/performance.md (read_area) for the variants measured.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import sys
import threading
from typing import Any

import numpy as np

__all__ = ["PREPARE_BYTES", "Prefault", "libc_function", "new_array", "new_prefaulted_array"]

#: Arrays smaller than this are left as numpy allocates them (well above glibc's largest
#: ``mmap`` threshold, 32 MiB, so a prepared array always has a mapping of its own).
PREPARE_BYTES = 64 << 20
_SLICE = 64 << 20  # pages populated per call
_PART = 2 << 20  # what Prefault claims at a time
_RUN_PARTS = 4  # parts its thread populates per call (fewer trips through the GIL)
_PAGE = mmap.PAGESIZE
_MADV_NOHUGEPAGE = 15
_MADV_POPULATE_WRITE = 23

_LINUX = sys.platform.startswith("linux")
_libc: Any = None


def libc_function(name: str, argtypes: list[Any]) -> Any:
    """libc's ``name`` (None where there is none): ctypes releases the GIL while it runs."""
    global _libc
    if not _LINUX:
        return None
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = getattr(_libc, name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = argtypes
    fn.restype = ctypes.c_int
    return fn


_madvise: Any = None


def new_array(shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
    """``numpy.empty(shape, dtype)``; when large, its pages made ready (see the module)."""
    out, start, end = _hinted(shape, dtype)
    for at in range(start, end, _SLICE):
        if _madvise(at, min(_SLICE, end - at), _MADV_POPULATE_WRITE) != 0:
            break  # refused (EINVAL before Linux 5.14, ...): the rest come on first touch
    return out


def _hinted(shape: tuple[int, ...], dtype: np.dtype[Any]) -> tuple[np.ndarray, int, int]:
    """``numpy.empty`` and, when large, the range of its whole pages, asked for as normal
    pages (``MADV_NOHUGEPAGE``); an empty range (0, 0) where that does not apply."""
    global _madvise
    out = np.empty(shape, dtype=dtype)
    if out.nbytes < PREPARE_BYTES or not _LINUX:
        return out, 0, 0
    if _madvise is None:
        _madvise = libc_function("madvise", [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]) or False
    if not _madvise:
        return out, 0, 0
    address = out.ctypes.data
    start = -(-address // _PAGE) * _PAGE  # the whole pages inside the array
    end = (address + out.nbytes) // _PAGE * _PAGE
    _madvise(start, end - start, _MADV_NOHUGEPAGE)
    return out, start, end


class Prefault:
    """The pages of a new array populated (``MADV_POPULATE_WRITE``) while a read goes on,
    rather than all before it: :meth:`ensure` populates the pages of a byte range of the
    array that are not yet (a worker, just before it requests the tile that will fill
    them), and a thread of its own populates the others from the end backwards, meanwhile
    (while the first requests are prepared and sent, and then alongside the workers: each
    part of the array is populated once, by whichever comes first). Populating a page
    never changes what it holds, so the order against the tiles' writes does not matter:
    a page written first is simply skipped. Made by :func:`new_prefaulted_array`."""

    def __init__(self, out: np.ndarray, start: int, end: int) -> None:
        self._out = out  # alive while the thread works on its memory
        self._base = out.ctypes.data
        self._start = start
        self._end = end
        self._claimed = bytearray(-(-(end - start) // _PART))
        self._lock = threading.Lock()
        self._stopped = False
        self._refused = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread populating the array from its end (once)."""
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._run, name="eerest-prefault", daemon=True)
            self._thread.start()

    def _claim(self, first: int, last: int) -> list[tuple[int, int]]:
        """Mark parts ``first..last`` (inclusive) as taken; the runs of them no one had."""
        runs: list[tuple[int, int]] = []
        with self._lock:
            if self._stopped or self._refused:
                return runs
            for i in range(first, last + 1):
                if not self._claimed[i]:
                    self._claimed[i] = 1
                    if runs and runs[-1][1] == i:
                        runs[-1] = (runs[-1][0], i + 1)
                    else:
                        runs.append((i, i + 1))
        return runs

    def _populate(self, runs: list[tuple[int, int]]) -> None:
        for a, b in runs:
            at = self._start + a * _PART
            length = min(self._end, self._start + b * _PART) - at
            if length > 0 and _madvise(at, length, _MADV_POPULATE_WRITE) != 0:
                self._refused = True  # e.g. EINVAL before Linux 5.14: the pages come on first touch
                return

    def ensure(self, offset: int, length: int) -> None:
        """Populate what is not yet of the array's bytes ``offset`` .. ``offset + length``."""
        lo = max(self._base + offset, self._start)
        hi = min(self._base + offset + length, self._end)
        if hi <= lo:
            return
        self._populate(self._claim((lo - self._start) // _PART, (hi - 1 - self._start) // _PART))

    def _run(self) -> None:
        for last in range(len(self._claimed) - 1, -1, -_RUN_PARTS):
            if self._stopped or self._refused:
                return
            self._populate(self._claim(max(0, last - _RUN_PARTS + 1), last))

    def stop(self) -> None:
        """No more populating (the read ended): returns once the thread has."""
        with self._lock:
            self._stopped = True
        if self._thread is not None:
            self._thread.join()


def new_prefaulted_array(shape: tuple[int, ...], dtype: np.dtype[Any]) -> tuple[np.ndarray, Prefault | None]:
    """``numpy.empty(shape, dtype)`` asking for normal pages, as :func:`new_array`, and, when
    large, its :class:`Prefault` (not started), which populates them during the read
    instead of before it (``None``: the pages come on first touch)."""
    out, start, end = _hinted(shape, dtype)
    if end <= start:
        return out, None
    return out, Prefault(out, start, end)
