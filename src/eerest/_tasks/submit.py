"""Exports one by one or by the thousand: the request each export sends, and ``submit_exports``,
which keeps many requests in flight, stays under the project's queued-task limit and neither
loses nor duplicates a task.

Pure parts: :func:`export_call` (method and body of a request), :func:`classify` and
:func:`retry_delay` (what to do after an error), :class:`SubmitPolicy` (backoff) and
:func:`_schedule` (which request to send when, what to refresh). Its drivers are
:func:`run_sync` (worker threads) and :func:`run_async` (tasks)."""

from __future__ import annotations

import random
import time
import uuid
from collections import deque
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from eerest._core.types import RequestOptions
from eerest._ee import to_expression
from eerest._tasks.operation import AsyncOperation, Operation
from eerest.errors import APIConnectionError, APIStatusError, InvalidRequestError

if TYPE_CHECKING:
    from eerest._core.client import AsyncClientBase, SyncClientBase
    from eerest._core.message import Message

__all__ = [
    "EXPORT_KINDS",
    "ExportRequest",
    "SubmitError",
    "SubmitPolicy",
    "classify",
    "export_call",
    "retry_delay",
    "run_async",
    "run_sync",
]

#: Export kinds and their methods.
EXPORT_KINDS = {
    "image": "projects.image.export",
    "table": "projects.table.export",
    "video": "projects.video.export",
    "map": "projects.map.export",
    "classifier": "projects.classifier.export",
}
_BY_CLASS = {
    "ExportImageRequest": "image",
    "ExportTableRequest": "table",
    "ExportVideoRequest": "video",
    "ExportMapRequest": "map",
    "ExportClassifierRequest": "classifier",
}

#: A typed ``Export*Request``, a dict with a ``"kind"`` key, or a ``(kind, request)`` pair.
ExportRequest: TypeAlias = "Message | Mapping[str, Any] | tuple[str, Message | Mapping[str, Any]]"


def new_request_id() -> str:
    """A fresh ``requestId`` (letters, digits and '-', at most 60 characters)."""
    return "eerest-" + uuid.uuid4().hex


def export_call(request: Any, kind: str | None = None) -> tuple[str, dict[str, Any]]:
    """The method id and JSON body of one export request, with a ``requestId``: pure but for
    the fresh id."""
    if isinstance(request, tuple) and len(request) == 2 and isinstance(request[0], str):
        kind, request = request
    if isinstance(request, Mapping):
        body = dict(request)
        kind = body.pop("kind", None) or kind
    elif hasattr(request, "to_dict"):
        kind = kind or _BY_CLASS.get(type(request).__name__)
        body = dict(request.to_dict())
    else:
        raise InvalidRequestError(f"not an export request: {type(request).__name__}")
    if kind not in EXPORT_KINDS:
        raise InvalidRequestError(
            f"export kind {kind!r}: pass one of {sorted(EXPORT_KINDS)} (kind=, a 'kind' key, or a typed request)"
        )
    if "expression" in body:
        body["expression"] = to_expression(body["expression"])
    if not body.get("requestId"):
        body["requestId"] = new_request_id()
    return EXPORT_KINDS[kind], body


Action = Literal["retry", "backoff", "fail"]


def classify(error: Exception) -> Action:
    """After a submission failed: ``"backoff"`` (429: the queue or a quota is full; wait, free
    slots, send again), ``"retry"`` (5xx or the connection: it may have been created, so send the
    same ``requestId`` again) or ``"fail"`` (the request itself is wrong): pure."""
    if isinstance(error, APIStatusError):
        if error.status_code == 429:
            return "backoff"
        if error.status_code >= 500:
            return "retry"
        return "fail"
    if isinstance(error, APIConnectionError):
        return "retry"
    return "fail"


@dataclass(frozen=True)
class SubmitPolicy:
    """How ``submit_exports`` waits: backoff after 429 and 5xx (full jitter, doubling from
    ``initial_backoff`` to ``max_backoff`` seconds), how often it re-checks its queued tasks when
    at ``max_queued`` (``poll`` seconds), how many of the oldest it refreshes at a time, and how
    many failed attempts of one request it makes before giving up (``None``: no limit)."""

    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    poll: float = 10.0
    refresh_batch: int = 100
    max_attempts: int | None = None

    def backoff(self, failures: int) -> float:
        return random.uniform(0, min(self.max_backoff, self.initial_backoff * 2 ** min(failures, 30)))


