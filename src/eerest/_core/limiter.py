"""One limiter per client: how many requests may be in flight at once, and how fast they
may start, shared by every thread and task that uses the client.

Earth Engine allows 40 concurrent requests and 100 requests a second per Cloud project
and answers 429 beyond that. The limiter keeps a client well under both, and backs off
when 429s come anyway (other processes of the same project count too): each 429 halves
the effective concurrency (at most once a second, so the answers of requests already in
flight count once), which then grows back by one slot per window of successful answers
(additive increase, multiplicative decrease, as TCP does) once no 429 came for a while.

Decisions live in :class:`LimiterState` (pure: time is an argument); :class:`Limiter`
adds the waiting, for threads (``with limiter.slot():``) and for asyncio tasks
(``async with limiter.aslot():``) alike, without binding to an event loop. The clients
take a slot for every HTTP attempt and give it back when the response is closed (a
streamed response left open keeps its slot: close it, or use it as a context manager).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from eerest.errors import InvalidRequestError

if TYPE_CHECKING:
    import asyncio

    import httpx

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "Gate",
    "PROJECT_CONCURRENCY_QUOTA",
    "DEFAULT_MAX_REQUESTS_PER_SECOND",
    "Limiter",
    "LimiterState",
]

#: 16 requests in flight per client: the project's quota is 40 concurrent requests shared
#: by everything using the project (other scripts, notebooks, the Code Editor, other
#: workers), so two busy clients still fit beside some interactive use; on a loopback
#: emulator serving at memory speed 16 connections already saturate two cores, and on the
#: real service (seconds per request) 16 requests of 16 MiB move ~50-100 MiB/s.
DEFAULT_MAX_CONCURRENCY = 16
#: Earth Engine's documented quota of concurrent requests per Cloud project (beyond it: 429).
PROJECT_CONCURRENCY_QUOTA = 40
#: Half of the 100 requests/s the service allows per project and account, for the same
#: reason; it only binds for small, fast requests (16 in flight at 50/s is 0.32 s each).
DEFAULT_MAX_REQUESTS_PER_SECOND = 50.0


@dataclass
class LimiterState:
    """The pure part of the limiter: admission, rate and AIMD decisions, no threads or clocks.

    ``try_acquire(now)`` takes a slot (and a rate token) and returns ``None``, or returns
    how many seconds to wait before asking again (``math.inf``: until a slot is released).
    """

    max_concurrency: float = DEFAULT_MAX_CONCURRENCY  # math.inf: no cap
    max_rate: float = DEFAULT_MAX_REQUESTS_PER_SECOND  # requests/s; math.inf: no cap
    burst: float | None = None  # tokens the bucket holds; default: one second's worth
    decrease: float = 0.5  # a 429 multiplies the effective limit by this
    cooldown: float = 1.0  # seconds: 429s within this of a decrease do not decrease again
    hold: float = 5.0  # seconds after a decrease before the limit grows again
    limit: float = field(init=False)  # the effective concurrency limit, 1 <= limit <= max
    in_flight: int = field(default=0, init=False)
    tokens: float = field(init=False)
    throttled: int = field(default=0, init=False)  # 429s seen
    _stamp: float | None = field(default=None, init=False, repr=False)
    _last_decrease: float = field(default=-math.inf, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.max_concurrency >= 1:
            raise InvalidRequestError(f"max_concurrency must be at least 1, not {self.max_concurrency!r}")
        if not self.max_rate > 0:
            raise InvalidRequestError(f"max_requests_per_second must be positive, not {self.max_rate!r}")
        if self.burst is None:
            self.burst = max(1.0, self.max_rate) if math.isfinite(self.max_rate) else math.inf
        self.limit = float(self.max_concurrency)
        self.tokens = float(self.burst)

    @property
    def effective_concurrency(self) -> float:
        """How many requests may be in flight now (the AIMD limit, whole)."""
        return max(1.0, math.floor(self.limit)) if math.isfinite(self.limit) else math.inf

    def _refill(self, now: float) -> None:
        if self._stamp is not None and math.isfinite(self.max_rate):
            assert self.burst is not None
            self.tokens = min(self.burst, self.tokens + (now - self._stamp) * self.max_rate)
        self._stamp = now

    def try_acquire(self, now: float) -> float | None:
        if self.in_flight >= self.effective_concurrency:
            return math.inf
        if math.isfinite(self.max_rate):
            self._refill(now)
            if self.tokens < 1.0:
                return (1.0 - self.tokens) / self.max_rate
            self.tokens -= 1.0
        self.in_flight += 1
        return None

    def release(self) -> None:
        if self.in_flight <= 0:
            raise RuntimeError("limiter released more often than acquired")
        self.in_flight -= 1

    def on_throttled(self, now: float) -> None:
        """A 429: halve the effective concurrency, once per ``cooldown``."""
        self.throttled += 1
        if now - self._last_decrease >= self.cooldown and math.isfinite(self.limit):
            self.limit = max(1.0, math.floor(self.limit * self.decrease))
            self._last_decrease = now

    def on_success(self, now: float) -> None:
        """A successful answer: after ``hold`` seconds without 429, grow the limit by
        one slot per ``limit`` successes, up to ``max_concurrency``."""
        if self.limit < self.max_concurrency and now - self._last_decrease >= self.hold:
            self.limit = min(float(self.max_concurrency), self.limit + 1.0 / self.limit)


def _cap(value: float | None, name: str) -> float:
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(f"{name} must be a number or None, not {value!r}")
    return float(value)


class Limiter:
    """Caps the requests in flight and their rate, for threads and asyncio tasks alike.

    ``max_concurrency`` / ``max_requests_per_second`` of ``None`` mean no cap. Use
    ``with limiter.slot():`` (threads) or ``async with limiter.aslot():`` (tasks, in any
    event loop) around one HTTP attempt, and :meth:`feedback` with its status code.
    """

    def __init__(
        self,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        concurrency = _cap(max_concurrency, "max_concurrency")
        if math.isfinite(concurrency) and concurrency != int(concurrency):
            raise InvalidRequestError(f"max_concurrency must be a whole number, not {max_concurrency!r}")
        self._state = LimiterState(concurrency, _cap(max_requests_per_second, "max_requests_per_second"))
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.gate: Gate | None = None
        self._gate_pools: dict[str, Any] = {}  # for an async client's gate: see _gate_submit
        self._gate_closed = False  # close() ended the pools (until the next acquire)

    def __repr__(self) -> str:
        return (
            f"Limiter(max_concurrency={self.max_concurrency}, max_requests_per_second={self.max_requests_per_second}, "
            f"in_flight={self.in_flight}, effective_concurrency={self.effective_concurrency})"
        )

    @property
    def max_concurrency(self) -> int | None:
        value = self._state.max_concurrency
        return int(value) if math.isfinite(value) else None

    def workers_for(self, max_concurrency: int | None, jobs: int) -> int:
        """How many threads or tasks should carry ``jobs`` requests: ``max_concurrency`` (a
        caller's own cap, checked), else this limiter's, else the default; at most ``jobs``
        and at least one."""
        if max_concurrency is not None and (not isinstance(max_concurrency, int) or max_concurrency < 1):
            raise InvalidRequestError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")
        wanted = max_concurrency or self.max_concurrency or DEFAULT_MAX_CONCURRENCY
        return max(1, min(wanted, jobs))

    @property
    def max_requests_per_second(self) -> float | None:
        value = self._state.max_rate
        return value if math.isfinite(value) else None

    @property
    def in_flight(self) -> int:
        return self._state.in_flight

    @property
    def effective_concurrency(self) -> int | None:
        """The current concurrency limit: ``max_concurrency``, lower for a while after 429s."""
        value = self._state.effective_concurrency
        return int(value) if math.isfinite(value) else None

    @property
    def throttled(self) -> int:
        """How many 429 answers this limiter has seen."""
        return self._state.throttled

    # -- threads ------------------------------------------------------------------------
    def acquire(self, timeout: float | None = None) -> bool:
        """Wait (blocking this thread) for a slot and a rate token, and take them; False if
        ``timeout`` seconds (``None``: no limit) pass first."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                wait = self._state.try_acquire(self._clock())
                if wait is None:
                    return True
                if end is not None:
                    left = end - time.monotonic()
                    if left <= 0:
                        return False
                    wait = min(wait, left)
                self._cond.wait(None if math.isinf(wait) else wait)

    def _take(self) -> bool:
        """Take a slot and a token if both are there now."""
        with self._cond:
            return self._state.try_acquire(self._clock()) is None

    def release(self) -> None:
        """Give a slot back (wakes waiting threads and tasks)."""
        with self._cond:
            self._state.release()
            self._cond.notify_all()
            waiters, self._async_waiters = self._async_waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: its waiter is gone
                loop.call_soon_threadsafe(_wake, future)

    def feedback(self, status_code: int) -> None:
        """Tell the limiter how an attempt went: 429 lowers the limit, success raises it."""
        if status_code < 400 and self._state.limit >= self._state.max_concurrency:
            return  # at its ceiling (almost always): nothing to raise, no lock to take
        with self._cond:
            if status_code == 429:
                self._state.on_throttled(self._clock())
            elif status_code < 400:
                self._state.on_success(self._clock())

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    # -- asyncio ------------------------------------------------------------------------
    async def aacquire(self) -> None:
        """Wait (in the running event loop, whichever it is) for a slot and a token."""
        import asyncio

        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                wait = self._state.try_acquire(self._clock())
                if wait is None:
                    return
                future: asyncio.Future[None] = loop.create_future()
                self._async_waiters.append((loop, future))
            try:
                await asyncio.wait([future], timeout=None if math.isinf(wait) else wait)
            finally:
                with self._cond:
                    with contextlib.suppress(ValueError):
                        self._async_waiters.remove((loop, future))
                future.cancel()

    @contextlib.asynccontextmanager
    async def aslot(self) -> AsyncIterator[None]:
        await self.aacquire()
        try:
            yield
        finally:
            self.release()

    # -- the clients' HTTP attempts -----------------------------------------------------
    def send(self, open_: Callable[[httpx.Request], httpx.Response], request: httpx.Request) -> httpx.Response:
        """``open_(request)`` (the response, its body unread) in a slot, held until the response is closed.
        The wait for the slot is bounded by the request's ``pool`` timeout (which the clients
        clip to the call's deadline), as httpx bounds its wait for a pooled connection.
        With a :attr:`gate` (a limit shared by several processes), a lease of it is taken
        after the slot, within the same timeout, and given back with it."""
        timeout = _slot_timeout(request)
        started = time.monotonic()
        if not self.acquire(timeout):
            raise _no_slot(request, timeout)
        gate = self.gate
        if gate is not None:
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            try:
                leased = gate.acquire(left)
            except BaseException:
                self.release()
                raise
            if not leased:
                self.release()
                raise _no_slot(request, timeout, "the limit shared with other processes (cluster_max_concurrency)")
        try:
            response = open_(request)
        except BaseException:
            self._release_both(gate)
            raise
        self.feedback(response.status_code)
        if response.is_closed:  # already read and closed (an httpx.MockTransport reply)
            self._release_both(gate)
        else:
            _release_on_close(response.stream, self, "close", gate)
        return response

    def _release_both(self, gate: Gate | None) -> None:
        try:
            if gate is not None:
                gate.release()
        finally:
            self.release()

    async def asend(
        self, open_: Callable[[httpx.Request], Awaitable[httpx.Response]], request: httpx.Request
    ) -> httpx.Response:
        """As :meth:`send`, in the running event loop. A :attr:`gate`'s calls block (a
        ``distributed.Semaphore`` makes a scheduler round trip), so they run in the loop's
        default executor, never in the loop itself."""
        import asyncio

        timeout = _slot_timeout(request)
        started = time.monotonic()
        if not self._take():  # else wait, without a task for wait_for when a slot is free
            try:
                await asyncio.wait_for(self.aacquire(), timeout)
            except asyncio.TimeoutError:
                raise _no_slot(request, timeout) from None
        gate = self.gate
        if gate is not None:
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            try:
                leased = await self._gate_acquire(gate, left)
            except BaseException:
                self.release()
                raise
            if not leased:
                self.release()
                raise _no_slot(request, timeout, "the limit shared with other processes (cluster_max_concurrency)")
        try:
            response = await open_(request)
        except BaseException:
            self._arelease_both(gate)
            raise
        self.feedback(response.status_code)
        if response.is_closed:
            self._arelease_both(gate)
        else:
            _release_on_close(response.stream, self, "aclose", gate)
        return response

    def _arelease_both(self, gate: Gate | None) -> None:
        """In the event loop: the slot back now, the gate's lease in the default executor."""
        try:
            if gate is not None:
                self._gate_release_soon(gate)
        finally:
            self.release()

    def _gate_submit(self, kind: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in this limiter's threads for a gate's blocking calls (a
        ``concurrent.futures.Future``): ``"acquire"`` (one thread per request that may wait
        for a lease: as many as the limiter lets through) and ``"release"`` (apart, so that a
        release never waits behind acquires that wait for it). The pools are made on first
        use, ended by :meth:`close` and made again if the limiter is used after it."""
        from concurrent.futures import Future, ThreadPoolExecutor

        with self._cond:  # made and submitted to under the lock close() shuts them down with
            pool = self._gate_pools.get(kind)
            if pool is None and kind == "release" and self._gate_closed:
                # a lease given back after close (a cancelled request's acquire that ended
                # since): a thread of its own, which ends with it, rather than a new pool
                done: Future[Any] = Future()
                threading.Thread(target=_run_into, args=(done, fn, args), name="eerest-gate-release").start()
                return done
            if kind == "acquire":
                self._gate_closed = False
            if pool is None:
                cap = self._state.max_concurrency
                workers = 2 if kind == "release" else int(cap) if math.isfinite(cap) else 64
                pool = self._gate_pools[kind] = ThreadPoolExecutor(workers, thread_name_prefix=f"eerest-gate-{kind}")
            return pool.submit(fn, *args)

    def close(self) -> None:
        """End the threads of a gate's blocking calls and the gate's own background work (its
        ``stop()``, when it has one): called when the client closes. Calls already submitted
        still run (a lease being given back is given back); a thread still waiting for a
        lease ends when that wait does. Using the limiter again makes them again."""
        with self._cond:
            pools, self._gate_pools = self._gate_pools, {}
            self._gate_closed = True
        for pool in pools.values():
            pool.shutdown(wait=False)
        stop = getattr(self.gate, "stop", None)
        if callable(stop):
            try:
                stop()
            except Exception:
                logging.getLogger("eerest").warning("could not stop %r", self.gate, exc_info=True)

    async def _gate_acquire(self, gate: Gate, timeout: float | None) -> bool:
        """``gate.acquire(timeout)`` in this limiter's threads. Cancelled while it runs, the
        lease it may still take is given back once it does (never leaked)."""
        import asyncio

        future = asyncio.wrap_future(
            self._gate_submit("acquire", gate.acquire, timeout), loop=asyncio.get_running_loop()
        )
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:

            def give_back(done: asyncio.Future[bool]) -> None:
                if not done.cancelled() and done.exception() is None and done.result():
                    self._gate_release_soon(gate)

            future.add_done_callback(give_back)
            raise

    def _gate_release_soon(self, gate: Gate) -> None:
        """``gate.release()`` in this limiter's release thread; a failure is logged (the
        lease then ends as the gate ends leases of a client that went away)."""

        def release() -> None:
            try:
                gate.release()
            except Exception:
                logging.getLogger("eerest").warning("could not give back a lease of %r", gate, exc_info=True)

        self._gate_submit("release", release)


def _run_into(future: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """``fn(*args)`` into a ``concurrent.futures.Future``."""
    try:
        future.set_result(fn(*args))
    except BaseException as exc:
        future.set_exception(exc)


def _slot_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    return timeout.get("pool") if isinstance(timeout, dict) else None


def _no_slot(request: httpx.Request, timeout: float | None, what: str = "the client's limiter") -> Exception:
    import httpx

    return httpx.PoolTimeout(
        f"no request slot of {what} came free within {timeout} s (the pool timeout, clipped to the call's deadline)",
        request=request,
    )


class Gate(Protocol):
    """A limit on requests in flight shared beyond one limiter (e.g. a ``distributed.Semaphore``
    for a whole dask cluster): ``acquire(timeout)`` takes a lease (False: none within
    ``timeout`` seconds, ``None``: no limit), ``release()`` gives it back. A gate with
    background work of its own may also have ``stop()``, which :meth:`Limiter.close` calls
    when the client closes (its next ``acquire`` starts that work again)."""

    def acquire(self, timeout: float | None = None) -> bool: ...

    def release(self) -> Any: ...


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _release_on_close(stream: object, limiter: Limiter, name: str, gate: Gate | None = None) -> None:
    """Make ``stream.<name>()`` (close or aclose) give the limiter's slot (and the gate's
    lease) back, once. The stream object itself stays httpx's, so nothing that inspects it
    is disturbed."""
    closer = getattr(stream, name)
    released: list[bool] = []

    def give_back() -> None:
        if not released:
            released.append(True)
            if name == "aclose":
                limiter._arelease_both(gate)
            else:
                limiter._release_both(gate)

    if name == "aclose":

        async def aclose() -> None:
            try:
                await closer()
            finally:
                give_back()

        setattr(stream, name, aclose)
    else:

        def close() -> None:
            try:
                closer()
            finally:
                give_back()

        setattr(stream, name, close)
