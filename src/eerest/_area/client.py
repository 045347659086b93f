"""``read_area`` on the sync and async clients: the two I/O loops around the shared,
pure pieces (job preparation, tile queue, receiver, sinks)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

import numpy as np
from numpy.typing import DTypeLike

from eerest._area.job import AreaJob, Probe, parse_source, prepare
from eerest._area.output import AreaOutput, open_output
from eerest._area.receive import TileReceiver
from eerest._area.schedule import TileQueue, progress_reporter
from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY
from eerest._core.message import Message
from eerest._core.overlay import Fetch
from eerest._core.types import RequestOptions
from eerest._overlays.npy import DecodeProblem
from eerest.errors import InvalidRequestError, ResponseDecodeError
from eerest.tiling import DEFAULT_BLOCK_SIZE, PixelGrid, Tile, Window

if TYPE_CHECKING:
    from eerest._core.deadline import Deadline
    from eerest._core.limiter import Limiter
    from eerest._core.retry import RetryPolicy
    from eerest._core.spec import ApiInfo, MethodSpec

__all__ = ["SyncReadAreaMixin", "AsyncReadAreaMixin"]

GridLike = PixelGrid | Mapping[str, Any] | Message
ProgressArg = bool | Callable[[int, int, int], object]

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
                tiles if the read fails, and on a rerun of the same read fetch only the
                tiles still missing. The finished file is the same, byte for byte.

        Requests that fail are retried as the client's other calls are (429, 5xx,
        broken connections); a tile the server runs out of memory or time on ("User
        memory limit exceeded", "Computation timed out", "Too many concurrent
        aggregations") is fetched again in quarters, down to 1/64 of its area. The
        first error that cannot be retried stops the read: outstanding requests are
        cancelled, a file output is removed (kept with ``resume=True``), and the error
        (the same class, e.g. :class:`eerest.BadRequestError`) names the tile in its
        message and as ``.tile``.
        """


def _spec(api: ApiInfo, method: str) -> MethodSpec[Any]:
    assert api.specs is not None
    return api.specs[method]


def _probe_dtype(pixels: Any) -> np.dtype[Any]:
    return pixels.to_numpy().dtype  # type: ignore[no-any-return]


def _workers(max_concurrency: int | None, limiter: Limiter, tiles: int) -> int:
    if max_concurrency is not None and (not isinstance(max_concurrency, int) or max_concurrency < 1):
        raise InvalidRequestError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")
    wanted = max_concurrency or limiter.max_concurrency or DEFAULT_MAX_CONCURRENCY
    return min(wanted, tiles)


class _Cut(Exception):
    """The body broke off: the tile may be fetched again."""

    def __init__(self, error: ResponseDecodeError) -> None:
        super().__init__(str(error))
        self.error = error


class _Cancelled(Exception):
    """Another tile failed: stop this one."""


def _receiver(job: AreaJob, output: AreaOutput, tile: Tile) -> TileReceiver:
    dtype = job.tile_dtype(tile)
    writer = output.sink.writer(tile.window.relative_to(job.area), dtype, tile.bands)
    return TileReceiver(dtype, (tile.window.height, tile.window.width), writer)


def _decode_error(method: str, problem: DecodeProblem) -> ResponseDecodeError:
    return ResponseDecodeError(f"{method}: {problem}")