class SubmitError(InvalidRequestError):
    """Some requests of ``submit_exports`` could not be submitted: ``operations`` holds the
    Operation of each request in order (``None`` where it failed), ``errors`` the error by index."""

    def __init__(self, message: str, *, operations: list[Any], errors: dict[int, Exception]) -> None:
        super().__init__(message)
        self.operations = operations
        self.errors = errors


def _queued(op: Operation | AsyncOperation) -> bool:
    """Whether one of our tasks still holds a place in the project's queue: pure."""
    return not op.done and op.state not in ("RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")


def retry_delay(policy: SubmitPolicy, error: Exception, failures: int) -> float | None:
    """Seconds to wait before sending a failed request again (the same ``requestId``), or
    ``None``: give up on it (refused for good, or ``policy.max_attempts`` reached)."""
    if classify(error) == "fail" or (policy.max_attempts is not None and failures >= policy.max_attempts):
        return None
    return policy.backoff(failures - 1)


# What the schedule asks its driver to do (the driver answers with ``generator.send``).
@dataclass(frozen=True)
class _Send:
    """Start sending request ``index`` (with its retries), without waiting; answer ``None``."""

    index: int


@dataclass(frozen=True)
class _Await:
    """Wait until at least one send has ended; answer ``[(index, Operation or error), ...]``."""


@dataclass(frozen=True)
class _Refresh:
    """Refresh these operations (one request each, concurrently if you can); answer ``None``."""

    ops: list[Any]


@dataclass(frozen=True)
class _Sleep:
    seconds: float


_Step: TypeAlias = "_Send | _Await | _Refresh | _Sleep"
_Outcome: TypeAlias = "tuple[list[Any], dict[int, Exception]]"


def _schedule(
    n: int, max_queued: int, max_concurrency: int, policy: SubmitPolicy
) -> Generator[_Step, Any, _Outcome]:
    """The decisions of ``submit_exports``, apart from I/O: requests are started in order,
    at most ``max_concurrency`` in flight and at most ``max_queued`` of ours queued or in
    flight at once; when that is full and nothing is in flight, the oldest queued tasks
    are refreshed until some start or finish (waiting ``policy.poll`` when none has).
    Returns the operations in request order (``None`` where it failed) and the errors."""
    results: list[Any] = [None] * n
    errors: dict[int, Exception] = {}
    queue: deque[Any] = deque()  # our tasks still queued, oldest first
    in_flight = 0
    index = 0
    while index < n or in_flight:
        if index < n and in_flight < max_concurrency and len(queue) + in_flight < max_queued:
            yield _Send(index)
            index += 1
            in_flight += 1
            continue
        if in_flight:
            ended = yield _Await()
            for i, outcome in ended:
                in_flight -= 1
                if isinstance(outcome, Exception):
                    errors[i] = outcome
                else:
                    results[i] = outcome
                    if _queued(outcome):
                        queue.append(outcome)
            continue
        before = len(queue)
        yield _Refresh(list(queue)[: policy.refresh_batch])
        queue = deque(op for op in queue if _queued(op))
        if len(queue) == before:
            yield _Sleep(policy.poll)
    return results, errors


def _failed(results: list[Any], errors: dict[int, Exception]) -> SubmitError:
    first = errors[min(errors)]
    return SubmitError(
        f"{len(errors)} of {len(results)} exports could not be submitted (the first: {first}); "
        "the others were submitted: see .operations",
        operations=results,
        errors=errors,
    )


