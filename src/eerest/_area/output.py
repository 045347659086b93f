"""Opening the output of a read (``out=``), and the resume log beside a file output.

A file is written as ``NAME.partial`` and renamed to ``NAME`` only when complete. With
``resume=True``, ``NAME.partial.resume`` records the plan's fingerprint and each finished
tile (one JSON line each); a rerun of the same read skips those tiles, and any other read
starts the file afresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from eerest._area.files import CogSink, cog_spec, is_legacy_tif, mask_path, tif_nodata
from eerest._area.job import AreaJob
from eerest._area.masked import MaskedSink, mask_dtype
from eerest._area.sinks import ArraySink, NpyFileSink, Sink, TiffFileSink
from eerest._formats.geotiff_write import create_geotiff, read_layout, tiff_dtype
from eerest.errors import InvalidRequestError
from eerest.tiling import Tile

__all__ = ["AreaOutput", "open_output"]

PARTIAL = ".partial"
RESUME = ".resume"


def _tile_key(tile: Tile) -> list[int]:
    w = tile.window
    return [w.col_off, w.row_off, w.width, w.height, tile.bands[0], tile.bands[-1]]


class _ResumeLog:
    """Appends one line per finished tile; the first line is the read's fingerprint."""

    def __init__(self, path: str, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._file: Any = None

    def load(self) -> set[tuple[int, ...]] | None:
        """The finished tiles of an earlier run of the same read, or None."""
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        try:
            if not lines or json.loads(lines[0]).get("fingerprint") != self.fingerprint:
                return None
            return {tuple(json.loads(line)) for line in lines[1:] if line.endswith("]")}
        except (ValueError, AttributeError, TypeError):
            return None

    def start(self, fresh: bool) -> None:
        self._file = open(self.path, "w" if fresh else "a", encoding="utf-8")  # noqa: SIM115 - kept open
        if fresh:
            self._file.write(json.dumps({"fingerprint": self.fingerprint}) + "\n")
            self._file.flush()

    def record(self, tile: Tile) -> None:
        with self._lock:
            self._file.write(json.dumps(_tile_key(tile)) + "\n")
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

    def __init__(self, sink: Sink, done: set[tuple[int, ...]], log: _ResumeLog | None, tmp_path: str | None):
        self.sink = sink
        self.done = done
        self._log = log
        self._tmp_path = tmp_path

    def is_done(self, tile: Tile) -> bool:
        return tuple(_tile_key(tile)) in self.done

    def tile_written(self, tile: Tile) -> None:
        if self._log is not None:
            self._log.record(tile)

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
    if lower.rstrip("/\\").endswith(".zarr"):
        return "zarr"
    raise InvalidRequestError(f"out={path!r}: write a GeoTIFF (.tif, .tiff), an NPY file (.npy) or a Zarr store (.zarr)")


def _array_output(job: AreaJob, out: np.ndarray | None) -> AreaOutput:
    area = job.area
    sink: Sink = ArraySink(job.data_dtype, area.height, area.width, out)
    if job.masked:
        target = sink.out  # type: ignore[attr-defined]
        shape = target.shape if target.dtype.names is None else None
        masks = np.zeros(shape, np.bool_) if shape is not None else np.zeros(target.shape, mask_dtype(job.band_names))
        sink = MaskedSink(job.dtype, sink, ArraySink(mask_dtype(job.band_names), area.height, area.width, masks))
    return AreaOutput(sink, set(), None, None)


def open_output(job: AreaJob, out: Any, resume: bool, options: Mapping[str, Any] | None = None) -> AreaOutput:
    """The output ``out`` names, ready for writing; raises before anything is fetched.
    ``options``: the file format's own (see :mod:`eerest._area.files`)."""
    area = job.area
    if out is None or isinstance(out, np.ndarray):
        if resume:
            raise InvalidRequestError("resume=True needs a file output: out='area.tif' or out='area.npy'")
        return _array_output(job, out)
    if not isinstance(out, (str, os.PathLike)):
        raise InvalidRequestError(f"out must be None, a numpy array or a file path, not {type(out).__name__}")
    path = os.fspath(out).rstrip("/\\")
    kind = _file_kind(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidRequestError(f"out={path!r}: the folder {folder} does not exist")
    tmp = path + PARTIAL
    options = dict(options or {"compress": "none"})
    names = list(job.band_names)
    dtypes = [job.dtype.fields[n][0] for n in names]  # type: ignore[index]
    file_dtype = tiff_dtype(dtypes) if kind == "tif" else job.data_dtype
    grid = job.plan.grid.window(area)
    cog = kind == "tif" and not is_legacy_tif(options, job.masked)
    output = {"format": kind, "block": job.plan.block_size, "dtype": np.lib.format.dtype_to_descr(file_dtype)}
    if cog:
        spec = cog_spec(
            grid, len(dtypes), file_dtype, job.plan.block_size, options, tif_nodata(job.fills), job.masked, names
        )
        output.update(format="cog", compress=spec.compress, overviews=spec.levels, mask=spec.mask)
    if kind == "zarr":
        chunks = (job.plan.tile_height, job.plan.tile_width)
        output.update(chunks=list(chunks), mask=job.masked, fills=dict(job.fills or {}))
    log = _ResumeLog(tmp + RESUME, job.fingerprint(output)) if resume else None
    done = log.load() if log is not None and os.path.exists(tmp) else None
    fresh = done is None
    sink: Sink
    if kind == "zarr":
        return _zarr_output(job, path, tmp, chunks, fresh, done, log)
    if cog:
        cog_sink = CogSink(job.data_dtype, spec, path, tmp, resume=resume, reuse=not fresh)
        sink = MaskedSink(job.dtype, cog_sink, cog_sink.mask_sink(), result="path") if job.masked else cog_sink
    elif kind == "tif":
        nodata = tif_nodata(job.fills)
        if not fresh:
            try:
                layout = read_layout(tmp, grid, len(dtypes), file_dtype, job.plan.block_size)
            except Exception:  # not ours, damaged, or unreadable: start afresh
                fresh, done = True, None
        if fresh:
            layout = create_geotiff(
                tmp, grid, len(dtypes), file_dtype, job.plan.block_size, nodata=nodata, descriptions=names
            )
        sink = TiffFileSink(job.data_dtype, layout, path, tmp)
    else:
        sink = NpyFileSink(job.data_dtype, area.height, area.width, path, tmp, create=fresh)
        if job.masked:
            mpath = mask_path(path)
            masks = _MaskNpySink(mask_dtype(names), area.height, area.width, mpath, mpath + PARTIAL, fresh, resume)
            sink = MaskedSink(job.dtype, sink, masks, result="path")
    if log is not None:
        log.start(fresh)
    return AreaOutput(sink, done or set(), log, tmp)


def _zarr_output(
    job: AreaJob,
    path: str,
    tmp: str,
    chunks: tuple[int, int],
    fresh: bool,
    done: set[tuple[int, ...]] | None,
    log: _ResumeLog | None,
) -> AreaOutput:
    from eerest._area.zarr_sink import ZarrSink, create_zarr

    area, names = job.area, list(job.band_names)
    mask_names = [f"{n}_mask" for n in names] if job.masked else None
    if fresh:
        shutil.rmtree(tmp, ignore_errors=True)
        create_zarr(tmp, job.plan.grid.window(area), job.data_dtype, chunks, job.fills, mask_names)
    keep = log is not None
    sink: Sink = ZarrSink(job.data_dtype, area.height, area.width, path, tmp, chunks, keep=keep)
    if mask_names is not None:
        masks = ZarrSink(mask_dtype(mask_names), area.height, area.width, path, tmp, chunks, keep=keep, owner=False)
        sink = MaskedSink(job.dtype, sink, masks, result="path")
    if log is not None:
        log.start(fresh)
    return AreaOutput(sink, done or set(), log, None)


class _MaskNpySink(NpyFileSink):
    """The ``x.mask.npy`` beside ``x.npy``: removed on failure unless the read resumes."""

    def __init__(
        self, dtype: np.dtype[Any], height: int, width: int, path: str, tmp: str, fresh: bool, resume: bool
    ) -> None:
        super().__init__(dtype, height, width, path, tmp, create=fresh or not os.path.exists(tmp))
        self._keep = resume

    def abort(self) -> None:
        super().abort()
        if not self._keep:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.tmp_path)
