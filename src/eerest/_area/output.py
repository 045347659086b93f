"""Opening the output of a read (``out=``), and the resume journal beside a file output.

A file is written as ``NAME.partial`` and renamed to ``NAME`` only when complete. With
``resume=True`` (or a share, ``resume=0.1``), ``NAME.partial.resume`` records the plan's
fingerprint, what can be checked of the partial output as a whole and each finished tile
with a checksum (:mod:`eerest._area.resume`); a rerun of the same read checks them, keeps the
tiles that match and fetches the others, and any other read starts the file afresh.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from typing import Any

import numpy as np

from eerest._area.files import CogSink, cog_spec, is_legacy_tif, mask_path, tif_nodata
from eerest._area.job import AreaJob
from eerest._area.masked import MaskedSink, mask_dtype
from eerest._area.resume import (
    RESUME,
    Checker,
    CogChecker,
    FileChecker,
    Journal,
    Key,
    ZarrChecker,
    resume_share,
    tile_key,
    untrusted,
)
from eerest._area.sinks import ArraySink, NpyFileSink, Sink, TiffFileSink
from eerest._formats.geotiff_write import create_geotiff, read_layout, tiff_dtype
from eerest.errors import InvalidRequestError, ResumeError
from eerest.tiling import Tile

__all__ = ["AreaOutput", "open_output"]

PARTIAL = ".partial"


class AreaOutput:
    """The sink plus what happens to the file at the end (rename, or cleanup)."""

    def __init__(
        self,
        sink: Sink,
        done: set[Key],
        log: Journal | None,
        tmp_path: str | None,
        checker: Checker | None = None,
    ):
        """``done``: the tiles a resumed read keeps (checked already); ``checker``: how a
        finished tile's checksum is taken for the journal ``log``."""
        self.sink = sink
        self.done = done
        self._log = log
        self._tmp_path = tmp_path
        self._checker = checker

    def is_done(self, tile: Tile) -> bool:
        return tile_key(tile) in self.done

    def tile_written(self, tile: Tile) -> None:
        if self._log is not None and self._checker is not None:
            self._log.record(tile, self._checker.digest(tile))

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


