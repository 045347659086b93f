"""The two I/O loops of ``read_area`` (a pool of threads, asyncio tasks) around the shared,
pure pieces: job preparation, the tile queue, the receiver and the sinks. They reach the
client only through its port (:mod:`eerest._core.port`): each tile is one call, whose body is
consumed inside the call's attempt loop (one retry budget, one deadline). Imported on the
first ``read_area`` call, so a client that never reads an area never loads numpy."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from eerest._area.files import check_output, file_options
from eerest._area.job import AreaJob, Probe, parse_source, prepare
from eerest._area.output import AreaOutput, open_output
from eerest._area.receive import TileReceiver
from eerest._area.schedule import TileQueue, progress_reporter
from eerest._core.cancel import CancelScope
from eerest._core.overlay import Fetch
from eerest._formats.npy import DecodeProblem
from eerest.errors import ResponseDecodeError
from eerest.tiling import DEFAULT_BLOCK_SIZE, AreaPlan, Tile, Window

if TYPE_CHECKING:
    import httpx

    from eerest._area.direct import Scratch
    from eerest._core.body import TruncatedBody
    from eerest._core.limiter import Limiter
    from eerest._core.port import AsyncClientPort, ClientPort
    from eerest._core.streaming import AsyncStreamedResponse, StreamedResponse

__all__ = ["plan_area_async", "plan_area_sync", "read_area_async", "read_area_sync"]


# httpx, the direct reads and asyncio are imported when first needed, not with this module:
# a read's first request imports httpx anyway, made ready (ClientPort.warm) while the output's
# pages are populated; a sync program never needs asyncio.


def receive_direct(*args: Any) -> None:
    """:func:`eerest._area.direct.receive_direct` (imported on first use)."""
    from eerest._area.direct import receive_direct as receive

    receive(*args)


def _probe_dtype(pixels: Any) -> np.dtype[Any]:
    return pixels.to_numpy().dtype  # type: ignore[no-any-return]


class _Cancelled(Exception):
    """Another tile failed: stop this one."""


def _receiver(job: AreaJob, output: AreaOutput, tile: Tile) -> TileReceiver:
    dtype = job.tile_dtype(tile)
    writer = output.sink.writer(tile.window.relative_to(job.area), dtype, tile.bands)
    return TileReceiver(dtype, (tile.window.height, tile.window.width), writer)


def _decode_error(method: str, problem: DecodeProblem) -> ResponseDecodeError:
    return ResponseDecodeError(f"{method}: {problem}")


class _Read:
    """The output, tile queue and progress of one read, around either I/O loop: ``finish``
    (rename a file into place) on success, ``abort`` (remove it, unless resumable) on any
    failure, and the first tile error raised."""

    def __init__(
        self,
        job: AreaJob,
        out: Any,
        resume: bool | float,
        progress: Any,
        max_concurrency: int | None,
        limiter: Limiter,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.output = open_output(job, out, resume, options)
        try:
            tiles = [t for t in job.plan.tiles if not self.output.is_done(t)]
            self.workers = limiter.workers_for(max_concurrency, len(tiles))
            on_progress, self._close_progress = progress_reporter(progress, len(tiles))
        except BaseException:
            self.output.abort()
            raise
        self.queue = TileQueue(job.plan, tiles, on_progress)
        self.result: Any = None

    def __enter__(self) -> _Read:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        self._close_progress()
        if kind is not None:  # e.g. KeyboardInterrupt, or cancelled: it propagates
            self.output.abort()
            return
        if self.queue.error is not None:
            self.output.abort()
            raise self.queue.error
        self.result = self.output.finish()


def _steps(
    source: object,
    *,
    grid: Any,
    band_ids: Sequence[str] | None,
    band_dtypes: Sequence[DTypeLike] | None,
    window: Window | None,
    max_tile_bytes: int | None,
    block_size: int | None,
    workload_tag: str | None,
    fill_value: Any = None,
    mask: bool = False,
) -> Generator[Fetch | Probe, Any, AreaJob]:
    """A read's preparation, without I/O: the metadata it asks for, then its job."""
    return prepare(
        parse_source(source, workload_tag),
        grid=grid,
        band_ids=band_ids,
        band_dtypes=band_dtypes,
        window=window,
        max_tile_bytes=max_tile_bytes,
        block_size=DEFAULT_BLOCK_SIZE if block_size is None else block_size,
        fill_value=fill_value,
        mask=mask,
    )


