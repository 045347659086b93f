"""The per-client limiter: pure AIMD/rate decisions, threads, tasks, and the clients' use of it."""

from __future__ import annotations

import asyncio
import math
import threading

import pytest
from eerest_emulator.testing import emulator_credentials
from hypothesis import given, settings
from hypothesis import strategies as st

import eerest
from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_REQUESTS_PER_SECOND, Limiter, LimiterState
from eerest.errors import InvalidRequestError

ASSET = "projects/eerest/assets/sample/scenes/20240504"


# -- pure state ---------------------------------------------------------------------------
def test_aimd_halves_once_per_cooldown_and_recovers_additively() -> None:
    s = LimiterState(max_concurrency=16, max_rate=math.inf)
    s.on_throttled(10.0)
    assert s.effective_concurrency == 8
    s.on_throttled(10.5)  # answers of requests already in flight: one decrease
    assert s.effective_concurrency == 8
    s.on_throttled(11.0)
    assert s.effective_concurrency == 4
    for _ in range(100):
        s.on_success(12.0)  # within `hold` of the decrease: no growth yet
    assert s.effective_concurrency == 4
    for _ in range(5):
        s.on_success(17.0)  # about one slot per `limit` successes
    assert s.effective_concurrency == 5
    for _ in range(1000):
        s.on_success(20.0)
    assert s.effective_concurrency == 16  # never above the maximum
    for t in range(10):
        s.on_throttled(30.0 + t)
    assert s.effective_concurrency == 1 and s.throttled == 13  # never below one


def test_admission_waits_for_a_slot() -> None:
    s = LimiterState(max_concurrency=2, max_rate=math.inf)
    assert s.try_acquire(0.0) is None and s.try_acquire(0.0) is None
    assert s.try_acquire(0.0) == math.inf
    s.release()
    assert s.try_acquire(0.0) is None
    s.on_throttled(1.0)  # limit 1 with 2 in flight: both must finish first
    s.release()
    assert s.try_acquire(1.0) == math.inf
    s.release()
    assert s.try_acquire(1.0) is None
    with pytest.raises(RuntimeError):
        LimiterState(max_concurrency=1).release()


def test_rate_token_bucket() -> None:
    s = LimiterState(max_concurrency=math.inf, max_rate=10.0, burst=2.0)
    assert s.try_acquire(0.0) is None and s.try_acquire(0.0) is None
    assert s.try_acquire(0.0) == pytest.approx(0.1)
    assert s.try_acquire(0.05) == pytest.approx(0.05)
    assert s.try_acquire(0.1) is None


@settings(max_examples=200, deadline=None)
@given(
    max_concurrency=st.integers(1, 40),
    rate=st.floats(1.0, 200.0),
    ops=st.lists(st.tuples(st.sampled_from(["acquire", "release", "429", "ok"]), st.floats(0.0, 0.5)), max_size=300),
)
def test_state_invariants(max_concurrency: int, rate: float, ops: list[tuple[str, float]]) -> None:
    s = LimiterState(max_concurrency=max_concurrency, max_rate=rate)
    now, starts = 0.0, []
    for op, dt in ops:
        now += dt
        if op == "acquire":
            limit = s.effective_concurrency
            if s.try_acquire(now) is None:
                starts.append(now)
                assert s.in_flight <= limit
        elif op == "release" and s.in_flight:
            s.release()
        elif op == "429":
            s.on_throttled(now)
        elif op == "ok":
            s.on_success(now)
        assert 1 <= s.effective_concurrency <= max_concurrency
        assert s.tokens <= s.burst  # type: ignore[operator]
    # the bucket: no window of time admits more than burst + rate * its length
    for i, t0 in enumerate(starts):
        for j in range(i, len(starts)):
            assert j - i + 1 <= s.burst + rate * (starts[j] - t0) + 1e-6  # type: ignore[operator]


def test_arguments_checked() -> None:
    for kwargs in ({"max_concurrency": 0}, {"max_concurrency": 2.5}, {"max_requests_per_second": 0}, {"max_concurrency": "8"}):
        with pytest.raises(InvalidRequestError):
            Limiter(**kwargs)  # type: ignore[arg-type]
    unlimited = Limiter(None, None)
    assert unlimited.max_concurrency is None and unlimited.max_requests_per_second is None
    assert Limiter().max_concurrency == DEFAULT_MAX_CONCURRENCY < 40
    assert Limiter().max_requests_per_second == DEFAULT_MAX_REQUESTS_PER_SECOND < 100


