"""Operation / AsyncOperation, export and submit_exports against a loopback fake of the
service's batch tasks (tests/tasks/fake_tasks.py)."""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

import eerest
from eerest._tasks.submit import SubmitPolicy
from tests.tasks.fake_tasks import PROJECT, FakeTasks

EXPR = {"result": "0", "values": {"0": {"constantValue": 1}}}
FAST = SubmitPolicy(initial_backoff=0.001, max_backoff=0.01, poll=0.001)


@pytest.fixture
def fake() -> Iterator[FakeTasks]:
    f = FakeTasks()
    yield f
    f.close()


def client(fake: FakeTasks, version: str = "v1") -> Any:
    from google.oauth2.credentials import Credentials

    mod = getattr(eerest, version)
    return mod.Client(project=PROJECT, base_url=fake.url, credentials=Credentials("t"), max_requests_per_second=None)


def aclient(fake: FakeTasks) -> eerest.AsyncClient:
    from google.oauth2.credentials import Credentials

    return eerest.AsyncClient(
        project=PROJECT, base_url=fake.url, credentials=Credentials("t"), max_requests_per_second=None
    )


def test_export_returns_an_operation_with_typed_metadata(fake: FakeTasks) -> None:
    with client(fake) as c:
        op = c.export(eerest.v1.types.ExportImageRequest(expression=EXPR, description="a"))
        assert isinstance(op, eerest.Operation) and op.name.startswith(PROJECT + "/operations/")
        assert not op.done and op.metadata.state == "PENDING" and op.metadata.type == "EXPORT_IMAGE"
        assert op.metadata.create_time == datetime.datetime(2026, 12, 5, 10, 0, 0, 123456, tzinfo=datetime.timezone.utc)
        assert fake.bodies[op.name]["requestId"].startswith("eerest-")
        op.refresh()
        assert op.metadata.state == "RUNNING" and op.metadata.progress == 0.5
        assert op.metadata.stages[0].display_name == "Create Local Files"
        assert op.result(timeout=5) == {"@type": "type.googleapis.com/google.protobuf.Empty"}
        meta = op.metadata
        assert op.done and meta.state == "SUCCEEDED" and meta.batch_eecu_usage_seconds == 12.5
        assert meta.destination_uris == ("https://drive.google.com/#folders/abc",)
        assert repr(op) == f"Operation(name={op.name!r}, done=True, state='SUCCEEDED', progress=100%, description='a')"
        assert ("POST", f"/v1/{op.name}:wait") in fake.calls


@pytest.mark.parametrize("version", ["v1alpha", "v1beta", "v1"])
def test_every_version_and_kinds(fake: FakeTasks, version: str) -> None:
    with client(fake, version) as c:
        for kind in ("image", "table", "video", "map", "classifier"):
            op = c.export({"kind": kind, "expression": EXPR})
            assert fake.ops[op.name]["metadata"]["type"] == f"EXPORT_{kind.upper()}"
        assert c.export(("table", {"expression": EXPR})).metadata.type == "EXPORT_TABLE"
        with pytest.raises(eerest.InvalidRequestError, match="export kind"):
            c.export({"expression": EXPR})


def test_failed_operation_raises_typed_error(fake: FakeTasks) -> None:
    with client(fake) as c:
        op = c.export({"kind": "image", "expression": EXPR, "description": "fail"})
        with pytest.raises(eerest.BadRequestError, match="not found") as info:
            op.result(timeout=5)
        assert info.value.status == "INVALID_ARGUMENT" and info.value.status_code == 400
        pickle.loads(pickle.dumps(info.value))


def test_cancel_then_result_raises_cancelled(fake: FakeTasks) -> None:
    with client(fake) as c:
        op = c.export({"kind": "image", "expression": EXPR})
        op.cancel()
        with pytest.raises(eerest.OperationCancelledError, match="cancelled") as info:
            op.result(timeout=5)
        assert info.value.operation == op.name
        op.delete()
        with pytest.raises(eerest.NotFoundError):
            op.refresh()


def test_polls_with_backoff_where_wait_is_not_served(fake: FakeTasks) -> None:
    fake.serve_wait = False
    with client(fake) as c:
        op = c.export({"kind": "image", "expression": EXPR})
        op.wait(timeout=5, poll=0.001)
        assert op.done
        assert sum(call[1].endswith(":wait") for call in fake.calls) == 1  # tried once, then polled


