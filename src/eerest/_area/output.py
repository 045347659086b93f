"""Opening the output of a read (``out=``), and the resume journal beside a file output.

A file is written as ``NAME.partial`` and renamed to ``NAME`` only when complete. With
``resume=True``, ``NAME.partial.resume`` records the read's fingerprint, the partial file's
size and a CRC-32 of its header, then each finished tile with a CRC-32 of its pixels as the
file holds them (one JSON line each). A rerun of the same read checks the file's size and
header (a partial that was truncated, extended or rewritten is a :class:`ResumeError`,
before anything is fetched) and each kept tile's checksum (or a random sample of them,
``resume=0.1``: a tenth), fetching again the tiles that do not match; any other read starts
the file afresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import threading
from typing import Any

import numpy as np

from eerest._area.job import AreaJob
from eerest._area.sinks import ArraySink, NpyFileSink, Sink, TiffFileSink
from eerest._formats.geotiff_write import create_geotiff, read_layout, tiff_dtype
from eerest.errors import InvalidRequestError, ResumeError
from eerest.tiling import Tile, Window

__all__ = ["AreaOutput", "open_output"]

PARTIAL = ".partial"
RESUME = ".resume"
JOURNAL_VERSION = 2

log = logging.getLogger("eerest")


def _tile_key(tile: Tile) -> list[int]:
    w = tile.window
    return [w.col_off, w.row_off, w.width, w.height, tile.bands[0], tile.bands[-1]]


class _ResumeLog:
    """Appends one line per finished tile (its key and checksum); the first line is the
    read's fingerprint and the partial file's size and header checksum."""

    def __init__(self, path: str, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._file: Any = None
        self.head: dict[str, Any] = {}

    def load(self) -> dict[tuple[int, ...], int] | None:
        """The finished tiles (key -> checksum) of an earlier run of the same read, or None."""
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeError):
            return None
        try:
            head = json.loads(lines[0]) if lines else None
            if (
                not isinstance(head, dict)
                or head.get("fingerprint") != self.fingerprint
                or head.get("journal") != JOURNAL_VERSION
            ):
                return None
            done: dict[tuple[int, ...], int] = {}
            for line in lines[1:]:
                if not line.endswith("]"):  # torn by a crash mid-write
                    continue
                entry = json.loads(line)
                if isinstance(entry, list) and len(entry) == 7 and all(isinstance(v, int) for v in entry):
                    done[tuple(entry[:6])] = entry[6]
            self.head = head
            return done
        except (ValueError, AttributeError, TypeError):
            return None

    def start(self, fresh: bool, size: int, frame: int) -> None:
        self._file = open(self.path, "w" if fresh else "a", encoding="utf-8")  # noqa: SIM115 - kept open
        if fresh:
            head = {"fingerprint": self.fingerprint, "journal": JOURNAL_VERSION, "size": size, "frame": frame}
            self._file.write(json.dumps(head) + "\n")
            self._file.flush()

    def record(self, tile: Tile, checksum: int) -> None:
        with self._lock:
            self._file.write(json.dumps([*_tile_key(tile), checksum]) + "\n")
            self._file.flush()

    def close(self, remove: bool) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)


class AreaOutput:
    """The sink plus what happens to the file at the end (rename, or cleanup)."""

    def __init__(
        self, sink: Sink, done: set[tuple[int, ...]], log: _ResumeLog | None, tmp_path: str | None, area: Window
    ):
        """``done``: the tiles a resumed read keeps (checked already)."""
        self.sink = sink
        self._area = area
        self.done = done
        self._log = log
        self._tmp_path = tmp_path

    def is_done(self, tile: Tile) -> bool:
        return tuple(_tile_key(tile)) in self.done

    def tile_written(self, tile: Tile) -> None:
        if self._log is not None:
            sink = self.sink
            assert isinstance(sink, (NpyFileSink, TiffFileSink))
            self._log.record(tile, sink.digest(tile.window.relative_to(self._area), tile.bands))

    def finish(self) -> Any:
        result = self.sink.finish()
        if self._log is not None:
            self._log.close(remove=True)
        return result

    def abort(self) -> None:
        """After a failure: a resumable file stays for the rerun; any other is removed."""
        self.sink.abort()
        if self._log is not None:
            self._log.close(remove=False)
        elif self._tmp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._tmp_path)


def _file_kind(path: str) -> str:
    lower = path.lower()
    if lower.endswith((".tif", ".tiff")):
        return "tif"
    if lower.endswith(".npy"):
        return "npy"
    raise InvalidRequestError(f"out={path!r}: write a GeoTIFF (.tif, .tiff) or an NPY file (.npy)")


def _sample(resume: bool | float) -> float:
    """The share of kept tiles a resumed read checks (1.0: all)."""
    if isinstance(resume, bool):
        return 1.0
    if not isinstance(resume, (int, float)) or not 0 < resume <= 1:
        raise InvalidRequestError(
            f"resume must be True, False or the share of kept tiles to check (0 < resume <= 1), not {resume!r}"
        )
    return float(resume)


def _untrusted(path: str, tmp: str, what: str) -> ResumeError:
    return ResumeError(
        f"out={path!r}: cannot resume: the partial file {tmp} {what}, so the tiles it holds cannot be trusted; "
        f"delete it and {tmp}{RESUME}, or pass resume=False, to read the area afresh",
        path=tmp,
    )


def _verify(job: AreaJob, sink: NpyFileSink | TiffFileSink, kept: dict[tuple[int, ...], int], share: float) -> set[tuple[int, ...]]:
    """The kept tiles whose pixels in the file still match their checksums (all, or a random
    ``share`` of them checked); the others are fetched again."""
    tiles = [t for t in job.plan.tiles if tuple(_tile_key(t)) in kept]
    checked = tiles if share >= 1.0 else random.sample(tiles, max(1, round(len(tiles) * share)) if tiles else 0)
    bad: set[tuple[int, ...]] = set()
    for tile in checked:
        key = tuple(_tile_key(tile))
        if sink.digest(tile.window.relative_to(job.area), tile.bands) != kept[key]:
            bad.add(key)
    if bad:
        log.warning(
            "read_area: %d of %d checked tiles of %s differ from what was written; fetching them again",
            len(bad),
            len(checked),
            sink.tmp_path,
        )
    return {tuple(_tile_key(t)) for t in tiles} - bad


def open_output(job: AreaJob, out: Any, resume: bool | float) -> AreaOutput:
    """The output ``out`` names, ready for writing; raises before anything is fetched."""
    area = job.area
    if out is None or isinstance(out, np.ndarray):
        if resume:
            raise InvalidRequestError("resume=True needs a file output: out='area.tif' or out='area.npy'")
        return AreaOutput(ArraySink(job.dtype, area.height, area.width, out), set(), None, None, area)
    if not isinstance(out, (str, os.PathLike)):
        raise InvalidRequestError(f"out must be None, a numpy array or a file path, not {type(out).__name__}")
    share = _sample(resume) if resume else 0.0
    path = os.fspath(out)
    kind = _file_kind(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidRequestError(f"out={path!r}: the folder {folder} does not exist")
    tmp = path + PARTIAL
    dtypes = [job.dtype.fields[n][0] for n in job.names]  # type: ignore[index]
    file_dtype = tiff_dtype(dtypes) if kind == "tif" else job.dtype
    grid = job.plan.grid.window(area)
    output = {"format": kind, "block": job.plan.block_size, "dtype": np.lib.format.dtype_to_descr(file_dtype)}
    journal = _ResumeLog(tmp + RESUME, job.fingerprint(output)) if resume else None
    kept = journal.load() if journal is not None and os.path.lexists(tmp) else None
    sink: NpyFileSink | TiffFileSink
    try:
        if kept is None:
            if kind == "tif":
                sink = TiffFileSink(job.dtype, create_geotiff(tmp, grid, len(dtypes), file_dtype, job.plan.block_size), path, tmp)
            else:
                sink = NpyFileSink(job.dtype, area.height, area.width, path, tmp, create=True)
        else:
            assert journal is not None
            sink = _reopen(job, kind, path, tmp, journal, grid, len(dtypes), file_dtype)
    except OSError as exc:
        raise InvalidRequestError(f"out={path!r}: cannot write {tmp}: {exc.strerror or exc}") from None
    done: set[tuple[int, ...]] = set()
    try:
        if kept is not None:
            done = _verify(job, sink, kept, share)
        if journal is not None:
            journal.start(kept is None, sink.size(), sink.frame_digest())
    except OSError as exc:
        sink.abort()
        raise _untrusted(path, tmp, f"cannot be read ({exc.strerror or exc})") from None
    return AreaOutput(sink, done, journal, tmp, area)


def _reopen(
    job: AreaJob, kind: str, path: str, tmp: str, journal: _ResumeLog, grid: Any, bands: int, file_dtype: Any
) -> NpyFileSink | TiffFileSink:
    """The partial file of an interrupted run, checked against its journal (size, header)."""
    area = job.area
    try:
        size = os.stat(tmp).st_size
    except OSError as exc:
        raise _untrusted(path, tmp, f"cannot be read ({exc.strerror or exc})") from None
    expected = journal.head.get("size")
    if size != expected:
        change = "truncated" if isinstance(expected, int) and size < expected else "extended"
        raise _untrusted(path, tmp, f"is {size} bytes where the journal expects {expected} (it was {change})")
    sink: NpyFileSink | TiffFileSink
    try:
        if kind == "tif":
            layout = read_layout(tmp, grid, bands, file_dtype, job.plan.block_size)
            sink = TiffFileSink(job.dtype, layout, path, tmp)
        else:
            sink = NpyFileSink(job.dtype, area.height, area.width, path, tmp, create=False)
    except Exception as exc:  # tifffile: anything, for a damaged header
        raise _untrusted(path, tmp, f"has a header that cannot be read ({type(exc).__name__})") from None
    try:
        same = sink.frame_digest() == journal.head.get("frame")
    except OSError as exc:
        sink.abort()
        raise _untrusted(path, tmp, f"cannot be read ({exc.strerror or exc})") from None
    if not same:
        sink.abort()
        raise _untrusted(path, tmp, "has a header other than the one written")
    return sink
