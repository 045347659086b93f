"""Exports one by one or by the thousand: the request each export sends, and ``submit_exports``,
which keeps under the project's queued-task limit and neither loses nor duplicates a task.

Pure parts: :func:`export_call` (method and body of a request), :func:`classify` (what to do
after an error), :class:`SubmitPolicy` (backoff). The loops are :func:`run_sync` and
:func:`run_async`."""

from __future__ import annotations

import random
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

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


def _failed(results: list[Any], errors: dict[int, Exception]) -> SubmitError:
    first = next(iter(errors.values()))
    return SubmitError(
        f"{len(errors)} of {len(results)} exports could not be submitted (the first: {first}); "
        "the others were submitted: see .operations",
        operations=results,
        errors=errors,
    )


def run_sync(
    client: SyncClientBase, requests: list[Any], *, max_queued: int, project: str | None, policy: SubmitPolicy
) -> list[Operation]:
    """``submit_exports`` of a sync client: requests in order, one at a time."""
    if max_queued < 1:
        raise InvalidRequestError("max_queued must be at least 1")
    calls = [export_call(r) for r in requests]  # every request checked (and given its id) first
    once = client.with_options(max_retries=0)  # 429s and 5xx are handled here, with the same requestId
    specs = client._api.specs
    assert specs is not None
    results: list[Any] = []
    errors: dict[int, Exception] = {}
    queue: deque[Operation] = deque()

    def free() -> None:
        """Refresh the oldest queued tasks, dropping those no longer queued; wait if none left."""
        before = len(queue)
        for op in list(queue)[: policy.refresh_batch]:
            op.refresh()
        kept = [op for op in queue if _queued(op)]
        queue.clear()
        queue.extend(kept)
        if len(queue) == before:
            time.sleep(policy.poll)

    for index, (method, body) in enumerate(calls):
        while len(queue) >= max_queued:
            free()
        failures = 0
        while True:
            try:
                message = once._invoke(specs[method], {"project": project}, body, RequestOptions())
                break
            except (APIStatusError, APIConnectionError) as exc:
                action = classify(exc)
                failures += 1
                if action == "fail" or (policy.max_attempts is not None and failures >= policy.max_attempts):
                    errors[index] = exc
                    message = None
                    break
                time.sleep(policy.backoff(failures - 1))
                if action == "backoff" and queue:
                    free()
        if message is None:
            results.append(None)
            continue
        op = Operation(client, message)
        results.append(op)
        if _queued(op):
            queue.append(op)
    if errors:
        raise _failed(results, errors)
    return results


async def run_async(
    client: AsyncClientBase, requests: list[Any], *, max_queued: int, project: str | None, policy: SubmitPolicy
) -> list[AsyncOperation]:
    """As :func:`run_sync`, for an async client."""
    import asyncio  # here, not at the top: a sync program never imports asyncio

    if max_queued < 1:
        raise InvalidRequestError("max_queued must be at least 1")
    calls = [export_call(r) for r in requests]
    once = client.with_options(max_retries=0)
    specs = client._api.specs
    assert specs is not None
    results: list[Any] = []
    errors: dict[int, Exception] = {}
    queue: deque[AsyncOperation] = deque()

    async def free() -> None:
        before = len(queue)
        await asyncio.gather(*(op.refresh() for op in list(queue)[: policy.refresh_batch]))
        kept = [op for op in queue if _queued(op)]
        queue.clear()
        queue.extend(kept)
        if len(queue) == before:
            await asyncio.sleep(policy.poll)

    for index, (method, body) in enumerate(calls):
        while len(queue) >= max_queued:
            await free()
        failures = 0
        while True:
            try:
                message = await once._invoke(specs[method], {"project": project}, body, RequestOptions())
                break
            except (APIStatusError, APIConnectionError) as exc:
                action = classify(exc)
                failures += 1
                if action == "fail" or (policy.max_attempts is not None and failures >= policy.max_attempts):
                    errors[index] = exc
                    message = None
                    break
                await asyncio.sleep(policy.backoff(failures - 1))
                if action == "backoff" and queue:
                    await free()
        if message is None:
            results.append(None)
            continue
        op = AsyncOperation(client, message)
        results.append(op)
        if _queued(op):
            queue.append(op)
    if errors:
        raise _failed(results, errors)
    return results