# -- threads and tasks ------------------------------------------------------------------------
def test_threads_never_exceed_the_limit() -> None:
    limiter = Limiter(3, None)
    lock, active, peak = threading.Lock(), [0], [0]
    gate = threading.Barrier(3)

    def work(i: int) -> None:
        with limiter.slot():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            if i < 3:
                gate.wait(timeout=10)  # the first three hold their slots together
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3 and limiter.in_flight == 0


def test_one_limiter_across_event_loops_and_threads() -> None:
    limiter = Limiter(2, None)
    peak, active = [0], [0]
    lock = threading.Lock()

    async def task() -> None:
        async with limiter.aslot():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            await asyncio.sleep(0.005)
            with lock:
                active[0] -= 1

    async def many() -> None:
        await asyncio.gather(*(task() for _ in range(10)))

    asyncio.run(many())  # one loop, then another: nothing is bound to the first
    asyncio.run(many())
    # two loops in two threads at once, and a sync thread, all on one limiter
    threads = [threading.Thread(target=asyncio.run, args=(many(),)) for _ in range(2)]
    threads.append(threading.Thread(target=lambda: [limiter.acquire(), limiter.release()]))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2 and limiter.in_flight == 0


async def test_cancelled_waiter_leaves_nothing_behind() -> None:
    limiter = Limiter(1, None)
    await limiter.aacquire()
    waiter = asyncio.ensure_future(limiter.aacquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter._async_waiters == [] and limiter.in_flight == 1
    limiter.release()
    await asyncio.wait_for(limiter.aacquire(), 5)
    limiter.release()


# -- the clients ---------------------------------------------------------------------------
def _client(emu, cls=eerest.Client, **kwargs):  # type: ignore[no-untyped-def]
    return cls(project="eerest", base_url=emu.url, credentials=emulator_credentials(), max_retries=0, **kwargs)


GRID = {"dimensions": {"width": 8, "height": 8}, "crsCode": "EPSG:32633",
        "affineTransform": {"scaleX": 10, "scaleY": -10, "translateX": 500000, "translateY": 4100000}}


def test_client_threads_never_exceed_the_quota(ee_emulator) -> None:  # type: ignore[no-untyped-def]
    ee_emulator.faults.set_limits(max_concurrent=3)
    ee_emulator.faults.slow(0.05, count=30)
    client = _client(ee_emulator, max_concurrency=3)
    client.projects.assets.get(name=ASSET)  # cached by get_pixels' checks
    assert client.limiter.max_concurrency == 3

    def work() -> None:
        for _ in range(3):
            client.projects.assets.get_pixels(name=ASSET, file_format="NPY", grid=GRID)

    threads = [threading.Thread(target=work) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    assert ee_emulator.faults.rejected == 0 and ee_emulator.faults.peak_concurrent["eerest"] == 3
    assert client.limiter.in_flight == 0


async def test_async_client_never_exceeds_the_quota(ee_emulator) -> None:  # type: ignore[no-untyped-def]
    ee_emulator.faults.set_limits(max_concurrent=4)
    ee_emulator.faults.slow(0.05, count=40)
    async with _client(ee_emulator, eerest.AsyncClient, max_concurrency=4) as client:
        await asyncio.gather(
            *(client.projects.image.compute_pixels(expression=_constant(), file_format="NPY", grid=GRID) for _ in range(24))
        )
    assert ee_emulator.faults.rejected == 0 and ee_emulator.faults.peak_concurrent["eerest"] == 4
    assert client.limiter.in_flight == 0


def _constant() -> dict:
    return {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.constant", "arguments": {"value": {"constantValue": 1}}}}}}


def test_429_lowers_the_limit_and_slots_come_back(ee_emulator) -> None:  # type: ignore[no-untyped-def]
    client = _client(ee_emulator, max_concurrency=8)
    client._retry = client._retry.__class__(max_retries=2, initial_delay=0.01)
    ee_emulator.faults.fail(429, count=1, retry_after=0)
    client.projects.assets.get(name=ASSET)
    assert client.limiter.throttled == 1 and client.limiter.effective_concurrency == 4
    with pytest.raises(eerest.NotFoundError):
        client.projects.assets.get(name="projects/eerest/assets/nope")
    with client.projects.image.with_streaming_response.compute_pixels(
        expression=_constant(), file_format="NPY", grid=GRID
    ):
        assert client.limiter.in_flight == 1  # held while the body is open
    assert client.limiter.in_flight == 0
    big = {**GRID, "dimensions": {"width": 700, "height": 700}}  # 2 MB of float32: read straight from the socket
    expr = {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.constant", "arguments": {"value": {"constantValue": 1.5}}}}}}
    assert client.projects.image.compute_pixels(expression=expr, file_format="NPY", grid=big).to_numpy().nbytes > 2**20
    assert client.limiter.in_flight == 0
    client.close()


def test_async_client_in_successive_event_loops(ee_emulator) -> None:  # type: ignore[no-untyped-def]
    client = _client(ee_emulator, eerest.AsyncClient, max_concurrency=2)

    async def some() -> None:
        await asyncio.gather(*(client.projects.assets.get(name=ASSET) for _ in range(4)))

    asyncio.run(some())
    asyncio.run(some())  # a new loop: a new connection pool, the same limiter
    assert client.limiter.in_flight == 0
    asyncio.run(client.close())


# -- the wait for a slot counts against the call's deadline --------------------------------
def test_acquire_gives_up_after_its_timeout() -> None:
    limiter = Limiter(max_concurrency=1, max_requests_per_second=None)
    assert limiter.acquire(timeout=0.01) is True
    assert limiter.acquire(timeout=0.01) is False  # the one slot is taken
    assert limiter.in_flight == 1
    limiter.release()
    assert limiter.acquire(timeout=0.01) is True


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_waiting_for_a_slot_ends_with_the_deadline(kind: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from scripted_server import ScriptedServer

    with ScriptedServer() as server:
        kw = {"base_url": server.url, "credentials": AnonymousCredentials(), "max_concurrency": 1, "deadline": 0.2}
        if kind == "sync":
            with eerest.Client("p", **kw) as c:
                c.limiter.acquire()  # another thread's request holds the only slot
                with pytest.raises(eerest.APITimeoutError, match="deadline"):
                    c.projects.assets.get(name=ASSET)
                assert c.limiter.in_flight == 1
        else:

            async def main() -> None:
                async with eerest.AsyncClient("p", **kw) as c:
                    await c.limiter.aacquire()
                    with pytest.raises(eerest.APITimeoutError, match="deadline"):
                        await c.projects.assets.get(name=ASSET)
                    assert c.limiter.in_flight == 1

            asyncio.run(main())
        assert server.requests == []  # never sent


# -- a gate (a limit shared with other processes) and its threads -------------------------
class _CountingGate:
    """A gate of a few leases, as ``cluster_max_concurrency``'s ``distributed.Semaphore`` is
    one, counting its ``stop()`` calls."""

    def __init__(self, leases: int) -> None:
        self._leases = threading.BoundedSemaphore(leases)
        self.stops = 0

    def acquire(self, timeout: float | None = None) -> bool:
        return self._leases.acquire(timeout=timeout)

    def release(self) -> None:
        self._leases.release()

    def stop(self) -> None:
        self.stops += 1


def _gate_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("eerest-gate")]


def _wait_for_no_gate_threads() -> list[threading.Thread]:
    for _ in range(200):  # a shut-down pool's threads end as soon as they see it (milliseconds)
        if not _gate_threads():
            break
        threading.Event().wait(0.01)
    return _gate_threads()


def test_closing_an_async_client_ends_its_gate_threads(ee_emulator) -> None:  # type: ignore[no-untyped-def]
    """An async client with a gate runs the gate's blocking calls in threads of its own;
    closing the client ends them and stops the gate, and repeated open/close leaks none."""
    assert _wait_for_no_gate_threads() == []
    gate = _CountingGate(2)

    async def use_once() -> eerest.AsyncClient:
        async with _client(ee_emulator, eerest.AsyncClient, max_concurrency=4) as client:
            client.limiter.gate = gate
            await asyncio.gather(*(client.projects.assets.get(name=ASSET) for _ in range(6)))
            assert _gate_threads()  # acquire and release threads, while the client is open
        return client  # closed, and still referenced: its threads must not wait for the GC

    kept = [asyncio.run(use_once()) for _ in range(3)]
    assert _wait_for_no_gate_threads() == []
    assert gate.stops >= 3 and all(c.limiter.in_flight == 0 for c in kept)
    assert gate.acquire(0) and gate.acquire(0)  # every lease was given back

    async def reuse() -> None:  # a client used after its close makes its threads again
        client = kept[0]
        gate.release(), gate.release()
        await client.projects.assets.get(name=ASSET)
        await client.close()

    asyncio.run(reuse())
    assert _wait_for_no_gate_threads() == []


def test_a_lease_given_back_after_close_leaves_no_thread() -> None:
    limiter = Limiter(max_concurrency=2, max_requests_per_second=None)
    gate = _CountingGate(1)
    assert gate.acquire(0)
    limiter.close()  # as a client's close, before a cancelled request's lease comes back
    limiter._gate_release_soon(gate)
    assert _wait_for_no_gate_threads() == []
    assert gate.acquire(0)  # given back