def read_area_sync(
    port: ClientPort,
    source: object,
    *,
    out: Any,
    max_concurrency: int | None,
    progress: Any,
    resume: bool | float,
    compress: str | None = None,
    overviews: bool | None = None,
    stop: CancelScope | None = None,
    **plan: Any,
) -> Any:
    """``read_area`` of the sync clients (see :mod:`eerest._area.client`); ``plan``: the
    keyword arguments of :func:`_steps`; cancelling ``stop`` (from another thread) ends
    the read as a failed tile would."""
    options = _file_options(out, compress, overviews, resume, plan)
    job = _prepare_sync(port, _steps(source, **plan))
    with _Read(job, out, resume, progress, max_concurrency, port.limiter, options) as read:
        if job.plan.tiles:
            # what the first request would do before sending (imports, the request model,
            # the connection pool), done here while a new array's pages are populated
            port.warm(*job.request(job.plan.tiles[0]))
        _run_sync(port, job, read.output, read.queue, read.workers, stop or CancelScope())
    return read.result


def _file_options(
    out: Any, compress: str | None, overviews: bool | None, resume: bool | float, plan: dict[str, Any]
) -> dict[str, Any]:
    """The file output's options, and what is wrong with it that can be known before any request."""
    options = file_options(compress, overviews, resume)
    check_output(out, plan.get("grid"), options, bool(plan.get("mask")))
    return options


def plan_area_sync(port: ClientPort, source: object, **plan: Any) -> AreaPlan:
    """``plan_area`` of the sync clients; ``plan``: the keyword arguments of :func:`_steps`."""
    job = _prepare_sync(port, _steps(source, **plan))
    return AreaPlan(job.names, job.plan)


def _prepare_sync(port: ClientPort, gen: Generator[Fetch | Probe, Any, AreaJob]) -> AreaJob:
    try:
        need = next(gen)
        while True:
            answer = port.lookup(need) if isinstance(need, Fetch) else _probe_dtype(port.call(*need.request()))
            need = gen.send(answer)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _run_sync(
    port: ClientPort, job: AreaJob, output: AreaOutput, queue: TileQueue, workers: int, stop: CancelScope
) -> None:
    """The worker threads; ``stop`` is cancelled with the read's first fatal error, so other
    tiles' requests end too."""
    from eerest._area.direct import Scratch

    cond = threading.Condition()

    def work() -> None:
        scratch = Scratch()
        while True:
            with cond:
                cond.wait_for(lambda: queue.ready)
                item = queue.take()
            if item is None:
                return
            try:
                output.sink.prepare(item.tile.window.relative_to(job.area))
                nbytes = _tile_sync(port, job, output, item.tile, stop, scratch)
                output.tile_written(item.tile)
            except BaseException as exc:
                with cond:
                    queue.failed(item, exc)
                    if queue.error is not None:
                        stop.cancel()
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
            stop.cancel()
            cond.notify_all()
        for t in threads:
            t.join()
        raise


def _cut_error(taken: int, exc: Exception, request: httpx.Request) -> TruncatedBody:
    from eerest._core.body import TruncatedBody

    return TruncatedBody(
        f"the connection broke after {taken} bytes of the response body ({type(exc).__name__}); "
        "the data is incomplete, retry the request",
        request=request,
    )


def _receive_direct(response: Any, receiver: TileReceiver, scratch: Scratch, cancelled: Callable[[], bool]) -> bool:
    """Receive the body straight from the socket (see :mod:`eerest._area.direct`); False
    when that does not apply and nothing was read."""
    import httpx

    from eerest._area.direct import BodyCut
    from eerest._core.socket_body import DirectBody

    raw = response.http_response
    if raw.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return False  # httpx's chunks undo the encoding
    body = DirectBody.open(raw)
    if body is None:
        return False
    failure = None
    try:
        receive_direct(body, receiver, scratch, response._deadline, cancelled)
        if cancelled():
            raise _Cancelled
        for _ in raw.iter_raw():  # nothing is left: h11 ends the message, the connection is reused
            pass
    except (BodyCut, httpx.TransportError) as exc:
        failure = _cut_error(body.taken, exc, raw.request)
    if failure is not None:  # unchained: httpx's exception holds the request
        raise failure
    return True