def open_output(job: AreaJob, out: Any, resume: bool | float, options: Mapping[str, Any] | None = None) -> AreaOutput:
    """The output ``out`` names, ready for writing; raises before anything is fetched
    (:class:`ResumeError` for a partial output a resumed read cannot trust).
    ``options``: the file format's own (see :mod:`eerest._area.files`)."""
    if out is None or isinstance(out, np.ndarray):
        if resume:
            raise InvalidRequestError("resume=True needs a file output: out='area.tif' or out='area.npy'")
        return _array_output(job, out)
    if not isinstance(out, (str, os.PathLike)):
        raise InvalidRequestError(f"out must be None, a numpy array or a file path, not {type(out).__name__}")
    share = resume_share(resume)
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
    grid = job.plan.grid.window(job.area)
    if kind == "tif" and not is_legacy_tif(options, job.masked):
        kind = "cog"
    output = {"format": "tif" if kind == "tif" else kind, "block": job.plan.block_size}
    output["dtype"] = np.lib.format.dtype_to_descr(file_dtype)
    if kind == "cog":
        spec = cog_spec(
            grid, len(dtypes), file_dtype, job.plan.block_size, options, tif_nodata(job.fills), job.masked, names
        )
        output.update(format="cog", compress=spec.compress, overviews=spec.levels, mask=spec.mask)
    if kind == "zarr":
        chunks = (job.plan.tile_height, job.plan.tile_width)
        output.update(chunks=list(chunks), mask=job.masked, fills=dict(job.fills or {}))
    journal = Journal(tmp + RESUME, job.fingerprint(output)) if share else None
    if journal is None:  # the journal of an earlier resumable run would describe a partial this read replaces
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp + RESUME)
    kept = journal.load() if journal is not None and os.path.lexists(tmp) else None
    fresh = kept is None
    if not fresh and kind in ("npy", "tif"):
        assert journal is not None
        partials = [tmp, mask_path(path) + PARTIAL] if kind == "npy" and job.masked else [tmp]
        FileChecker.check_sizes(path, partials, journal.head)
    sink: Sink
    checker: Checker
    try:
        if kind == "zarr":
            sink, checker = _zarr_output(job, path, tmp, chunks, fresh, keep=journal is not None)
        elif kind == "cog":
            cog_sink = CogSink(job.data_dtype, spec, path, tmp, resume=journal is not None, reuse=not fresh)
            checker = CogChecker(path, tmp, job.area, _count(job), cog_sink)
            sink = MaskedSink(job.dtype, cog_sink, cog_sink.mask_sink(), result="path") if job.masked else cog_sink
        else:
            sink, checker = _file_output(job, kind, path, tmp, fresh, journal is not None, grid, file_dtype)
    except ResumeError:
        raise
    except OSError as exc:
        if fresh:
            raise InvalidRequestError(f"out={path!r}: cannot write {tmp}: {exc.strerror or exc}") from None
        raise untrusted(path, tmp, f"cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # tifffile, zarr: anything, for a damaged header or metadata
        if fresh:
            raise
        raise untrusted(path, tmp, f"has a header that cannot be read ({type(exc).__name__})") from None
    done: set[Key] = set()
    try:
        if not fresh:
            assert journal is not None and kept is not None
            checker.check_whole(journal.head)
            done = checker.keep(job.plan.tiles, kept, share)
        if journal is not None:
            journal.start(fresh, checker.whole())
    except BaseException as exc:
        sink.abort()
        if isinstance(exc, OSError):
            raise untrusted(path, tmp, f"cannot be read ({exc.strerror or exc})") from None
        raise
    return AreaOutput(sink, done, journal, None if kind == "zarr" else tmp, checker)


def _count(job: AreaJob) -> int | None:
    """The data bands of a masked read (whose tiles carry as many validity bands after them)."""
    return len(job.band_names) if job.masked else None


def _file_output(
    job: AreaJob, kind: str, path: str, tmp: str, fresh: bool, keep: bool, grid: Any, file_dtype: Any
) -> tuple[Sink, FileChecker]:
    """An NPY file (and its mask file) or an uncompressed GeoTIFF, created or (resumed) reopened."""
    area, names = job.area, list(job.band_names)
    if kind == "tif":
        if fresh:
            layout = create_geotiff(
                tmp, grid, len(names), file_dtype, job.plan.block_size, nodata=tif_nodata(job.fills), descriptions=names
            )
        else:
            layout = read_layout(tmp, grid, len(names), file_dtype, job.plan.block_size)
        tif = TiffFileSink(job.data_dtype, layout, path, tmp)
        return tif, FileChecker(path, area, None, tif)
    npy = NpyFileSink(job.data_dtype, area.height, area.width, path, tmp, create=fresh)
    if not job.masked:
        return npy, FileChecker(path, area, None, npy)
    mpath = mask_path(path)
    masks = _MaskNpySink(mask_dtype(names), area.height, area.width, mpath, mpath + PARTIAL, fresh, keep)
    return MaskedSink(job.dtype, npy, masks, result="path"), FileChecker(path, area, _count(job), npy, masks)


def _zarr_output(
    job: AreaJob, path: str, tmp: str, chunks: tuple[int, int], fresh: bool, keep: bool
) -> tuple[Sink, ZarrChecker]:
    from eerest._area.zarr_sink import ZarrSink, create_zarr

    area, names = job.area, list(job.band_names)
    mask_names = [f"{n}_mask" for n in names] if job.masked else None
    if fresh:
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)  # a file where the store goes
        create_zarr(tmp, job.plan.grid.window(area), job.data_dtype, chunks, job.fills, mask_names)
    data = ZarrSink(job.data_dtype, area.height, area.width, path, tmp, chunks, keep=keep)
    if mask_names is None:
        return data, ZarrChecker(path, tmp, area, None, data)
    masks = ZarrSink(mask_dtype(mask_names), area.height, area.width, path, tmp, chunks, keep=keep, owner=False)
    sink = MaskedSink(job.dtype, data, masks, result="path")
    return sink, ZarrChecker(path, tmp, area, _count(job), data, masks)


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
