"""Long-running operations (exports, ingestions): :class:`Operation` and :class:`AsyncOperation`
wrap ``projects.operations.*`` of the client's API version.

The decisions (what the metadata says, how long to wait next, what ``result()`` returns or
raises) are pure functions shared by both classes; only the calls differ."""

from __future__ import annotations

import datetime
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eerest._core.types import RequestOptions
from eerest.errors import APIStatusError, InvalidRequestError, operation_error

if TYPE_CHECKING:
    from eerest._core.client import AsyncClientBase, SyncClientBase, _ClientBase

__all__ = [
    "AsyncOperation",
    "DONE_STATES",
    "Operation",
    "OperationMetadata",
    "OperationStage",
    "operation_name",
    "parse_metadata",
]

#: Terminal values of ``OperationMetadata.state``.
DONE_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
#: Longest single server-side ``operations.wait`` (the HTTP request lasts a little longer).
MAX_SERVER_WAIT = 60.0
#: Polling intervals grow by this factor up to ``max_poll``.
POLL_GROWTH = 1.5


@dataclass(frozen=True)
class OperationStage:
    """One stage of a batch task, as the metadata's ``stages`` list gives it."""

    display_name: str | None = None
    description: str | None = None
    complete_work_units: int | None = None
    total_work_units: int | None = None


@dataclass(frozen=True)
class OperationMetadata:
    """What Earth Engine says of a batch task (``Operation.metadata``); ``raw`` is the JSON."""

    state: str | None = None  # PENDING, RUNNING, CANCELLING, SUCCEEDED, CANCELLED, FAILED
    description: str | None = None
    type: str | None = None  # EXPORT_IMAGE, EXPORT_FEATURES, INGEST_IMAGE, ...
    priority: int | None = None
    progress: float | None = None  # 0..1
    stages: tuple[OperationStage, ...] = ()
    create_time: datetime.datetime | None = None
    update_time: datetime.datetime | None = None
    start_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    attempt: int | None = None
    script_uri: str | None = None
    destination_uris: tuple[str, ...] = ()
    batch_eecu_usage_seconds: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def _time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # fromisoformat before 3.11 takes at most 6 fraction digits
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        text = head + "." + (digits[:6] or "0") + rest[len(digits) :]
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_metadata(raw: Mapping[str, Any] | None) -> OperationMetadata:
    """The typed metadata of an operation's JSON ``metadata``; unknown fields stay in ``raw``: pure."""
    raw = dict(raw or {})
    stages = tuple(
        OperationStage(
            display_name=_str(s.get("displayName")),
            description=_str(s.get("description")),
            complete_work_units=_int(s.get("completeWorkUnits")),
            total_work_units=_int(s.get("totalWorkUnits")),
        )
        for s in raw.get("stages") or ()
        if isinstance(s, Mapping)
    )
    uris = raw.get("destinationUris") or ()
    return OperationMetadata(
        state=_str(raw.get("state")),
        description=_str(raw.get("description")),
        type=_str(raw.get("type")),
        priority=_int(raw.get("priority")),
        progress=_float(raw.get("progress")),
        stages=stages,
        create_time=_time(raw.get("createTime")),
        update_time=_time(raw.get("updateTime")),
        start_time=_time(raw.get("startTime")),
        end_time=_time(raw.get("endTime")),
        attempt=_int(raw.get("attempt")),
        script_uri=_str(raw.get("scriptUri")),
        destination_uris=tuple(u for u in uris if isinstance(u, str)) if isinstance(uris, list) else (),
        batch_eecu_usage_seconds=_float(raw.get("batchEecuUsageSeconds")),
        raw=raw,
    )


def operation_name(value: Any, project: str | None) -> str:
    """``projects/P/operations/ID`` from a name, a bare ID (in the client's project), an
    ``Operation`` message or its JSON dict: pure."""
    if isinstance(value, Mapping):
        value = value.get("name")
    elif not isinstance(value, str):
        value = getattr(value, "name", None)
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"not an operation or an operation name: {value!r}")
    if value.startswith("projects/"):
        if "/operations/" not in value:
            raise InvalidRequestError(f"{value!r} is not an operation name (projects/*/operations/*)")
        return value
    if "/" in value:
        raise InvalidRequestError(f"{value!r} is not an operation name (projects/*/operations/*)")
    if not project:
        raise InvalidRequestError(f"operation {value!r}: pass its full name, or give the client a project")
    return f"{project}/operations/{value}"