def _tile_sync(
    port: ClientPort,
    job: AreaJob,
    output: AreaOutput,
    tile: Tile,
    stop: CancelScope,
    scratch: Scratch,
) -> int:
    cancelled = stop.cancelled
    method, params, body, extras = job.request(tile)

    def consume(response: StreamedResponse[Any]) -> int:
        """One attempt's body into the tile's place; starts over if the call retries."""
        if cancelled():
            raise _Cancelled
        with _receiver(job, output, tile) as receiver:
            if not _receive_direct(response, receiver, scratch, cancelled):
                for chunk in response.iter_bytes():
                    if cancelled():
                        raise _Cancelled
                    receiver.feed(chunk)
            receiver.finish()
            return receiver.received

    if cancelled():
        raise _Cancelled
    try:
        return port.receive(method, params, body, extras, consume, stop)
    except DecodeProblem as problem:
        raise _decode_error(method, problem) from None


async def read_area_async(
    port: AsyncClientPort,
    source: object,
    *,
    out: Any,
    max_concurrency: int | None,
    progress: Any,
    resume: bool | float,
    compress: str | None = None,
    overviews: bool | None = None,
    **plan: Any,
) -> Any:
    """``read_area`` of the async clients (see :mod:`eerest._area.client`); ``plan``: the
    keyword arguments of :func:`_steps`.

    Tile bodies are megabytes each: received on the event loop, every 64 KiB chunk goes
    through asyncio, httpcore and h11 on its one thread. So the read runs in worker threads
    with the sync receiver (straight from the socket), on a sync twin of the client sharing
    its credentials and limiter, while the caller's task awaits it; cancelling the task
    stops the threads. A client given its own ``http_client`` reads on the event loop."""
    import asyncio

    options = _file_options(out, compress, overviews, resume, plan)
    blocking = port.blocking()
    if blocking is not None:
        stop = CancelScope()
        run = functools.partial(
            read_area_sync,
            blocking,
            source,
            out=out,
            max_concurrency=max_concurrency,
            progress=progress,
            resume=resume,
            compress=compress,
            overviews=overviews,
            stop=stop,
            **plan,
        )
        done = asyncio.get_running_loop().run_in_executor(None, run)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            stop.cancel()  # the threads end their requests; the output is removed (or kept, resuming)
            with contextlib.suppress(BaseException):
                await done
            raise
    job = await _prepare_async(port, _steps(source, **plan))
    with _Read(job, out, resume, progress, max_concurrency, port.limiter, options) as read:
        await _run_async(port, job, read.output, read.queue, read.workers)
    return read.result


async def plan_area_async(port: AsyncClientPort, source: object, **plan: Any) -> AreaPlan:
    """As :func:`plan_area_sync`, for the async clients."""
    job = await _prepare_async(port, _steps(source, **plan))
    return AreaPlan(job.names, job.plan)


async def _prepare_async(port: AsyncClientPort, gen: Generator[Fetch | Probe, Any, AreaJob]) -> AreaJob:
    try:
        need = next(gen)
        while True:
            if isinstance(need, Fetch):
                answer = await port.lookup(need)
            else:
                answer = _probe_dtype(await port.call(*need.request()))
            need = gen.send(answer)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def _run_async(port: AsyncClientPort, job: AreaJob, output: AreaOutput, queue: TileQueue, workers: int) -> None:
    import asyncio

    cond = asyncio.Condition()

    async def work() -> None:
        while True:
            async with cond:
                await cond.wait_for(lambda: queue.ready)
                item = queue.take()
            if item is None:
                return
            try:
                output.sink.prepare(item.tile.window.relative_to(job.area))
                nbytes = await _tile_async(port, job, output, item.tile)
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


async def _tile_async(port: AsyncClientPort, job: AreaJob, output: AreaOutput, tile: Tile) -> int:
    method, params, body, extras = job.request(tile)

    async def consume(response: AsyncStreamedResponse[Any]) -> int:
        with _receiver(job, output, tile) as receiver:
            async for chunk in response.iter_bytes():
                receiver.feed(chunk)
            receiver.finish()
            return receiver.received

    try:
        return await port.receive(method, params, body, extras, consume)
    except DecodeProblem as problem:
        raise _decode_error(method, problem) from None