class SyncReadAreaMixin:
    """``read_area`` for the sync clients: a bounded pool of threads."""

    if TYPE_CHECKING:
        _api: ClassVar[ApiInfo]
        _retry: RetryPolicy
        _limiter: Limiter

        def _invoke(self, *args: Any, **kwargs: Any) -> Any: ...
        def _perform(self, fetch: Fetch, deadline: Deadline) -> Any: ...
        def _new_deadline(self) -> Deadline: ...

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
        block_size: int = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool = ...,
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
        block_size: int = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool = ...,
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
        block_size: int = DEFAULT_BLOCK_SIZE,
        progress: ProgressArg = False,
        workload_tag: str | None = None,
        resume: bool = False,
    ) -> np.ndarray[Any, Any] | str:
        src = parse_source(source, workload_tag)
        job = self._area_prepare(
            prepare(
                src,
                grid=grid,
                band_ids=band_ids,
                band_dtypes=band_dtypes,
                window=window,
                max_tile_bytes=max_tile_bytes,
                block_size=block_size,
            )
        )
        output = open_output(job, out, resume)
        try:
            tiles = [t for t in job.plan.tiles if not output.is_done(t)]
            on_progress, close_progress = progress_reporter(progress, len(tiles))
            try:
                queue = TileQueue(job.plan, tiles, on_progress)
                self._area_run(job, output, queue, _workers(max_concurrency, self._limiter, len(tiles)))
            finally:
                close_progress()
            if queue.error is not None:
                raise queue.error
        except BaseException:
            output.abort()
            raise
        return output.finish()  # type: ignore[no-any-return]

    read_area.__doc__ = _READ_AREA_DOC

    def _area_prepare(self, gen: Generator[Fetch | Probe, Any, AreaJob]) -> AreaJob:
        try:
            need = next(gen)
            while True:
                if isinstance(need, Fetch):
                    answer = self._perform(need, self._new_deadline())
                else:
                    method, params, body = need.request()
                    answer = _probe_dtype(self._invoke(_spec(self._api, method), params, body, RequestOptions()))
                need = gen.send(answer)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _area_run(self, job: AreaJob, output: AreaOutput, queue: TileQueue, workers: int) -> None:
        cond = threading.Condition()
        cancelled = lambda: queue.error is not None  # noqa: E731 - read without the lock: one attribute

        def work() -> None:
            while True:
                with cond:
                    cond.wait_for(lambda: queue.ready)
                    item = queue.take()
                if item is None:
                    return
                try:
                    nbytes = self._area_tile(job, output, item.tile, cancelled)
                    output.tile_written(item.tile)
                except BaseException as exc:
                    with cond:
                        queue.failed(item, exc)
                        cond.notify_all()
                else:
                    with cond:
                        queue.succeeded(item, nbytes)
                        cond.notify_all()

        threads = [threading.Thread(target=work, name=f"eerest-read-area-{i}", daemon=True) for i in range(workers)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                t.join()
        except BaseException as exc:  # e.g. KeyboardInterrupt: stop the workers, then leave
            with cond:
                queue.cancel(exc)
                cond.notify_all()
            for t in threads:
                t.join()
            raise

    def _area_tile(self, job: AreaJob, output: AreaOutput, tile: Tile, cancelled: Callable[[], bool]) -> int:
        method, params, body, extras = job.request(tile)
        spec = _spec(self._api, method)
        attempt = 0
        while True:
            if cancelled():
                raise _Cancelled
            receiver = _receiver(job, output, tile)
            try:
                with self._invoke(spec, params, body, RequestOptions(), extras, stream=True) as response:
                    chunks = response.iter_bytes()
                    while True:
                        try:
                            chunk = next(chunks)
                        except StopIteration:
                            break
                        except ResponseDecodeError as exc:
                            raise _Cut(exc) from exc
                        if cancelled():
                            raise _Cancelled
                        receiver.feed(chunk)
                    receiver.finish()
                return receiver.received
            except _Cut as cut:
                if not self._retry.should_retry_error(attempt):
                    raise cut.error from None
                time.sleep(self._retry.delay(attempt))
                attempt += 1
            except DecodeProblem as problem:
                raise _decode_error(spec.id, problem) from None


class AsyncReadAreaMixin:
    """``read_area`` for the async clients: one task per tile in flight."""

    if TYPE_CHECKING:
        _api: ClassVar[ApiInfo]
        _retry: RetryPolicy
        _limiter: Limiter

        async def _invoke(self, *args: Any, **kwargs: Any) -> Any: ...
        async def _perform(self, fetch: Fetch, deadline: Deadline) -> Any: ...
        def _new_deadline(self) -> Deadline: ...

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
        block_size: int = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool = ...,
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
        block_size: int = ...,
        progress: ProgressArg = ...,
        workload_tag: str | None = ...,
        resume: bool = ...,
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
        block_size: int = DEFAULT_BLOCK_SIZE,
        progress: ProgressArg = False,
        workload_tag: str | None = None,
        resume: bool = False,
    ) -> np.ndarray[Any, Any] | str:
        src = parse_source(source, workload_tag)
        job = await self._area_prepare(
            prepare(
                src,
                grid=grid,
                band_ids=band_ids,
                band_dtypes=band_dtypes,
                window=window,
                max_tile_bytes=max_tile_bytes,
                block_size=block_size,
            )
        )
        output = open_output(job, out, resume)
        try:
            tiles = [t for t in job.plan.tiles if not output.is_done(t)]
            on_progress, close_progress = progress_reporter(progress, len(tiles))
            try:
                queue = TileQueue(job.plan, tiles, on_progress)
                await self._area_run(job, output, queue, _workers(max_concurrency, self._limiter, len(tiles)))
            finally:
                close_progress()
            if queue.error is not None:
                raise queue.error
        except BaseException:
            output.abort()
            raise
        return output.finish()  # type: ignore[no-any-return]

    read_area.__doc__ = _READ_AREA_DOC

    async def _area_prepare(self, gen: Generator[Fetch | Probe, Any, AreaJob]) -> AreaJob:
        try:
            need = next(gen)
            while True:
                if isinstance(need, Fetch):
                    answer = await self._perform(need, self._new_deadline())
                else:
                    method, params, body = need.request()
                    answer = _probe_dtype(await self._invoke(_spec(self._api, method), params, body, RequestOptions()))
                need = gen.send(answer)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def _area_run(self, job: AreaJob, output: AreaOutput, queue: TileQueue, workers: int) -> None:
        cond = asyncio.Condition()

        async def work() -> None:
            while True:
                async with cond:
                    await cond.wait_for(lambda: queue.ready)
                    item = queue.take()
                if item is None:
                    return
                try:
                    nbytes = await self._area_tile(job, output, item.tile)
                    output.tile_written(item.tile)
                except Exception as exc:
                    async with cond:
                        queue.failed(item, exc)
                        cond.notify_all()
                else:
                    async with cond:
                        queue.succeeded(item, nbytes)
                        cond.notify_all()

        tasks = [asyncio.ensure_future(work()) for _ in range(workers)]
        try:
            async with cond:
                await cond.wait_for(lambda: queue.finished)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _area_tile(self, job: AreaJob, output: AreaOutput, tile: Tile) -> int:
        method, params, body, extras = job.request(tile)
        spec = _spec(self._api, method)
        attempt = 0
        while True:
            receiver = _receiver(job, output, tile)
            try:
                response = await self._invoke(spec, params, body, RequestOptions(), extras, stream=True)
                try:
                    chunks = response.iter_bytes().__aiter__()
                    while True:
                        try:
                            chunk = await chunks.__anext__()
                        except StopAsyncIteration:
                            break
                        except ResponseDecodeError as exc:
                            raise _Cut(exc) from exc
                        receiver.feed(chunk)
                    receiver.finish()
                finally:
                    await response.close()
                return receiver.received
            except _Cut as cut:
                if not self._retry.should_retry_error(attempt):
                    raise cut.error from None
                await asyncio.sleep(self._retry.delay(attempt))
                attempt += 1
            except DecodeProblem as problem:
                raise _decode_error(spec.id, problem) from None
