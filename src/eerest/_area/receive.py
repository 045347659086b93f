"""Receiving one tile's NPY body as it streams in: the header is parsed from the first
bytes and checked against what was asked for, then every data byte goes straight to its
place in the output through a :class:`TileWriter` (pure, no network I/O)."""

from __future__ import annotations

import ast
import math
import threading
from typing import Any, Protocol

import numpy as np

from eerest._overlays.npy import MAX_HEADER_BYTES, NPY_MAGIC, DecodeProblem, _descr_to_dtype

__all__ = ["TileWriter", "TileReceiver", "read_npy_prefix"]

# CPython before 3.12 can fail ast parsing in concurrent threads ("AST constructor
# recursion depth mismatch", python/cpython#106905): parse one header at a time.
_AST_LOCK = threading.Lock()


class TileWriter(Protocol):
    """Where one tile's data goes: ``write(pos, data)`` with ``pos`` the byte offset in
    the tile's C-order data, ``close()`` once every byte has arrived."""

    def write(self, pos: int, data: memoryview) -> None: ...

    def close(self) -> None: ...


def read_npy_prefix(buf: bytes | bytearray) -> tuple[np.dtype[Any], tuple[int, ...], bool, int] | None:
    """(dtype, shape, fortran_order, data offset) of an NPY body's header, or ``None`` if
    ``buf`` does not hold the whole header yet. Raises :class:`DecodeProblem`."""
    n = len(buf)
    if n >= 6 and bytes(buf[:6]) != NPY_MAGIC:
        raise DecodeProblem(f"the body does not start with the NPY magic \\x93NUMPY (it starts {bytes(buf[:16])!r})")
    if n < 8:
        return None
    version = (buf[6], buf[7])
    if version == (1, 0):
        size_bytes, encoding = 2, "latin1"
    elif version in ((2, 0), (3, 0)):
        size_bytes, encoding = 4, "latin1" if version == (2, 0) else "utf8"
    else:
        raise DecodeProblem(f"unsupported NPY format version {version[0]}.{version[1]} (known: 1.0, 2.0, 3.0)")
    start = 8 + size_bytes
    if n < start:
        return None
    header_len = int.from_bytes(buf[8:start], "little")
    if header_len > MAX_HEADER_BYTES:
        raise DecodeProblem(f"the NPY header claims {header_len} bytes; more than {MAX_HEADER_BYTES} is not plausible")
    end = start + header_len
    if n < end:
        return None
    try:
        text = bytes(buf[start:end]).decode(encoding)
        with _AST_LOCK:
            header = ast.literal_eval(text)
    except (UnicodeDecodeError, ValueError, SyntaxError, RecursionError, MemoryError, TypeError) as exc:
        raise DecodeProblem(f"the NPY header is not a Python dict literal ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise DecodeProblem("the NPY header must have exactly the keys descr, fortran_order, shape")
    shape, fortran = header["shape"], header["fortran_order"]
    if not isinstance(shape, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in shape):
        raise DecodeProblem(f"the NPY header's shape {shape!r} is not a tuple of non-negative integers")
    return _descr_to_dtype(header["descr"]), shape, bool(fortran), end


def _describe(dtype: np.dtype[Any]) -> str:
    return str(np.lib.format.dtype_to_descr(dtype))


class TileReceiver:
    """Feed it a tile's body chunk by chunk: it checks the NPY header against the expected
    dtype and (height, width), then passes data bytes to ``writer`` at their offsets.
    Every problem is a :class:`DecodeProblem` naming the difference."""

    def __init__(self, dtype: np.dtype[Any], shape: tuple[int, int], writer: TileWriter) -> None:
        self.dtype = dtype
        self.shape = shape
        self.expected = math.prod(shape) * dtype.itemsize
        self._writer = writer
        self._head = bytearray()
        self._header_done = False
        self.received = 0  # data bytes, after the header

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        view = memoryview(chunk)
        if not self._header_done:
            self._head += view
            parsed = read_npy_prefix(self._head)
            if parsed is None:
                return
            self._check(*parsed)
            self._header_done = True
            view = memoryview(self._head)[parsed[3] :]
        if not len(view):
            return
        end = self.received + len(view)
        if end > self.expected:
            raise DecodeProblem(
                f"the body holds more than the {self.expected} data bytes its NPY header announces; "
                "refusing data that disagrees with its header"
            )
        self._writer.write(self.received, view)
        self.received = end
        if self._head:
            self._head = bytearray()

    def _check(self, dtype: np.dtype[Any], shape: tuple[int, ...], fortran: bool, offset: int) -> None:
        problems = []
        if shape != self.shape:
            problems.append(f"shape {shape} instead of {self.shape} (height, width)")
        if dtype != self.dtype:
            problems.append(f"dtype {_describe(dtype)} instead of {_describe(self.dtype)}")
        if fortran and len(shape) > 1 and min(shape) > 1:
            problems.append("Fortran order instead of C order")
        if problems:
            raise DecodeProblem("the NPY header does not match the request: " + "; ".join(problems))

    def finish(self) -> None:
        """The body ended: it must have held exactly the announced data."""
        if not self._header_done:
            raise DecodeProblem(f"the body ended inside the NPY header ({len(self._head)} bytes)")
        if self.received != self.expected:
            raise DecodeProblem(
                f"the body ended after {self.received} of {self.expected} data bytes; the data is incomplete"
            )
        self._writer.close()
