"""``read_area`` on the sync and async clients: the methods and their documentation.
The work is in :mod:`eerest._area.engine`, imported on the first call (it needs numpy)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, overload

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import numpy as np
    from numpy.typing import DTypeLike

    from eerest._core.message import Message
    from eerest.tiling import AreaPlan, PixelGrid, Window

    GridLike: TypeAlias = PixelGrid | Mapping[str, Any] | Message
    ProgressArg: TypeAlias = bool | Callable[[int, int, int], object]
    FillArg: TypeAlias = int | float | Mapping[str, int | float] | None

__all__ = ["SyncReadAreaMixin", "AsyncReadAreaMixin"]

_READ_AREA_DOC = """Read ``grid`` (or its ``window``) of ``source`` in as many requests as it takes.

        A large area is cut into tiles that each fit the service's limits
        (:func:`eerest.tiling.plan_tiles`, aiming at ``max_tile_bytes``, default 16 MiB
        as the server counts them), fetched concurrently as NPY (``max_concurrency``
        at once, default the client's ``max_concurrency``; every request also passes
        through the client's :attr:`limiter`, shared with all its other calls), and
        each tile's bytes are copied into their place in the output as they arrive.

        Args:
            source: An asset name (``projects/*/assets/**``, read with getPixels; band
                types from its metadata) or an expression (a dict, an ``Expression`` or
                an ``ee`` object, read with computePixels; band types from
                ``band_dtypes`` or from the header of one 1x1-pixel request).
            grid: The output's PixelGrid (an :class:`eerest.tiling.PixelGrid`, the API's
                JSON dict or a ``types.PixelGrid``) with dimensions, affine transform and
                CRS; for an asset, ``None`` means the first band's own grid.
            band_ids: The bands, in order (default: all).
            band_dtypes: Their numpy types (needed for neither source, but saves a request).
            out: ``None``: return a new numpy array, exactly what ``Pixels.to_numpy()``
                of one request over the same grid gives (structured (height, width), one
                field per band). A numpy array: written into and returned; structured
                (height, width) with the bands as fields, or plain (height, width, bands).
                ``"x.tif"``: a tiled GeoTIFF, by default a Cloud Optimized GeoTIFF (see
                ``compress``), georeferenced in any CRS GDAL reads (EPSG codes as GeoKeys;
                other CRSs, e.g. EPSG:900913 or ESRI:54009, as an ESRI PE String citation,
                which needs pyproj), the band ids as band descriptions; bands of different
                types in their common type (uint16 and float32 as float32); BigTIFF past 4 GiB.
                ``"x.npy"``: an NPY file of the numpy result. ``"x.zarr"``: a Zarr v3 store
                as xarray and rioxarray write it (one (y, x) array per band, chunked like
                the tiles; ``x``/``y`` and a ``spatial_ref`` coordinate with ``crs_wkt`` and
                ``GeoTransform``); needs ``pip install 'eerest[zarr,xarray]'``. Files are
                written as ``x.tif.partial`` and renamed when complete; the path is returned.
            fill_value: What masked pixels become: a number for all bands or a mapping
                band id -> number, exactly representable in each band's type. Applied on the
                server (``Image.unmask``, also outside the image's footprint), so the tiles
                are computePixels requests (an asset is read as ``Image.load``). Recorded
                as the GeoTIFF's nodata (GDAL_NODATA: one value for all bands) and the Zarr
                arrays' ``_FillValue``; an array or NPY file holds it as plain values.
            mask: ``True``: fetch each band's own mask in the same tiles (one uint8
                validity band per band, 1 more byte per pixel and band as the server
                counts) and return a ``numpy.ma.MaskedArray`` (its mask a structured bool
                array, True where masked; for a plain ``out``, a (height, width, bands)
                bool array). A GeoTIFF gets GDAL's internal mask (one for all bands: a pixel
                is valid where every band holds data; ``rasterio``'s ``read(masked=True)``
                and ``read_masks`` use it); ``x.npy`` gets ``x.mask.npy`` beside it (the
                structured bool mask); a Zarr store a bool ``<band>_mask`` array per band.
                Without ``fill_value`` and ``mask``, a masked pixel is 0, as the service
                sends it, indistinguishable from a 0 in the data, and no file records it.
            compress: A GeoTIFF's compression: ``"deflate"`` (default: read by every GIS
                tool), ``"zstd"`` (smaller and several times faster to write; GDAL >= 2.3
                reads it; ``pip install 'eerest[zstd]'``) or ``"none"``. Compressed tiles use
                predictor 2 (integers) or 3 (floats). A compressed file is a COG: its IFDs
                first, internal overviews, the smallest overview's tiles first (``rio cogeo
                validate`` accepts it). ``"none"`` writes every tile in its final place as it
                arrives (no overviews unless asked for).
            overviews: A compressed GeoTIFF's internal overviews (nearest neighbour, each
                half the one before, until one tile holds the image): ``None`` (default) /
                ``True``: when the image is larger than one tile; ``False``: none. They are
                built after the tiles in one pass over the stored tiles, a row of tiles at
                a time.
            window: Read only this :class:`eerest.tiling.Window` of ``grid``.
            max_concurrency: Tiles in flight at once for this read.
            max_tile_bytes: Size of each request as the server counts it.
            block_size: Tiles are whole blocks of this many pixels (and the GeoTIFF's tiles).
            progress: ``True`` for a tqdm progress bar (``pip install 'eerest[progress]'``),
                or a callable receiving (tiles done, tiles total, bytes).
            workload_tag: Sent with every request.
            resume: For a file ``out``: keep the partial file and a record of finished
                tiles (with a checksum of each) if the read fails, and on a rerun of the
                same read fetch only the tiles still missing. The rerun checks the partial
                output as a whole (its size and header; a Zarr store's metadata) before
                anything is fetched (changed: :class:`eerest.ResumeError`), then every kept
                tile's checksum, fetching again those that differ; a number in (0, 1]
                instead of ``True`` checks that share of the kept tiles, at random (a
                compressed GeoTIFF checks all its staged records). The finished file is
                the same, byte for byte (a compressed GeoTIFF and a Zarr store too).

        Requests that fail are retried as the client's other calls are (429, 5xx,
        broken connections); a tile the server runs out of memory or time on ("User
        memory limit exceeded", "Computation timed out", "Too many concurrent
        aggregations") is fetched again in quarters, down to 1/64 of its area. The
        first error that cannot be retried stops the read: outstanding requests are
        cancelled, a file output is removed (kept with ``resume=True``), and the error
        (the same class, e.g. :class:`eerest.BadRequestError`) names the tile in its
        message and as ``.tile``.
        """


class SyncReadAreaMixin:
    """``read_area`` for the sync clients: a bounded pool of threads."""

    @overload
    def read_area(
        self,
        source: object,
        *,
        grid: GridLike | None = ...,
        band_ids: Sequence[str] | None = ...,
        band_dtypes: Sequence[DTypeLike] | None = ...,
        out: np.ndarray[Any, Any] | None = ...,
        window: Window | None = ...,
        max_concurrency: int | None = ...,
        max_tile_bytes: int | None = ...,
        block_size: int | None = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool | float = ...,
        fill_value: FillArg = ...,
        mask: bool = ...,
        compress: str | None = ...,
        overviews: bool | None = ...,
    ) -> np.ndarray[Any, Any]: ...

    @overload
    def read_area(
        self,
        source: object,
        *,
        grid: GridLike | None = ...,
        band_ids: Sequence[str] | None = ...,
        band_dtypes: Sequence[DTypeLike] | None = ...,
        out: str | os.PathLike[str],
        window: Window | None = ...,
        max_concurrency: int | None = ...,
        max_tile_bytes: int | None = ...,
        block_size: int | None = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool | float = ...,
        fill_value: FillArg = ...,
        mask: bool = ...,
        compress: str | None = ...,
        overviews: bool | None = ...,
    ) -> str: ...

    def read_area(
        self,
        source: object,
        *,
        grid: GridLike | None = None,
        band_ids: Sequence[str] | None = None,
        band_dtypes: Sequence[DTypeLike] | None = None,
        out: np.ndarray[Any, Any] | str | os.PathLike[str] | None = None,
        window: Window | None = None,
        max_concurrency: int | None = None,
        max_tile_bytes: int | None = None,
        block_size: int | None = None,
        progress: ProgressArg = False,
        workload_tag: str | None = None,
        resume: bool | float = False,
        fill_value: FillArg = None,
        mask: bool = False,
        compress: str | None = None,
        overviews: bool | None = None,
    ) -> np.ndarray[Any, Any] | str:
        from eerest._area.engine import read_area_sync
        from eerest._core.port import ClientPort

        return read_area_sync(  # type: ignore[no-any-return]
            ClientPort(self),
            source,
            grid=grid,
            band_ids=band_ids,
            band_dtypes=band_dtypes,
            out=out,
            window=window,
            max_concurrency=max_concurrency,
            max_tile_bytes=max_tile_bytes,
            block_size=block_size,
            progress=progress,
            workload_tag=workload_tag,
            resume=resume,
            fill_value=fill_value,
            mask=mask,
            compress=compress,
            overviews=overviews,
        )

    read_area.__doc__ = _READ_AREA_DOC

    def plan_area(
        self,
        source: object,
        *,
        grid: GridLike | None = None,
        band_ids: Sequence[str] | None = None,
        band_dtypes: Sequence[DTypeLike] | None = None,
        window: Window | None = None,
        max_tile_bytes: int | None = None,
        block_size: int | None = None,
    ) -> AreaPlan:
        """What ``read_area`` with the same arguments would read (bands, types, size and
        requests), without reading it: at most the asset's metadata or one 1x1-pixel request
        are sent. ``print(plan)`` gives e.g. ``10000 x 10000 pixels x 4 bands (uint16) =
        762.9 MiB in 64 requests``."""
        from eerest._area.engine import plan_area_sync
        from eerest._core.port import ClientPort

        return plan_area_sync(
            ClientPort(self),
            source,
            grid=grid,
            band_ids=band_ids,
            band_dtypes=band_dtypes,
            window=window,
            max_tile_bytes=max_tile_bytes,
            block_size=block_size,
            workload_tag=None,
        )


class AsyncReadAreaMixin:
    """``read_area`` for the async clients: one task per tile in flight."""

    @overload
    async def read_area(
        self,
        source: object,
        *,
        grid: GridLike | None = ...,
        band_ids: Sequence[str] | None = ...,
        band_dtypes: Sequence[DTypeLike] | None = ...,
        out: np.ndarray[Any, Any] | None = ...,
        window: Window | None = ...,
        max_concurrency: int | None = ...,
        max_tile_bytes: int | None = ...,
        block_size: int | None = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool | float = ...,
        fill_value: FillArg = ...,
        mask: bool = ...,
        compress: str | None = ...,
        overviews: bool | None = ...,
    ) -> np.ndarray[Any, Any]: ...

    @overload
    async def read_area(
        self,
        source: object,
        *,
        grid: GridLike | None = ...,
        band_ids: Sequence[str] | None = ...,
        band_dtypes: Sequence[DTypeLike] | None = ...,
        out: str | os.PathLike[str],
        window: Window | None = ...,
        max_concurrency: int | None = ...,
        max_tile_bytes: int | None = ...,
        block_size: int | None = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool | float = ...,
        fill_value: FillArg = ...,
        mask: bool = ...,
        compress: str | None = ...,
        overviews: bool | None = ...,
    ) -> str: ...

    async def read_area(
        self,
        source: object,
        *,
        grid: GridLike | None = None,
        band_ids: Sequence[str] | None = None,
        band_dtypes: Sequence[DTypeLike] | None = None,
        out: np.ndarray[Any, Any] | str | os.PathLike[str] | None = None,
        window: Window | None = None,
        max_concurrency: int | None = None,
        max_tile_bytes: int | None = None,
        block_size: int | None = None,
        progress: ProgressArg = False,
        workload_tag: str | None = None,
        resume: bool | float = False,
        fill_value: FillArg = None,
        mask: bool = False,
        compress: str | None = None,
        overviews: bool | None = None,
    ) -> np.ndarray[Any, Any] | str:
        from eerest._area.engine import read_area_async
        from eerest._core.port import AsyncClientPort

        return await read_area_async(  # type: ignore[no-any-return]
            AsyncClientPort(self),
            source,
            grid=grid,
            band_ids=band_ids,
            band_dtypes=band_dtypes,
            out=out,
            window=window,
            max_concurrency=max_concurrency,
            max_tile_bytes=max_tile_bytes,
            block_size=block_size,
            progress=progress,
            workload_tag=workload_tag,
            resume=resume,
            fill_value=fill_value,
            mask=mask,
            compress=compress,
            overviews=overviews,
        )

    read_area.__doc__ = _READ_AREA_DOC

    async def plan_area(
        self,
        source: object,
        *,
        grid: GridLike | None = None,
        band_ids: Sequence[str] | None = None,
        band_dtypes: Sequence[DTypeLike] | None = None,
        window: Window | None = None,
        max_tile_bytes: int | None = None,
        block_size: int | None = None,
    ) -> AreaPlan:
        """As the sync client's ``plan_area``."""
        from eerest._area.engine import plan_area_async
        from eerest._core.port import AsyncClientPort

        return await plan_area_async(
            AsyncClientPort(self),
            source,
            grid=grid,
            band_ids=band_ids,
            band_dtypes=band_dtypes,
            window=window,
            max_tile_bytes=max_tile_bytes,
            block_size=block_size,
            workload_tag=None,
        )
