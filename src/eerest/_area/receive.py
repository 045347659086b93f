"""Receiving one tile's NPY body as it streams in: the header is parsed from the first
bytes and checked against what was asked for, then every data byte goes straight to its
place in the output through a :class:`TileWriter`, either fed chunk by chunk or, when the
writer exposes its memory (:meth:`TileWriter.targets`), received into it by the caller.
Also the byte geometry this needs (pure, no network I/O)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from eerest._formats.npy import DecodeProblem, parse_npy_prefix
from eerest.tiling import Window

__all__ = ["TileWriter", "TileReceiver", "window_runs", "views_of_runs", "batches"]


class TileWriter(Protocol):
    """Where one tile's data goes: ``write(pos, data)`` with ``pos`` the byte offset in
    the tile's C-order data, ``close()`` once every byte has arrived. ``targets()``: the
    tile's data, in order, as writable views of its final place, when its bytes can be
    received there as they are (``None``: they are converted on the way, via ``write``)."""

    def write(self, pos: int, data: memoryview) -> None: ...

    def targets(self) -> list[memoryview] | None: ...

    def close(self) -> None: ...


def window_runs(window: Window, width: int, itemsize: int) -> list[tuple[int, int]]:
    """Where a window's records lie in a C-order (rows, ``width``) array of ``itemsize``-byte
    records: ``(byte offset, length)`` runs in the window's own C order, one per row, or a
    single run when the window spans whole rows."""
    row = window.width * itemsize
    first = (window.row_off * width + window.col_off) * itemsize
    if window.width == width:
        return [(first, row * window.height)]
    stride = width * itemsize
    return [(first + r * stride, row) for r in range(window.height)]


def views_of_runs(flat: memoryview, runs: Sequence[tuple[int, int]]) -> list[memoryview]:
    return [flat[offset : offset + length] for offset, length in runs]


def batches(views: Sequence[memoryview], size: int) -> Iterator[list[memoryview]]:
    """``views`` in consecutive groups of about ``size`` bytes (a view longer than ``size``
    is split), so a long read can stop between groups."""
    group: list[memoryview] = []
    held = 0
    for view in views:
        while len(view):
            take = min(len(view), size - held)
            group.append(view[:take])
            held += take
            view = view[take:]
            if held == size:
                yield group
                group, held = [], 0
    if group:
        yield group


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
        self._writer: TileWriter | None = writer
        self._head = bytearray()
        self._header_done = False
        self.received = 0  # data bytes, after the header

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        view = memoryview(chunk)
        if not self._header_done:
            self._head += view
            head = parse_npy_prefix(self._head)
            if head is None:
                return
            self._check(head.dtype, head.shape, head.fortran_order, head.data_offset)
            self._header_done = True
            view = memoryview(self._head)[head.data_offset :]
        if not len(view):
            return
        end = self.received + len(view)
        if end > self.expected:
            raise DecodeProblem(
                f"the body holds more than the {self.expected} data bytes its NPY header announces; "
                "refusing data that disagrees with its header"
            )
        self._live_writer().write(self.received, view)
        self.received = end
        if self._head:
            self._head = bytearray()

    def targets(self) -> list[memoryview] | None:
        """Once the header is checked and before any data: the writer's targets for all of
        the tile's data (see :class:`TileWriter`), to be reported with :meth:`received_into`."""
        if not self._header_done or self.received:
            return None
        return self._live_writer().targets()

    def received_into(self, n: int) -> None:
        """``n`` more data bytes were placed straight into the targets."""
        self.received += n

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
        self._live_writer().close()

    def _live_writer(self) -> TileWriter:
        assert self._writer is not None, "the receiver was left"
        return self._writer

    def __enter__(self) -> TileReceiver:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        """Leaving on an error lets go of the writer unclosed (a mapped window is unmapped
        now, even while the error's traceback lives on)."""
        if kind is not None:
            self._writer = None
