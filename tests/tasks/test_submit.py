"""submit_exports with many requests in flight: the schedule's limits (a property test of the
pure part, eerest._tasks.submit._schedule, driven by a simulated service), and the sync and
async clients against the loopback fake of the batch service (tests/tasks/fake_tasks.py)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eerest
from eerest._tasks.submit import SubmitPolicy, _Await, _Refresh, _schedule, _Send, _Sleep
from tests.tasks.fake_tasks import PROJECT, FakeTasks

EXPR = {"result": "0", "values": {"0": {"constantValue": 1}}}
FAST = SubmitPolicy(initial_backoff=0.001, max_backoff=0.01, poll=0.001)


class _Task:
    """What the schedule reads of an operation: ``done`` and ``state``."""

    def __init__(self, index: int, queued: bool) -> None:
        self.index = index
        self.done = False
        self.state = "PENDING" if queued else "RUNNING"


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 60),
    max_queued=st.integers(1, 12),
    max_concurrency=st.integers(1, 8),
    refresh_batch=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_schedule_keeps_its_limits_starts_in_order_and_loses_nothing(
    n: int, max_queued: int, max_concurrency: int, refresh_batch: int, seed: int
) -> None:
    rand = random.Random(seed)
    policy = SubmitPolicy(poll=1.0, refresh_batch=refresh_batch)
    steps = _schedule(n, max_queued, max_concurrency, policy)
    in_flight: list[int] = []
    queued: list[_Task] = []  # ours still PENDING, oldest first (what the service knows)
    sent: list[int] = []
    made: dict[int, Any] = {}
    answer: Any = None
    try:
        while True:
            step = steps.send(answer)
            answer = None
            if isinstance(step, _Send):
                assert len(in_flight) < max_concurrency
                assert len(queued) + len(in_flight) < max_queued
                sent.append(step.index)
                in_flight.append(step.index)
            elif isinstance(step, _Await):
                assert in_flight
                ended = rand.sample(in_flight, rand.randint(1, len(in_flight)))
                answer = []
                for i in ended:
                    in_flight.remove(i)
                    if rand.random() < 0.1:
                        made[i] = ValueError("refused for good")
                    else:
                        made[i] = _Task(i, queued=rand.random() < 0.7)
                        if made[i].state == "PENDING":
                            queued.append(made[i])
                    answer.append((i, made[i]))
            elif isinstance(step, _Refresh):
                assert not in_flight  # refreshed only when nothing can end on its own
                assert step.ops == queued[: min(refresh_batch, len(queued))]
                for op in step.ops:  # some start running
                    if rand.random() < 0.5:
                        op.state = "RUNNING"
                queued = [op for op in queued if op.state == "PENDING"]
            else:  # no refreshed task had started: the schedule waits before refreshing again
                assert isinstance(step, _Sleep) and step.seconds == policy.poll
    except StopIteration as finished:
        results, errors = finished.value
    assert sent == list(range(n))
    assert not in_flight
    assert set(errors) == {i for i, m in made.items() if isinstance(m, Exception)}
    assert results == [None if isinstance(made[i], Exception) else made[i] for i in range(n)]


@pytest.fixture
def fake() -> Iterator[FakeTasks]:
    f = FakeTasks()
    yield f
    f.close()


def _client(fake: FakeTasks) -> eerest.Client:
    from google.oauth2.credentials import Credentials

    return eerest.Client(project=PROJECT, base_url=fake.url, credentials=Credentials("t"), max_requests_per_second=None)


def _requests(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"kind": "image", "expression": EXPR, "description": f"e{i}", **extra} for i in range(n)]


def test_submit_exports_keeps_max_concurrency_requests_in_flight(fake: FakeTasks) -> None:
    fake.gather = 8  # the first 8 answered only once all 8 are in flight: a 9th would show
    with _client(fake) as c:
        ops = c.submit_exports(_requests(24), max_concurrency=8, policy=FAST)
    assert fake.max_exports_in_flight == 8
    assert [fake.bodies[op.name]["description"] for op in ops] == [f"e{i}" for i in range(24)]
    assert len(fake.ops) == 24


def test_submit_exports_one_at_a_time_creates_in_order(fake: FakeTasks) -> None:
    fake.latency = 0.01
    with _client(fake) as c:
        ops = c.submit_exports(_requests(12), max_concurrency=1, policy=FAST)
    assert fake.max_exports_in_flight == 1
    assert [op.name for op in ops] == sorted(op.name for op in ops)  # the service numbers them as made


def test_submit_exports_default_is_the_clients_max_concurrency(fake: FakeTasks) -> None:
    from google.oauth2.credentials import Credentials

    with eerest.Client(
        project=PROJECT, base_url=fake.url, credentials=Credentials("t"), max_requests_per_second=None,
        max_concurrency=3,
    ) as c:
        fake.gather = 3
        c.submit_exports(_requests(9), policy=FAST)
    assert fake.max_exports_in_flight == 3


def test_submit_exports_never_queues_more_than_max_queued(fake: FakeTasks) -> None:
    fake.latency = 0.02
    with _client(fake) as c:
        ops = c.submit_exports(_requests(30), max_queued=4, max_concurrency=8, policy=FAST)
    assert len({op.name for op in ops}) == 30
    assert fake.max_pending_seen <= 4 and fake.max_exports_in_flight <= 4


@pytest.mark.parametrize("bad", [{"max_concurrency": 0}, {"max_concurrency": 2.5}, {"max_queued": 0}])
def test_submit_exports_refuses_bad_limits_before_sending(fake: FakeTasks, bad: dict[str, Any]) -> None:
    with _client(fake) as c, pytest.raises(eerest.InvalidRequestError, match="must be a positive integer"):
        c.submit_exports(_requests(2), **bad)
    assert fake.calls == []


def test_a_malformed_answer_raises_and_stops_the_others(fake: FakeTasks) -> None:
    fake.latency = 0.01
    requests = _requests(40)
    requests[3]["description"] = "garbled"
    with _client(fake) as c, pytest.raises(eerest.ResponseDecodeError):
        c.submit_exports(requests, max_concurrency=2, policy=FAST)
    assert len(fake.ops) < 39  # the call stopped sending


async def test_async_submit_exports_keeps_max_concurrency_requests_in_flight(fake: FakeTasks) -> None:
    from google.oauth2.credentials import Credentials

    async with eerest.AsyncClient(
        project=PROJECT, base_url=fake.url, credentials=Credentials("t"), max_requests_per_second=None
    ) as c:
        fake.gather = 8
        ops = await c.submit_exports(_requests(24), max_concurrency=8, policy=FAST)
        assert fake.max_exports_in_flight == 8
        assert [fake.bodies[op.name]["description"] for op in ops] == [f"e{i}" for i in range(24)]
        requests = _requests(40)
        requests[3]["description"] = "garbled"
        before = len(fake.ops)
        with pytest.raises(eerest.ResponseDecodeError):
            await c.submit_exports(requests, max_concurrency=2, policy=FAST)
        assert len(fake.ops) - before < 39


def test_no_requests_sends_nothing(fake: FakeTasks) -> None:
    with _client(fake) as c:
        assert c.submit_exports([]) == []
    assert fake.calls == []
