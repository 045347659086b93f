"""Where a large area's pixels go: a numpy array, an NPY file or a tiled GeoTIFF.

Each sink hands out one :class:`~eerest._area.receive.TileWriter` per tile. When a tile's
records have the output's exact layout in memory, its bytes are received straight into
place (``targets``) or copied there as they arrive (one copy); otherwise (a band group of
more than 1024 bands, another dtype, a GeoTIFF's band planes) whole rows are converted as
they complete. Files are written at computed offsets, through a mapping of the tile in
flight only (:mod:`eerest._area.mapped`, NPY) or with ``pwrite``, so a process writing a
file holds only the tiles in flight.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from eerest._area.mapped import MappedWindow, reserve, start_writeback
from eerest._area.pages import Prefault, new_prefaulted_array
from eerest._area.receive import TileWriter, views_of_runs, window_runs
from eerest._formats.geotiff_write import TiffLayout
from eerest.errors import InvalidRequestError
from eerest.tiling import Window

__all__ = ["Sink", "ArraySink", "NpyFileSink", "TiffFileSink", "check_out_array"]

PutRows = Callable[[int, np.ndarray], None]


class _BytesWriter:
    """Copies a tile's bytes into a (height, row bytes) uint8 view of its window, whose
    memory ``targets`` also hands out (the window's runs of the flat output); ``on_close``
    runs once the view is let go."""

    def __init__(
        self, dst: np.ndarray, targets: Callable[[], list[memoryview]], on_close: Callable[[], None] | None = None
    ) -> None:
        self._dst: np.ndarray | None = dst
        self._row = dst.shape[1]
        self._targets = targets
        self._on_close = on_close

    def targets(self) -> list[memoryview]:
        return self._targets()

    def write(self, pos: int, data: memoryview) -> None:
        assert self._dst is not None, "the writer is closed"
        src = np.frombuffer(data, np.uint8)
        dst, rb, n = self._dst, self._row, len(src)
        r, c = divmod(pos, rb)
        i = 0
        if c:
            k = min(rb - c, n)
            dst[r, c : c + k] = src[:k]
            i, r = k, r + 1
        full = (n - i) // rb
        if full:
            dst[r : r + full] = src[i : i + full * rb].reshape(full, rb)
            i, r = i + full * rb, r + full
        if i < n:
            dst[r, : n - i] = src[i:]

    def close(self) -> None:
        self._dst = None
        if self._on_close is not None:
            self._on_close()


class _RowsWriter:
    """Hands complete rows of records (n, width) to ``put_rows(first_row, rows)``,
    carrying a partial row over to the next chunk."""

    def __init__(self, dtype: np.dtype[Any], width: int, put_rows: PutRows, on_close: Callable[[], None] | None = None):
        self._dtype = dtype
        self._width = width
        self._row = width * dtype.itemsize
        self._put = put_rows
        self._carry = bytearray()
        self._on_close = on_close

    def targets(self) -> None:
        return None

    def write(self, pos: int, data: memoryview) -> None:
        start = pos - len(self._carry)  # where the carried bytes begin
        if self._carry:
            need = self._row - len(self._carry)
            self._carry += data[:need]
            data = data[need:]
            if len(self._carry) < self._row:
                return
            self._emit(start // self._row, self._carry)
            self._carry = bytearray()
            start += self._row
        full = len(data) // self._row
        if full:
            self._emit(start // self._row, data[: full * self._row])
        rest = data[full * self._row :]
        if len(rest):
            self._carry = bytearray(rest)

    def _emit(self, row: int, data: bytes | bytearray | memoryview) -> None:
        rows = np.frombuffer(data, self._dtype).reshape(-1, self._width)
        self._put(row, rows)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()


class Sink:
    """Base: ``writer(window, tile_dtype, bands)`` for each tile (``window`` relative to
    the output), ``finish()`` on success, ``abort()`` on failure."""

    def __init__(self, dtype: np.dtype[Any], height: int, width: int) -> None:
        self.dtype = dtype  # the full structured dtype, one field per band
        self.names: tuple[str, ...] = tuple(dtype.names or ())
        self.height = height
        self.width = width

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        raise NotImplementedError

    def prepare(self, window: Window) -> None:
        """Before the tile of ``window`` is requested: get its place ready (a hint only)."""

    def finish(self) -> Any:
        return None

    def abort(self) -> None:
        pass


def check_out_array(out: np.ndarray, dtype: np.dtype[Any], height: int, width: int) -> str:
    """How ``out`` can take the pixels: "exact" (the one-request layout), "fields" (the
    same field names, other types) or "plain" ((height, width, bands) or, for one band,
    (height, width)); InvalidRequestError otherwise, before anything is sent."""
    names = dtype.names or ()
    if not isinstance(out, np.ndarray):
        raise InvalidRequestError(f"out must be None, a file path or a numpy array, not {type(out).__name__}")
    if not out.flags.writeable:
        raise InvalidRequestError("out is a read-only array; pass a writeable one")
    if out.dtype.names is not None:
        if out.shape != (height, width):
            raise InvalidRequestError(f"out has shape {out.shape}; a structured out must be ({height}, {width})")
        if out.dtype == dtype and out.flags.c_contiguous:
            return "exact"
        if out.dtype.names != names:
            raise InvalidRequestError(f"out has fields {out.dtype.names}; the bands are {names}")
        return "fields"
    plain = (height, width, len(names))
    if out.shape != plain and not (len(names) == 1 and out.shape == (height, width)):
        raise InvalidRequestError(f"out has shape {out.shape}; it must be {plain} (or structured ({height}, {width}))")
    if out.dtype.kind not in "biuf":
        raise InvalidRequestError(f"out has dtype {out.dtype}; use a numeric dtype")
    return "plain"


class ArraySink(Sink):
    """Into a numpy array: a new one with the one-request layout, or ``out``."""

    def __init__(self, dtype: np.dtype[Any], height: int, width: int, out: np.ndarray | None = None) -> None:
        super().__init__(dtype, height, width)
        #: a new array's pages, populated during the read (eerest._area.pages)
        self._prefault: Prefault | None = None
        if out is None:
            out, self._prefault = new_prefaulted_array((height, width), dtype)
            if self._prefault is not None:
                self._prefault.start()
        self.mode = check_out_array(out, dtype, height, width)
        self.out = out
        self._flat: memoryview | None = None

    def prepare(self, window: Window) -> None:
        if self._prefault is not None and window.height and window.width:
            size = self.dtype.itemsize
            first = (window.row_off * self.width + window.col_off) * size
            end = ((window.row_off + window.height - 1) * self.width + window.col_off + window.width) * size
            self._prefault.ensure(first, end - first)  # the rows between, too: other tiles' soon

    def _stop_prefault(self) -> None:
        if self._prefault is not None:
            self._prefault.stop()
            self._prefault = None

    def _targets(self, window: Window) -> list[memoryview]:
        if self._flat is None:  # "exact": C-contiguous
            self._flat = self.out.reshape(-1).view(np.uint8).data
        return views_of_runs(self._flat, window_runs(window, self.width, self.dtype.itemsize))

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        region = self.out[window.slices]
        if self.mode == "exact" and tile_dtype == self.dtype:
            return _BytesWriter(region.view(np.uint8), lambda: self._targets(window))
        names = [self.names[b] for b in bands]
        if self.mode == "plain":
            plain = region if region.ndim == 3 else region[..., np.newaxis]

            def put_plain(row: int, rows: np.ndarray) -> None:
                n = len(rows)
                for name, b in zip(names, bands, strict=True):
                    plain[row : row + n, :, b] = rows[name]

            return _RowsWriter(tile_dtype, window.width, put_plain)
        target = region[names] if len(names) < len(self.names) else region

        def put_fields(row: int, rows: np.ndarray) -> None:
            target[row : row + len(rows)] = rows  # structured assignment: by position

        return _RowsWriter(tile_dtype, window.width, put_fields)

    def finish(self) -> np.ndarray:
        self._stop_prefault()
        return self.out

    def abort(self) -> None:
        self._stop_prefault()


_SEEK_LOCK = threading.Lock()  # where os.pwrite is missing (Windows): seek and write under a lock


def _pwrite(fd: int, data: Any, offset: int) -> None:
    view = memoryview(data).cast("B")
    if not hasattr(os, "pwrite"):
        with _SEEK_LOCK:
            os.lseek(fd, offset, os.SEEK_SET)
            while len(view):
                view = view[os.write(fd, view) :]
        return
    while len(view):
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def _pread(fd: int, length: int, offset: int) -> bytes:
    """``length`` bytes at ``offset`` (fewer only at the end of the file)."""
    if not hasattr(os, "pread"):
        with _SEEK_LOCK:
            os.lseek(fd, offset, os.SEEK_SET)
            return os.read(fd, length)
    parts = []
    while length > 0:
        data = os.pread(fd, length, offset)
        if not data:
            break
        parts.append(data)
        length -= len(data)
        offset += len(data)
    return b"".join(parts)


class _FileSink(Sink):
    """A file written under ``tmp_path`` with pwrite; ``finish()`` renames it to ``path``."""

    def __init__(self, dtype: np.dtype[Any], height: int, width: int, path: str, tmp_path: str) -> None:
        super().__init__(dtype, height, width)
        self.path = path
        self.tmp_path = tmp_path
        self.fd = os.open(tmp_path, os.O_RDWR | getattr(os, "O_BINARY", 0))
        self._window_locks: dict[Window, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _lock(self, window: Window) -> threading.Lock:
        with self._locks_lock:
            return self._window_locks.setdefault(window, threading.Lock())

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def frame(self) -> list[tuple[int, int]]:
        """The (offset, length) of the file's bytes that are not pixels (its header)."""
        raise NotImplementedError

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def frame_digest(self) -> int:
        crc = 0
        for offset, length in self.frame():
            crc = zlib.crc32(_pread(self.fd, length, offset), crc)
        return crc

    def digest(self, window: Window, bands: Sequence[int]) -> int:
        """A CRC-32 of the pixels of ``bands`` in ``window`` as the file holds them."""
        raise NotImplementedError

    def finish(self) -> str:
        os.fsync(self.fd)
        self.close()
        os.replace(self.tmp_path, self.path)
        return self.path

    def abort(self) -> None:
        self.close()


class NpyFileSink(_FileSink):
    """An NPY file with the one-request layout (``numpy.load(path, mmap_mode="r")`` reads it)."""

    def __init__(
        self, dtype: np.dtype[Any], height: int, width: int, path: str, tmp_path: str, *, create: bool
    ) -> None:
        if create:
            header_only = np.lib.format.open_memmap(tmp_path, mode="w+", dtype=dtype, shape=(height, width))
            del header_only  # the data stays a hole, filled by pwrite
        super().__init__(dtype, height, width, path, tmp_path)
        size = os.fstat(self.fd).st_size
        data_bytes = height * width * dtype.itemsize
        self.data_offset = size - data_bytes
        try:
            self._mapped = reserve(self.fd, self.data_offset, data_bytes)
        except OSError:
            if create:  # a full disk, said before the read starts
                self.close()
                os.remove(tmp_path)
                raise
            self._mapped = False  # a resumed file: its blocks are mostly there; written with pwrite
        self._band_widths: dict[tuple[int, int], int] = {}  # of mapped tiles, by (row_off, height)

    def _offset(self, row: int, col: int) -> int:
        return self.data_offset + (row * self.width + col) * self.dtype.itemsize

    def _written(self, window: Window) -> None:
        """A mapped tile is complete: once its whole row of tiles is, that part of the file
        starts going to disk (so the final ``fsync`` waits for less)."""
        band = (window.row_off, window.height)
        with self._locks_lock:
            done = self._band_widths[band] = self._band_widths.get(band, 0) + window.width
        if done == self.width:
            start_writeback(self.fd, self._offset(window.row_off, 0), window.height * self.width * self.dtype.itemsize)

    def frame(self) -> list[tuple[int, int]]:
        return [(0, self.data_offset)]

    def digest(self, window: Window, bands: Sequence[int]) -> int:
        item = self.dtype.itemsize
        row = window.width * item
        buf = bytearray(window.height * row)
        if window.width == self.width:
            buf[:] = _pread(self.fd, len(buf), self._offset(window.row_off, 0))
        else:
            for r in range(window.height):
                buf[r * row : (r + 1) * row] = _pread(self.fd, row, self._offset(window.row_off + r, window.col_off))
        if len(bands) == len(self.names):
            return zlib.crc32(buf)
        records = np.frombuffer(buf, self.dtype)
        crc = 0
        for b in bands:
            crc = zlib.crc32(np.ascontiguousarray(records[self.names[b]]).data, crc)
        return crc

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        if tile_dtype == self.dtype:
            if not self._mapped:
                return _NpyBytesWriter(self, window)
            item = self.dtype.itemsize
            runs = [(self.data_offset + at, n) for at, n in window_runs(window, self.width, item)]
            mapped = MappedWindow(self.fd, runs, self.width * item)

            def close() -> None:
                mapped.close()
                self._written(window)

            return _BytesWriter(mapped.rows, mapped.targets, close)
        names = [self.names[b] for b in bands]
        lock = self._lock(window)
        item = self.dtype.itemsize

        def put_rows(row: int, rows: np.ndarray) -> None:
            with lock:  # other band groups of this window write the same bytes
                for i in range(len(rows)):
                    offset = self._offset(window.row_off + row + i, window.col_off)
                    buf = bytearray(os.pread(self.fd, window.width * item, offset))
                    records = np.frombuffer(buf, self.dtype)
                    records[names] = rows[i]
                    _pwrite(self.fd, buf, offset)

        return _RowsWriter(tile_dtype, window.width, put_rows)


class _NpyBytesWriter:
    def __init__(self, sink: NpyFileSink, window: Window) -> None:
        self._sink = sink
        self._window = window
        self._row = window.width * sink.dtype.itemsize
        self._contiguous = window.width == sink.width

    def targets(self) -> None:
        return None

    def write(self, pos: int, data: memoryview) -> None:
        sink, w = self._sink, self._window
        if self._contiguous:
            _pwrite(sink.fd, data, sink._offset(w.row_off, 0) + pos)
            return
        while len(data):
            r, c = divmod(pos, self._row)
            k = min(self._row - c, len(data))
            _pwrite(sink.fd, data[:k], sink._offset(w.row_off + r, w.col_off) + c)
            data, pos = data[k:], pos + k

    def close(self) -> None:
        pass


class TiffFileSink(_FileSink):
    """A tiled GeoTIFF (see :mod:`eerest._formats.geotiff_write`): each tile's pixels are staged in
    the file's type, band by band, then written as whole TIFF tiles where they can be."""

    def __init__(self, dtype: np.dtype[Any], layout: TiffLayout, path: str, tmp_path: str) -> None:
        self.layout = layout
        super().__init__(dtype, layout.height, layout.width, path, tmp_path)

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        names = [self.names[b] for b in bands]
        staging = np.empty((len(bands), window.height, window.width), dtype=self.layout.dtype)  # all filled by flush

        def put_rows(row: int, rows: np.ndarray) -> None:
            n = len(rows)
            for i, name in enumerate(names):
                staging[i, row : row + n] = rows[name]

        def flush() -> None:
            for i, band in enumerate(bands):
                self._write_plane(band, window, staging[i])

        return _RowsWriter(tile_dtype, window.width, put_rows, flush)

    def frame(self) -> list[tuple[int, int]]:
        lay = self.layout
        tile_bytes = lay.tile * lay.tile * lay.dtype.itemsize
        first, end = min(lay.offsets), max(lay.offsets) + tile_bytes
        return [(0, first), (end, max(0, self.size() - end))]

    def digest(self, window: Window, bands: Sequence[int]) -> int:
        lay = self.layout
        item = lay.dtype.itemsize
        crc = 0
        for band in bands:
            for ty in range(window.row_off // lay.tile, (window.row_end - 1) // lay.tile + 1):
                for tx in range(window.col_off // lay.tile, (window.col_end - 1) // lay.tile + 1):
                    y0, x0 = ty * lay.tile, tx * lay.tile
                    r0, r1 = max(y0, window.row_off), min(y0 + lay.tile, window.row_end)
                    c0, c1 = max(x0, window.col_off), min(x0 + lay.tile, window.col_end)
                    first = lay.offset(band, ty, tx) + ((r0 - y0) * lay.tile + (c0 - x0)) * item
                    for k in range(r1 - r0):
                        crc = zlib.crc32(_pread(self.fd, (c1 - c0) * item, first + k * lay.tile * item), crc)
        return crc

    def _write_plane(self, band: int, window: Window, plane: np.ndarray) -> None:
        lay = self.layout
        item = lay.dtype.itemsize
        for ty in range(window.row_off // lay.tile, (window.row_end - 1) // lay.tile + 1):
            for tx in range(window.col_off // lay.tile, (window.col_end - 1) // lay.tile + 1):
                y0, x0 = ty * lay.tile, tx * lay.tile
                r0, r1 = max(y0, window.row_off), min(y0 + lay.tile, window.row_end)
                c0, c1 = max(x0, window.col_off), min(x0 + lay.tile, window.col_end)
                block = plane[r0 - window.row_off : r1 - window.row_off, c0 - window.col_off : c1 - window.col_off]
                first = lay.offset(band, ty, tx) + ((r0 - y0) * lay.tile + (c0 - x0)) * item
                if c0 == x0 and c1 - c0 == lay.tile:  # whole rows of the TIFF tile: one run of the file
                    _pwrite(self.fd, np.ascontiguousarray(block), first)
                    start_writeback(self.fd, first, block.nbytes)  # on to disk now, not all at the fsync
                else:
                    for k, row in enumerate(block):
                        _pwrite(self.fd, row, first + k * lay.tile * item)