def _as_dict(message: Any) -> dict[str, Any]:
    if isinstance(message, Mapping):
        return dict(message)
    to_dict = getattr(message, "to_dict", None)
    if to_dict is None:
        raise InvalidRequestError(f"not an Operation message: {type(message).__name__}")
    return dict(to_dict())


def _next_wait(interval: float, max_poll: float) -> float:
    """The polling interval after ``interval``: pure."""
    return min(max_poll, interval * POLL_GROWTH)


def _server_wait_unsupported(error: APIStatusError) -> bool:
    """A server (or version) without ``operations.wait``: poll with ``get`` instead."""
    return error.status_code in (404, 405, 501) and "operations/" not in (error.message or "")


class _OperationBase:
    """State and pure decisions shared by :class:`Operation` and :class:`AsyncOperation`."""

    def __init__(self, client: _ClientBase[Any], message: Any) -> None:
        self._client = client
        self._data: dict[str, Any] = _as_dict(message)
        self.name: str = operation_name(self._data, client.project)
        self._data.setdefault("name", self.name)

    def _update(self, message: Any) -> None:
        data = _as_dict(message)
        if data.get("name") not in (None, self.name):
            raise InvalidRequestError(f"operation {self.name}: the server answered for {data.get('name')!r}")
        data["name"] = self.name
        self._data = data

    @property
    def done(self) -> bool:
        """Whether the operation has finished (succeeded, failed or was cancelled), as last seen."""
        return bool(self._data.get("done"))

    @property
    def metadata(self) -> OperationMetadata:
        """The task's state, progress, stages, times, EECU usage and destination URIs, as last seen."""
        return parse_metadata(self._data.get("metadata"))

    @property
    def state(self) -> str | None:
        """``metadata.state``: PENDING, RUNNING, CANCELLING, SUCCEEDED, CANCELLED or FAILED."""
        return self.metadata.state

    @property
    def error(self) -> dict[str, Any] | None:
        """The google.rpc.Status of a failed or cancelled operation, as last seen."""
        error = self._data.get("error")
        return dict(error) if isinstance(error, Mapping) else None

    def to_dict(self) -> dict[str, Any]:
        """The Operation's JSON as last seen."""
        return dict(self._data)

    def _outcome(self) -> dict[str, Any]:
        """``response`` of a finished operation, or its error raised: pure."""
        if not self.done:
            raise InvalidRequestError(f"operation {self.name} has not finished; call wait() first")
        error = self.error
        if error is not None and error.get("code", 2) != 0:
            raise operation_error(error, self.name)
        if self.metadata.state == "CANCELLED":
            raise operation_error({"code": 1, "message": "cancelled"}, self.name)
        response = self._data.get("response")
        return dict(response) if isinstance(response, Mapping) else {}

    def _spec(self, method: str) -> Any:
        specs = self._client._api.specs
        assert specs is not None
        return specs[method]

    def __repr__(self) -> str:
        meta = self.metadata
        parts = [f"name={self.name!r}", f"done={self.done}"]
        if meta.state:
            parts.append(f"state={meta.state!r}")
        if meta.progress is not None:
            parts.append(f"progress={meta.progress:.0%}")
        if meta.description:
            parts.append(f"description={meta.description!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _OperationBase) and type(other) is type(self) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def _wait_body(seconds: float) -> dict[str, Any]:
    return {"timeout": f"{max(0.0, seconds):.3f}s"}


class Operation(_OperationBase):
    """A long-running operation (an export or ingestion task) of a sync client.

    ``client.operation(name)`` re-attaches to one by name, from any process."""

    _client: SyncClientBase

    def __init__(self, client: SyncClientBase, message: Any) -> None:
        super().__init__(client, message)

    def refresh(self) -> Operation:
        """Fetch the operation's latest state (``operations.get``); returns ``self``."""
        self._update(self._client._invoke(self._spec("projects.operations.get"), {"name": self.name}, None, _NO_OPTS))
        return self

    def wait(
        self, timeout: float | None = None, *, poll: float = 1.0, max_poll: float = 60.0, server_wait: bool = True
    ) -> Operation:
        """Wait until the operation is done, at most ``timeout`` seconds overall (``None``: no limit);
        raises ``TimeoutError`` after that. Uses the server's ``operations.wait`` (at most a minute
        a request) where served, else polls ``operations.get`` from ``poll`` seconds, backing off to
        ``max_poll``. Returns ``self`` (call :meth:`result` for the outcome)."""
        end = None if timeout is None else time.monotonic() + timeout
        interval = poll
        while not self.done:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"operation {self.name} not done after {timeout} s (state {self.state})")
            if server_wait:
                chunk = MAX_SERVER_WAIT if left is None else min(MAX_SERVER_WAIT, left)
                try:
                    message = self._client._invoke(
                        self._spec("projects.operations.wait"),
                        {"name": self.name},
                        _wait_body(chunk),
                        RequestOptions(timeout=chunk + 30),
                    )
                except APIStatusError as exc:
                    if not _server_wait_unsupported(exc):
                        raise
                    server_wait = False
                else:
                    self._update(message)
                    continue
            time.sleep(interval if left is None else max(0.0, min(interval, left)))
            interval = _next_wait(interval, max_poll)
            self.refresh()
        return self

    def result(self, timeout: float | None = None, *, poll: float = 1.0) -> dict[str, Any]:
        """Wait for the operation and return its ``response`` (often empty for exports); a failed
        one raises its error as the typed eerest exception of its code (e.g. ``BadRequestError``
        for INVALID_ARGUMENT), a cancelled one :class:`eerest.OperationCancelledError`."""
        self.wait(timeout, poll=poll)
        return self._outcome()

    def cancel(self) -> None:
        """Ask the server to cancel the operation (``operations.cancel``); it ends CANCELLED later."""
        self._client._invoke(self._spec("projects.operations.cancel"), {"name": self.name}, {}, _NO_OPTS)

    def delete(self) -> None:
        """Delete the operation's record (``operations.delete``); the task is not cancelled."""
        self._client._invoke(self._spec("projects.operations.delete"), {"name": self.name}, None, _NO_OPTS)


