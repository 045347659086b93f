"""The file outputs beyond the resumable uncompressed GeoTIFF and the NPY file of
:mod:`eerest._area.output`: a compressed GeoTIFF / COG (:mod:`eerest._formats.cog_write`),
masks beside an NPY file, and what ``read_area`` checks of a file output before it sends
anything.

Choices (documented in ``read_area``):

- ``compress`` (GeoTIFF): ``"deflate"`` by default (every GIS tool reads it; with predictor
  2 for integers and 3 for floats), ``"zstd"`` (smaller and faster, GDAL >= 2.3;
  ``pip install zstandard``) or ``"none"``/``None``. A compressed file is a COG: internal
  overviews (``overviews=None``: whenever the image is larger than one tile; ``False``:
  none) and GDAL's layout. With ``resume=True`` the encoded tiles are staged in
  ``x.tif.partial`` as records with a CRC-32 each (see :class:`~eerest._formats.cog_write.TileStore`),
  so a rerun keeps those that still match and assembles the file at the end.
- ``fill_value``: the GeoTIFF's nodata (GDAL_NODATA, one value for all bands).
- ``mask=True``: a GeoTIFF gets GDAL's internal mask (one for all bands: a pixel is valid
  where every band holds data); an NPY file ``x.npy`` gets ``x.mask.npy`` beside it
  (numpy.ma's convention: a structured bool array, True where masked).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eerest._area.receive import TileWriter
from eerest._area.sinks import Sink, _RowsWriter
from eerest._formats.cog_write import CogSpec, TileStore, check_compress, overview_levels, write_cog
from eerest._formats.geotiff_write import check_crs, gdal_tags, geotiff_tags
from eerest.errors import InvalidRequestError
from eerest.tiling import PixelGrid, Window

__all__ = ["CogSink", "check_output", "file_options", "mask_path", "tif_nodata"]


def file_options(compress: Any, overviews: Any, resume: bool | float) -> dict[str, Any]:
    """``compress`` and ``overviews`` checked, with their defaults filled in."""
    if overviews is not None and not isinstance(overviews, bool):
        raise InvalidRequestError(f"overviews must be True, False or None (automatic), not {overviews!r}")
    if compress is None:
        compress = "deflate"
    elif not isinstance(compress, str):
        raise InvalidRequestError(f"compress must be 'deflate', 'zstd', 'none' or None, not {compress!r}")
    else:
        compress = compress.lower()
        check_compress(compress)
    return {"compress": compress, "overviews": overviews}


def _kind(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith((".tif", ".tiff")):
        return "tif"
    if lower.endswith(".npy"):
        return "npy"
    return None


def check_output(out: Any, grid: Any, options: Mapping[str, Any], mask: bool) -> None:
    """What can be known wrong about a file output before any request: a Zarr store without
    zarr installed, the CRS a GeoTIFF cannot name (when ``grid`` is given; otherwise it is
    checked once the asset's grid is known, still before any pixel is fetched)."""
    if not isinstance(out, (str, os.PathLike)):
        return
    path = os.fspath(out)
    if path.lower().rstrip("/\\").endswith(".zarr"):
        from eerest._area.zarr_sink import _modules

        _modules()  # zarr, xarray and dask installed
    if grid is not None and _kind(path) == "tif":
        check_crs(PixelGrid.from_api(grid).crs)


def is_legacy_tif(options: Mapping[str, Any], masked: bool) -> bool:
    """Whether the (resumable, uncompressed, overview-less) GeoTIFF writer serves."""
    return options.get("compress", "none") == "none" and not options.get("overviews") and not masked


def tif_nodata(fills: Mapping[str, Any] | None) -> float | int | None:
    """The GeoTIFF's one nodata value: the fill value, the same for all bands."""
    if not fills:
        return None
    values = set(fills.values())
    if len(values) > 1:
        raise InvalidRequestError(
            f"a GeoTIFF has one nodata value for all bands, but fill_value gives {sorted(values)}; "
            "pass one fill_value (or write .npy, or read into an array)"
        )
    return values.pop()  # type: ignore[no-any-return]


def mask_path(path: str) -> str:
    """``x.npy`` -> ``x.mask.npy``: where an NPY output's mask goes."""
    root, ext = os.path.splitext(path)
    return f"{root}.mask{ext}"


class CogSink(Sink):
    """A compressed GeoTIFF / COG: each TIFF tile is encoded when all of it has arrived
    (planned tiles cover whole TIFF tiles, except where a window or a band group splits
    one: such pieces wait in memory until their tile is complete)."""

    def __init__(
        self,
        dtype: np.dtype[Any],
        spec: CogSpec,
        path: str,
        tmp_path: str,
        *,
        resume: bool = False,
        reuse: bool = False,
    ) -> None:
        """``resume``: keep what is staged if the read fails (pieces of tiles too);
        ``reuse``: continue the staging file of an earlier run."""
        super().__init__(dtype, spec.height, spec.width)
        self.spec = spec
        self.path = path
        self.tmp_path = tmp_path  # the staging file of encoded tiles (kept for a resume)
        self.assembling = tmp_path + ".cog"  # the file being assembled at the end
        self._resume = resume
        self._partial: dict[tuple[int, int, int, int], list[Any]] = {}
        self._lock = threading.Lock()
        self.store = TileStore(tmp_path, spec, resume=reuse)
        for piece in self.store.pieces:  # of tiles not staged whole: see TileStore._scan
            self._add_piece(
                piece[0], piece[1], piece[2] if piece[0][1] == spec.bands else None, self.store.read_piece(piece)
            )

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        names = [self.names[b] for b in bands]
        staging = np.empty((len(bands), window.height, window.width), dtype=self.spec.dtype)

        def put_rows(row: int, rows: np.ndarray) -> None:
            n = len(rows)
            for i, name in enumerate(names):
                staging[i, row : row + n] = rows[name]

        def flush() -> None:
            for i, band in enumerate(bands):
                self.plane(band, window, staging[i])

        return _RowsWriter(tile_dtype, window.width, put_rows, flush)

    def plane(self, plane: int, window: Window, values: np.ndarray, part: tuple[int, int] | None = None) -> None:
        """``values`` of ``plane`` over ``window`` into their TIFF tiles; ``part`` (first
        band, bands): the mask plane, valid (1) only where all those bands are."""
        t, spec = self.spec.tile, self.spec
        pad = 1 if part is not None else spec.fill
        for ty in range(window.row_off // t, (window.row_end - 1) // t + 1):
            for tx in range(window.col_off // t, (window.col_end - 1) // t + 1):
                y0, x0 = ty * t, tx * t
                y1, x1 = min(y0 + t, spec.height), min(x0 + t, spec.width)
                r0, r1 = max(y0, window.row_off), min(y1, window.row_end)
                c0, c1 = max(x0, window.col_off), min(x1, window.col_end)
                piece = values[r0 - window.row_off : r1 - window.row_off, c0 - window.col_off : c1 - window.col_off]
                key = (0, plane, ty, tx)
                if part is None and (r0, r1, c0, c1) == (y0, y1, x0, x1):
                    whole = np.full((t, t), pad, dtype=values.dtype)
                    whole[: r1 - r0, : c1 - c0] = piece
                    self.store.put(key, whole)
                    continue
                region = (r0 - y0, r1 - y0, c0 - x0, c1 - x0)
                if self._resume:
                    self.store.put_piece(key, region, part or (0, 1), piece)
                self._add_piece(key, region, part, piece)

    def _add_piece(
        self,
        key: tuple[int, int, int, int],
        region: tuple[int, int, int, int],
        part: tuple[int, int] | None,
        piece: np.ndarray,
    ) -> None:
        """Keep a piece of a TIFF tile until the tile is complete, then store it. A piece
        that arrives twice (a tile fetched again) counts once; one of a tile already stored
        (a resumed read fetching again a tile its journal lost) is the same pixels, and ignored."""
        t, spec = self.spec.tile, self.spec
        _, _, ty, tx = key
        height, width = min(t, spec.height - ty * t), min(t, spec.width - tx * t)
        expected = height * width * (spec.bands if part is not None else 1)
        with self._lock:
            if key in self.store.index:
                return
            entry = self._partial.get(key)
            if entry is None:
                pad = 1 if part is not None else spec.fill
                entry = self._partial[key] = [np.full((t, t), pad, dtype=piece.dtype), {}]
            r0, r1, c0, c1 = region
            target = entry[0][r0:r1, c0:c1]
            if part is not None:
                target &= piece
            else:
                target[...] = piece
            entry[1][(region, part)] = piece.size * (part[1] if part is not None else 1)
            complete = sum(entry[1].values()) == expected
            if complete:
                del self._partial[key]
        if complete:
            self.store.put(key, entry[0])

    def mask_sink(self) -> Sink:
        return _CogMaskSink(self)

    def finish(self) -> str:
        missing = self.store.missing()
        if missing or self._partial:
            raise RuntimeError(f"the GeoTIFF lacks {len(missing)} tile(s), e.g. {missing[:3]}")  # a bug, not the data
        try:
            self.store.build_overviews()
            write_cog(self.assembling, self.store)
            os.replace(self.assembling, self.path)
        except BaseException:
            self.abort()
            raise
        self.store.close(remove=True)
        return self.path

    def abort(self) -> None:
        self.store.close(remove=not self._resume)
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.assembling)


class _CogMaskSink(Sink):
    """The masks of :class:`~eerest._area.masked.MaskedSink` into the COG's one mask."""

    def __init__(self, cog: CogSink) -> None:
        super().__init__(cog.dtype, cog.height, cog.width)
        self.cog = cog

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        names = list(tile_dtype.names or ())
        valid = np.ones((window.height, window.width), dtype=np.uint8)

        def put_rows(row: int, rows: np.ndarray) -> None:
            n = len(rows)
            for name in names:
                valid[row : row + n] &= ~rows[name]

        def flush() -> None:
            self.cog.plane(self.cog.spec.bands, window, valid, part=(bands[0], len(bands)))

        return _RowsWriter(tile_dtype, window.width, put_rows, flush)

    def finish(self) -> None:
        return None


def cog_spec(
    grid: Any,
    bands: int,
    dtype: np.dtype[Any],
    tile: int,
    options: Mapping[str, Any],
    nodata: Any,
    mask: bool,
    names: list[str],
) -> CogSpec:
    if tile % 16:
        raise InvalidRequestError(f"a GeoTIFF's tiles must be a multiple of 16 pixels; block_size={tile} is not")
    overviews = options.get("overviews")
    levels = overview_levels(grid.width, grid.height, tile) if overviews is None or overviews else 0
    tags = tuple(geotiff_tags(grid) + gdal_tags(nodata, names))
    fill = 0 if nodata is None else nodata
    return CogSpec(grid.width, grid.height, bands, dtype, tile, options["compress"], levels, mask, tags, fill)
