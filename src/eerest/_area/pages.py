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
from typing import Any

import numpy as np

__all__ = ["PREPARE_BYTES", "new_array"]

#: Arrays smaller than this are left as numpy allocates them (well above glibc's largest
#: ``mmap`` threshold, 32 MiB, so a prepared array always has a mapping of its own).
PREPARE_BYTES = 64 << 20
_SLICE = 64 << 20  # pages populated per call
_PAGE = mmap.PAGESIZE
_MADV_NOHUGEPAGE = 15
_MADV_POPULATE_WRITE = 23

_LINUX = sys.platform.startswith("linux")
_libc: Any = None


def _function(name: str, argtypes: list[Any]) -> Any:
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
    global _madvise
    out = np.empty(shape, dtype=dtype)
    if out.nbytes < PREPARE_BYTES or not _LINUX:
        return out
    if _madvise is None:
        _madvise = _function("madvise", [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]) or False
    if not _madvise:
        return out
    address = out.ctypes.data
    start = -(-address // _PAGE) * _PAGE  # the whole pages inside the array
    end = (address + out.nbytes) // _PAGE * _PAGE
    _madvise(start, end - start, _MADV_NOHUGEPAGE)
    for at in range(start, end, _SLICE):
        if _madvise(at, min(_SLICE, end - at), _MADV_POPULATE_WRITE) != 0:
            break  # refused (EINVAL before Linux 5.14, ...): the rest come on first touch
    return out
