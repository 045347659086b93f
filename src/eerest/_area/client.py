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
    from eerest.tiling import PixelGrid, Window

    GridLike: TypeAlias = PixelGrid | Mapping[str, Any] | Message
    ProgressArg: TypeAlias = bool | Callable[[int, int, int], object]

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
                ``"x.tif"``: a tiled, georeferenced GeoTIFF (BigTIFF past 4 GiB; bands of
                different types in their common type, e.g. uint16 and float32 as float32).
                ``"x.npy"``: an NPY file of the numpy result. Files are written as
                ``x.tif.partial`` and renamed when complete; the path is returned.
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
                file's size and header (changed: :class:`eerest.ResumeError`, before
                anything is fetched) and every kept tile's checksum, fetching again those
                that differ; a number in (0, 1] instead of ``True`` checks that share of
                the kept tiles, at random. The finished file is the same, byte for byte.

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
        )

    read_area.__doc__ = _READ_AREA_DOC


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
        )

    read_area.__doc__ = _READ_AREA_DOC