class AsyncOperation(_OperationBase):
    """A long-running operation of an async client; methods as :class:`Operation`, awaited."""

    _client: AsyncClientBase

    def __init__(self, client: AsyncClientBase, message: Any) -> None:
        super().__init__(client, message)

    async def refresh(self) -> AsyncOperation:
        """Fetch the operation's latest state (``operations.get``); returns ``self``."""
        message = await self._client._invoke(self._spec("projects.operations.get"), {"name": self.name}, None, _NO_OPTS)
        self._update(message)
        return self

    async def wait(
        self, timeout: float | None = None, *, poll: float = 1.0, max_poll: float = 60.0, server_wait: bool = True
    ) -> AsyncOperation:
        """As :meth:`Operation.wait`."""
        import asyncio  # here, not at the top: a sync program never imports asyncio

        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        interval = poll
        while not self.done:
            left = None if end is None else end - loop.time()
            if left is not None and left <= 0:
                raise TimeoutError(f"operation {self.name} not done after {timeout} s (state {self.state})")
            if server_wait:
                chunk = MAX_SERVER_WAIT if left is None else min(MAX_SERVER_WAIT, left)
                try:
                    message = await self._client._invoke(
                        self._spec("projects.operations.wait"),
                        {"name": self.name},
                        _wait_body(chunk),
                        RequestOptions(timeout=chunk + 30),
                    )
                except APIStatusError as exc:
                    if not _server_wait_unsupported(exc):
                        raise
                    server_wait = False
                else:
                    self._update(message)
                    continue
            await asyncio.sleep(interval if left is None else max(0.0, min(interval, left)))
            interval = _next_wait(interval, max_poll)
            await self.refresh()
        return self

    async def result(self, timeout: float | None = None, *, poll: float = 1.0) -> dict[str, Any]:
        """As :meth:`Operation.result`."""
        await self.wait(timeout, poll=poll)
        return self._outcome()

    async def cancel(self) -> None:
        """As :meth:`Operation.cancel`."""
        await self._client._invoke(self._spec("projects.operations.cancel"), {"name": self.name}, {}, _NO_OPTS)

    async def delete(self) -> None:
        """As :meth:`Operation.delete`."""
        await self._client._invoke(self._spec("projects.operations.delete"), {"name": self.name}, None, _NO_OPTS)


_NO_OPTS = RequestOptions()
