"""``read_area(..., out="x.zarr")``: a Zarr v3 store as xarray and rioxarray write one.

xarray writes the metadata (``to_zarr(compute=False)`` of a lazy skeleton): one (y, x)
array per band, chunked like the planned tiles, ``x``/``y`` at pixel centres and the
``spatial_ref`` coordinate (CF grid mapping, ``crs_wkt``, GDAL ``GeoTransform``) every band
names as its ``grid_mapping``; with ``fill_value`` the bands' ``_FillValue`` (CF: xarray
decodes it as missing), with ``mask=True`` a bool ``<band>_mask`` array each (True:
masked). Each tile's pixels are then written into their chunks with zarr, one lock per
chunk where a tile covers a chunk only in part. The store is built as ``x.zarr.partial``
and renamed when complete; ``resume=True`` keeps it after a failure and fills in only the
tiles still missing (the journal holds a CRC-32 of each tile's values, checked on the rerun
by reading them back: see :mod:`eerest._area.resume`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import warnings
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eerest._area.receive import TileWriter
from eerest._area.sinks import Sink, _RowsWriter
from eerest._extras import missing_extra
from eerest.tiling import PixelGrid, Window

__all__ = ["ZarrSink", "create_zarr"]


def _modules() -> tuple[Any, Any, Any]:
    try:
        import dask.array
        import xarray
        import zarr
    except ImportError:
        raise missing_extra("Writing Zarr", "zarr, xarray and dask", "zarr,xarray") from None
    if int(zarr.__version__.split(".")[0]) < 3:
        raise ImportError(
            f"Writing Zarr needs zarr 3 (Python 3.11 or newer), not zarr {zarr.__version__}: "
            "pip install 'eerest[zarr,xarray]' on Python 3.11+"
        )
    return zarr, xarray, dask.array


def create_zarr(
    path: str,
    grid: PixelGrid,
    dtype: np.dtype[Any],
    chunks: tuple[int, int],
    fills: Mapping[str, Any] | None,
    masks: Sequence[str] | None,
) -> None:
    """Write the metadata of an empty store for ``grid`` (one array per field of ``dtype``)."""
    _zarr, xr, da = _modules()
    from eerest.xarray._coords import GRID_MAPPING, grid_mapping_attrs, xy_coords

    x, y = xy_coords(grid)
    shape = (grid.height, grid.width)
    variables: dict[str, Any] = {}
    encoding: dict[str, Any] = {}
    for name in dtype.names or ():
        band_dtype = dtype.fields[name][0]  # type: ignore[index]
        variables[name] = xr.Variable(
            ("y", "x"), da.zeros(shape, dtype=band_dtype, chunks=chunks), attrs={"grid_mapping": GRID_MAPPING}
        )
        fill = None if fills is None else fills.get(name)
        encoding[name] = {"chunks": chunks, "_FillValue": None if fill is None else band_dtype.type(fill)}
        if fill is not None:
            variables[name].attrs["nodata"] = band_dtype.type(fill)
    for mask_name in masks or ():
        variables[mask_name] = xr.Variable(
            ("y", "x"),
            da.zeros(shape, dtype=np.bool_, chunks=chunks),
            attrs={"grid_mapping": GRID_MAPPING, "flag_meanings": "masked", "flag_values": 1},
        )
        encoding[mask_name] = {"chunks": chunks, "_FillValue": None}
    coords = {
        "x": ("x", x, {"standard_name": "projection_x_coordinate", "axis": "X"}),
        "y": ("y", y, {"standard_name": "projection_y_coordinate", "axis": "Y"}),
        GRID_MAPPING: ((), np.int64(0), grid_mapping_attrs(grid)),
    }
    dataset = xr.Dataset(variables, coords=coords)
    with warnings.catch_warnings():
        # consolidated metadata (what xarray opens without a listing) is zarr-python's v3 extension
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        dataset.to_zarr(path, mode="w", compute=False, zarr_format=3, encoding=encoding, consolidated=True)


class ZarrSink(Sink):
    """The bands (fields of ``dtype``) into the arrays of the same names of the store at
    ``tmp_path``; ``finish()`` renames it to ``path``."""

    def __init__(
        self,
        dtype: np.dtype[Any],
        height: int,
        width: int,
        path: str,
        tmp_path: str,
        chunks: tuple[int, int],
        *,
        keep: bool,
        owner: bool = True,
    ) -> None:
        """``keep``: leave the store after a failure (resume=True); ``owner``: this sink
        renames the store when done (a second sink into the same store, e.g. the masks', does not)."""
        super().__init__(dtype, height, width)
        zarr, _xr, _da = _modules()
        self.path = path
        self.tmp_path = tmp_path
        self.chunks = chunks
        self._keep = keep
        self._owner = owner
        self._group = zarr.open_group(tmp_path, mode="r+", zarr_format=3)
        self._arrays: dict[str, Any] = {}
        self._locks: dict[tuple[int, int], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.digests: dict[tuple[Window, int], int] = {}  # with ``keep``: a CRC-32 of each band written

    def array(self, name: str) -> Any:
        found = self._arrays.get(name)
        if found is None:
            found = self._arrays[name] = self._group[name]
        return found

    def _chunk_locks(self, window: Window) -> list[threading.Lock]:
        """The locks of the chunks ``window`` covers only in part, in a fixed order."""
        ch, cw = self.chunks
        keys = []
        for cy in range(window.row_off // ch, (window.row_end - 1) // ch + 1):
            for cx in range(window.col_off // cw, (window.col_end - 1) // cw + 1):
                y0, x0 = cy * ch, cx * cw
                y1, x1 = min(y0 + ch, self.height), min(x0 + cw, self.width)
                if not (window.row_off <= y0 and y1 <= window.row_end and window.col_off <= x0 and x1 <= window.col_end):
                    keys.append((cy, cx))
        with self._locks_lock:
            return [self._locks.setdefault(k, threading.Lock()) for k in keys]

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        fields = list(tile_dtype.names or ())  # the tile's fields, in the order of ``bands``
        staging = np.empty((window.height, window.width), dtype=tile_dtype)

        def put_rows(row: int, rows: np.ndarray) -> None:
            staging[row : row + len(rows)] = rows

        def flush() -> None:
            locks = self._chunk_locks(window)
            with contextlib.ExitStack() as stack:
                for lock in locks:
                    stack.enter_context(lock)
                for field, band in zip(fields, bands, strict=True):
                    array = self.array(self.names[band])
                    array[window.slices] = staging[field]
                    if self._keep:  # for the resume journal: the values as the array holds them
                        crc = zlib.crc32(np.ascontiguousarray(staging[field], dtype=array.dtype).data)
                        with self._locks_lock:
                            self.digests[(window, band)] = crc

        return _RowsWriter(tile_dtype, window.width, put_rows, flush)

    def digest(self, window: Window, band: int) -> int:
        """A CRC-32 of ``band`` over ``window`` as the store holds it now (decoded); raises
        what zarr or its codecs raise for a chunk that cannot be read."""
        array = self.array(self.names[band])
        return zlib.crc32(np.ascontiguousarray(array[window.slices], dtype=array.dtype).data)

    def written_digest(self, window: Window, band: int) -> int:
        """The CRC-32 of what this run wrote of ``band`` over ``window`` (``keep`` only)."""
        with self._locks_lock:
            return self.digests.pop((window, band))

    def finish(self) -> str:
        if not self._owner:
            return self.path
        if os.path.exists(self.path):
            shutil.rmtree(self.path)
        os.replace(self.tmp_path, self.path)
        return self.path

    def abort(self) -> None:
        if not self._keep:
            shutil.rmtree(self.tmp_path, ignore_errors=True)