@dataclass(frozen=True)
class _Batch:
    """What both drivers work from: the requests checked (each with its ``requestId``), the
    client without its own retries (429s and 5xx are retried here, with the same
    ``requestId``) and the schedule."""

    client: Any
    calls: list[tuple[str, dict[str, Any]]]
    project: str | None
    workers: int
    schedule: Generator[_Step, Any, _Outcome]

    @classmethod
    def of(
        cls, client: Any, requests: list[Any], max_queued: int, max_concurrency: int | None, project: str | None,
        policy: SubmitPolicy,
    ) -> _Batch:
        if not isinstance(max_queued, int) or max_queued < 1:
            raise InvalidRequestError(f"max_queued must be a positive integer, not {max_queued!r}")
        workers = client._limiter.workers_for(max_concurrency, len(requests))
        calls = [export_call(r) for r in requests]  # every request checked (and given its id) first
        schedule = _schedule(len(calls), max_queued, workers, policy)
        return cls(client.with_options(max_retries=0), calls, project, workers, schedule)

    def call(self, index: int) -> tuple[Any, dict[str, Any], dict[str, Any], RequestOptions]:
        """The arguments of ``client._invoke`` that send request ``index``."""
        method, body = self.calls[index]
        specs = self.client._api.specs
        assert specs is not None
        return specs[method], {"project": self.project}, body, RequestOptions()


def run_sync(
    client: SyncClientBase,
    requests: list[Any],
    *,
    max_queued: int,
    max_concurrency: int | None,
    project: str | None,
    policy: SubmitPolicy,
) -> list[Operation]:
    """``submit_exports`` of a sync client: :func:`_schedule` driven with worker threads."""
    import threading
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    batch = _Batch.of(client, requests, max_queued, max_concurrency, project, policy)
    ending = threading.Event()  # the call is ending early: no more retries

    def send(index: int) -> tuple[int, Operation | Exception]:
        failures = 0
        while True:
            try:
                return index, Operation(client, batch.client._invoke(*batch.call(index)))
            except (APIStatusError, APIConnectionError) as exc:
                failures += 1
                delay = retry_delay(policy, exc, failures)
                if delay is None or ending.wait(delay):
                    return index, exc

    pending: set[Future[tuple[int, Any]]] = set()
    with ThreadPoolExecutor(batch.workers, thread_name_prefix="eerest-submit") as pool:
        try:
            answer: Any = None
            while True:
                step = batch.schedule.send(answer)
                answer = None
                if isinstance(step, _Send):
                    pending.add(pool.submit(send, step.index))
                elif isinstance(step, _Await):
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    answer = [future.result() for future in done]  # a send's unexpected error is raised here
                elif isinstance(step, _Refresh):
                    list(pool.map(Operation.refresh, step.ops))
                else:
                    time.sleep(step.seconds)
        except StopIteration as finished:
            results, errors = finished.value
        except BaseException:
            ending.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if errors:
        raise _failed(results, errors)
    return cast("list[Operation]", results)


async def run_async(
    client: AsyncClientBase,
    requests: list[Any],
    *,
    max_queued: int,
    max_concurrency: int | None,
    project: str | None,
    policy: SubmitPolicy,
) -> list[AsyncOperation]:
    """As :func:`run_sync`, for an async client: the same schedule driven with tasks."""
    import asyncio  # here, not at the top: a sync program never imports asyncio

    batch = _Batch.of(client, requests, max_queued, max_concurrency, project, policy)

    async def send(index: int) -> tuple[int, AsyncOperation | Exception]:
        failures = 0
        while True:
            try:
                return index, AsyncOperation(client, await batch.client._invoke(*batch.call(index)))
            except (APIStatusError, APIConnectionError) as exc:
                failures += 1
                delay = retry_delay(policy, exc, failures)
                if delay is None:
                    return index, exc
                await asyncio.sleep(delay)

    pending: set[asyncio.Task[tuple[int, Any]]] = set()
    try:
        answer: Any = None
        while True:
            step = batch.schedule.send(answer)
            answer = None
            if isinstance(step, _Send):
                pending.add(asyncio.ensure_future(send(step.index)))
            elif isinstance(step, _Await):
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                answer = [task.result() for task in done]  # a task's unexpected error is raised here
            elif isinstance(step, _Refresh):
                await asyncio.gather(*(op.refresh() for op in step.ops))
            else:
                await asyncio.sleep(step.seconds)
    except StopIteration as finished:
        results, errors = finished.value
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
    if errors:
        raise _failed(results, errors)
    return cast("list[AsyncOperation]", results)