def test_wait_honours_its_timeout(fake: FakeTasks) -> None:
    fake.serve_wait = False
    with client(fake) as c:
        op = c.operation(fake.add(state="RUNNING")["name"])
        fake.bodies[op.name] = {}
        # each get moves it on: make it never finish by never answering done
        fake._step = lambda o: None  # type: ignore[method-assign]
        with pytest.raises(TimeoutError):
            op.wait(timeout=0.05, poll=0.01)


def test_reattach_by_name_and_list(fake: FakeTasks) -> None:
    made = [fake.add() for _ in range(5)]
    with client(fake) as c:
        op = c.operation(made[0]["name"].rpartition("/")[2])  # a bare id, in the client's project
        assert op.name == made[0]["name"] and repr(op) == f"Operation(name={op.name!r}, done=False)"
        assert op.refresh().metadata.state == "RUNNING"
        listed = list(c.list_operations(page_size=2))
        assert [o.name for o in listed] == [m["name"] for m in made] and all(
            isinstance(o, eerest.Operation) for o in listed
        )
        with pytest.raises(eerest.InvalidRequestError):
            c.operation("projects/x/assets/y")


def submit_many(n: int, cap: int, max_queued: int) -> None:
    fake = FakeTasks(cap=cap, p_429=0.02, p_lost_answer=0.02, seed=1)
    try:
        requests: list[Any] = [{"kind": "table", "expression": EXPR, "description": f"t{i}"} for i in range(n)]
        with client(fake) as c:
            # 4 in flight: the fake serves from this process, so more senders only contend for its GIL
            ops = c.submit_exports(requests, max_queued=max_queued, max_concurrency=4, policy=FAST)
        assert len(ops) == n
        # in order, none lost, none duplicated
        assert [fake.bodies[op.name]["description"] for op in ops] == [f"t{i}" for i in range(n)]
        assert len(fake.ops) == n and len({op.name for op in ops}) == n
        assert fake.max_pending_seen <= cap
        lost = sum(1 for m, p in fake.calls if p.endswith(":export")) - n
        assert lost > 0  # some answers were 429s or lost 503s, and were sent again
    finally:
        fake.close()


def test_submit_exports_400_under_a_queue_cap_with_429s_and_lost_answers() -> None:
    submit_many(400, cap=30, max_queued=25)


@pytest.mark.slow
def test_submit_exports_2500_under_a_queue_cap_with_429s_and_lost_answers() -> None:
    # ten refills of the queue; the emulator's own test submits 10,000 (submission costs ~2.5 ms
    # a request against this in-process fake, so 10,000 would take 25 s of the suite's budget)
    submit_many(2_500, cap=300, max_queued=250)


def test_submit_exports_waits_out_a_full_queue_from_others(fake: FakeTasks) -> None:
    fake.cap = 3
    for _ in range(3):
        fake.add()  # someone else's tasks fill the project's queue
    with client(fake) as c:
        others = [c.operation(o) for o in list(fake.ops)]
        import threading

        def drain() -> None:
            for o in others:
                o.refresh()  # they start running

        t = threading.Timer(0.05, drain)
        t.start()
        ops = c.submit_exports([{"kind": "image", "expression": EXPR}] * 2, policy=FAST)
        t.join()
        assert len(ops) == 2 and len(fake.ops) == 5


def test_submit_exports_reports_bad_requests_and_keeps_the_rest(fake: FakeTasks) -> None:
    with client(fake) as c:
        with pytest.raises(eerest.SubmitError) as info:
            c.submit_exports(
                [{"kind": "image", "expression": EXPR}, {"kind": "image", "expression": EXPR, "requestId": "bad id!"}],
                policy=FAST,
            )
    first, second = info.value.operations
    assert isinstance(first, eerest.Operation) and first.name in fake.ops and second is None
    assert isinstance(info.value.errors[1], eerest.BadRequestError) and len(fake.ops) == 1


async def test_async_operation(fake: FakeTasks) -> None:
    async with aclient(fake) as c:
        op = await c.export({"kind": "video", "expression": EXPR})
        assert isinstance(op, eerest.AsyncOperation)
        assert await op.result(timeout=5) == {"@type": "type.googleapis.com/google.protobuf.Empty"}
        ops = await c.submit_exports([{"kind": "map", "expression": EXPR}] * 20, max_queued=5, policy=FAST)
        assert len({o.name for o in ops}) == 20
        names = [o.name async for o in c.list_operations()]
        assert len(names) == 21
        other = c.operation(ops[0].name)
        await other.cancel()
        with pytest.raises(eerest.OperationCancelledError):
            await other.result()
