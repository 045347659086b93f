"""Long-running operations (batch tasks: exports and ingestion) and their state machine.

An operation is PENDING when submitted, RUNNING once one of its project's running slots is
free, then SUCCEEDED, or FAILED (its work raised, or a failure was injected), or CANCELLED.
Time is the queue's clock: real time plus an offset that `advance` moves, or frozen
(`manual_clock`) so tests step it. Nothing runs in the background by itself: the state is
brought up to date (`advance`) on every look at the queue and by the server's ticker; an
operation's work (computing and writing its files or asset) runs when its run time is up, in
the thread that notices, outside the lock, and its outcome is recorded when it returns.

Settings (`configure`): `run_seconds` each task's run time (default 2 s; 0: done on the next
look), `max_running` tasks running at once per project (default 4), `max_queued` tasks
pending or running per project before submissions are refused with 429 RESOURCE_EXHAUSTED
(default 3000, as Earth Engine). `fail_next(count, code, message)` makes the next submitted
operations fail. Submissions with a `requestId` already seen return the same operation.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._errors import ApiError, invalid_argument, not_found

__all__ = ["CODES", "Operation", "OperationQueue", "QUEUE_FULL_MESSAGE", "TaskFailure"]

#: google.rpc.Code numbers by name.
CODES = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9, "ABORTED": 10,
    "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}
QUEUE_FULL_MESSAGE = (
    "Too many tasks already in the queue ({limit}). Please wait for some of them to complete "
    "(the eerest emulator's per-project cap; see /_emulator/operations)."
)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
_STAGES = (
    ("Create Local Files", "Computation and writing of temporary files."),
    ("Write Files to Destination", "Uploading of files to the export destination."),
)


class TaskFailure(Exception):
    """Raised by an operation's work: the operation FAILS with this google.rpc code and message."""

    def __init__(self, message: str, code: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _rfc3339(t: float) -> str:
    d = _dt.datetime.fromtimestamp(t, _dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}Z"


@dataclass(eq=False)
class Operation:
    """One task. `work` returns the destination URIs it wrote (or raises `TaskFailure`)."""

    name: str
    project: str
    version: str
    kind: str  # EXPORT_IMAGE, EXPORT_FEATURES, INGEST_IMAGE, ...
    description: str
    priority: int
    created: float
    work: Callable[[], list[str]] | None
    destination_uris: list[str] = field(default_factory=list)
    state: str = "PENDING"
    started: float | None = None
    ends: float | None = None  # when its run time is up (while RUNNING)
    ended: float | None = None
    updated: float = 0.0
    error: dict[str, Any] | None = None
    fail_with: tuple[str, str] | None = None
    finishing: bool = False  # its work is running in some thread
    eecu_seconds: float = 0.0
    seq: int = 0

    @property
    def done(self) -> bool:
        return self.state in _DONE

    def to_json(self, now: float, run_seconds: float) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "@type": f"type.googleapis.com/google.earthengine.{self.version}.OperationMetadata",
            "state": self.state,
            "description": self.description,
            "type": self.kind,
            "priority": self.priority,
            "createTime": _rfc3339(self.created),
            "updateTime": _rfc3339(self.updated),
        }
        if self.started is not None:
            meta["startTime"] = _rfc3339(self.started)
        if self.ended is not None:
            meta["endTime"] = _rfc3339(self.ended)
        progress = self._progress(now, run_seconds)
        if self.started is not None:
            meta["progress"] = progress
            meta["stages"] = self._stages(progress)
            meta["attempt"] = 1
        if self.destination_uris:
            meta["destinationUris"] = list(self.destination_uris)
        if self.eecu_seconds:
            meta["batchEecuUsageSeconds"] = round(self.eecu_seconds, 6)
        out: dict[str, Any] = {"name": self.name, "metadata": meta, "done": self.done}
        if self.state == "SUCCEEDED":
            out["response"] = {"@type": "type.googleapis.com/google.protobuf.Empty"}
        elif self.error is not None:
            out["error"] = dict(self.error)
        return out

    def _progress(self, now: float, run_seconds: float) -> float:
        if self.state == "SUCCEEDED":
            return 1.0
        if self.started is None:
            return 0.0
        end = self.ended if self.done and self.ended is not None else now
        if run_seconds <= 0:
            return 0.0
        return round(max(0.0, min(0.99, (end - self.started) / run_seconds)), 4)

    @staticmethod
    def _stages(progress: float) -> list[dict[str, Any]]:
        out = []
        for i, (title, text) in enumerate(_STAGES):
            part = max(0.0, min(1.0, progress * len(_STAGES) - i))
            out.append({"displayName": title, "completeWorkUnits": 1 if part >= 1 else 0, "totalWorkUnits": "1",
                        "description": text})
        return out


@dataclass
class _Project:
    pending: deque[Operation] = field(default_factory=deque)
    running: list[tuple[float, int, Operation]] = field(default_factory=list)  # heap by end time

    @property
    def active(self) -> int:
        return len(self.pending) + len(self.running)


class OperationQueue:
    """The emulator's operations, by name (see the module docstring)."""

    DEFAULT_RUN_SECONDS = 2.0
    DEFAULT_MAX_RUNNING = 4
    DEFAULT_MAX_QUEUED = 3000
    MAX_WAIT_SECONDS = 60.0

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ops: dict[str, Operation] = {}
        self._by_request: dict[tuple[str, str], Operation] = {}
        self._projects: dict[str, _Project] = {}
        self._failures: deque[tuple[str, str]] = deque()
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._seq = 0
        self.submitted = 0
        self.refused = 0
        self.run_seconds = self.DEFAULT_RUN_SECONDS
        self.max_running = self.DEFAULT_MAX_RUNNING
        self.max_queued = self.DEFAULT_MAX_QUEUED

    # -- settings -----------------------------------------------------------------------
    def configure(
        self,
        run_seconds: float | None = None,
        max_running: int | None = None,
        max_queued: int | None = None,
        manual_clock: bool | None = None,
    ) -> None:
        """Change the settings (None: keep). `manual_clock=True` freezes the clock at now."""
        if run_seconds is not None and not (0 <= float(run_seconds) < 1e7):
            raise ValueError("runSeconds must be a number of seconds >= 0")
        if max_running is not None and (isinstance(max_running, bool) or int(max_running) < 1):
            raise ValueError("maxRunning must be an integer >= 1")
        if max_queued is not None and (isinstance(max_queued, bool) or int(max_queued) < 1):
            raise ValueError("maxQueued must be an integer >= 1")
        with self._lock:
            if run_seconds is not None:
                self.run_seconds = float(run_seconds)
            if max_running is not None:
                self.max_running = int(max_running)
            if max_queued is not None:
                self.max_queued = int(max_queued)
            if manual_clock is not None:
                if manual_clock and self._frozen_at is None:
                    self._frozen_at = self.now()
                elif not manual_clock and self._frozen_at is not None:
                    self._offset = self._frozen_at - time.time()
                    self._frozen_at = None
        self.advance()

    def reset_settings(self) -> None:
        """Default settings, the real clock, no injected failures (operations are kept)."""
        with self._lock:
            self._failures.clear()
            self._frozen_at = None
            self._offset = 0.0
            self.run_seconds = self.DEFAULT_RUN_SECONDS
            self.max_running = self.DEFAULT_MAX_RUNNING
            self.max_queued = self.DEFAULT_MAX_QUEUED

    def settings(self) -> dict[str, Any]:
        with self._lock:
            counts: dict[str, int] = {}
            for op in self._ops.values():
                counts[op.state] = counts.get(op.state, 0) + 1
            return {
                "runSeconds": self.run_seconds,
                "maxRunning": self.max_running,
                "maxQueued": self.max_queued,
                "manualClock": self._frozen_at is not None,
                "now": _rfc3339(self.now()),
                "pendingFailures": [{"code": c, "message": m} for c, m in self._failures],
                "counts": counts,
                "submitted": self.submitted,
                "refused": self.refused,
            }

    def fail_next(self, count: int = 1, code: str = "INTERNAL", message: str = "Injected failure.") -> None:
        """The next `count` operations submitted will FAIL with this google.rpc code and message."""
        if code not in CODES or code == "OK":
            raise ValueError(f"unknown google.rpc code {code!r}: use one of {', '.join(c for c in CODES if c != 'OK')}")
        if isinstance(count, bool) or int(count) < 1:
            raise ValueError("count must be an integer >= 1")
        with self._lock:
            self._failures.extend([(code, str(message))] * int(count))

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    # -- clock --------------------------------------------------------------------------
    def now(self) -> float:
        with self._lock:
            return self._frozen_at if self._frozen_at is not None else time.time() + self._offset

    def advance_clock(self, seconds: float) -> None:
        """Move the clock forward (frozen or not) and bring every operation up to date."""
        if not (0 <= float(seconds) < 1e9):
            raise ValueError("seconds must be >= 0")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += float(seconds)
            else:
                self._offset += float(seconds)
        self.advance()

    # -- submission ---------------------------------------------------------------------
    def submit(
        self,
        project: str,
        version: str,
        kind: str,
        work: Callable[[], list[str]],
        *,
        description: str = "",
        priority: int | None = None,
        request_id: str | None = None,
        destination_uris: list[str] | None = None,
    ) -> Operation:
        """A new PENDING operation (or the one submitted earlier with the same requestId); a
        429 RESOURCE_EXHAUSTED when the project already has `max_queued` unfinished tasks."""
        self.advance()
        with self._lock:
            if request_id:
                seen = self._by_request.get((project, request_id))
                if seen is not None:
                    return seen
            proj = self._projects.setdefault(project, _Project())
            if proj.active >= self.max_queued:
                self.refused += 1
                raise ApiError(429, QUEUE_FULL_MESSAGE.format(limit=self.max_queued), "RESOURCE_EXHAUSTED")
            now = self.now()
            self._seq += 1
            op_id = "".join(secrets.choice(_ALPHABET) for _ in range(24))
            op = Operation(
                name=f"{project}/operations/{op_id}", project=project, version=version, kind=kind,
                description=description or "myExportTask", priority=100 if priority is None else priority,
                created=now, updated=now, work=work, destination_uris=list(destination_uris or []), seq=self._seq,
            )
            if self._failures:
                op.fail_with = self._failures.popleft()
            self._ops[op.name] = op
            if request_id:
                self._by_request[(project, request_id)] = op
            proj.pending.append(op)
            self.submitted += 1
            self._changed.notify_all()
            return op

    # -- the state machine ----------------------------------------------------------------
    @property
    def active(self) -> bool:
        with self._lock:
            return any(p.active for p in self._projects.values())

    def advance(self) -> None:
        """Bring every operation up to the clock's time: start pending ones in free slots,
        finish those whose run time is up (running their work, outside the lock)."""
        while True:
            with self._lock:
                due = self._step(self.now())
            if not due:
                return
            for op in due:
                self._finish(op)

    def _step(self, now: float) -> list[Operation]:
        """Under the lock: start what can start by `now`; the operations to finish (marked)."""
        due: list[Operation] = []
        for proj in self._projects.values():
            free_at = float("-inf")  # when the slot being filled became free (-inf: before anything pending)
            while True:
                while proj.pending and len(proj.running) < self.max_running:
                    op = proj.pending.popleft()
                    if op.done:  # cancelled while pending
                        continue
                    start = max(op.created, free_at)
                    op.state, op.started, op.updated = "RUNNING", start, start
                    op.ends = start + self.run_seconds
                    heapq.heappush(proj.running, (op.ends, op.seq, op))
                if not proj.running or proj.running[0][0] > now:
                    break
                ends, _, op = heapq.heappop(proj.running)
                free_at = ends
                if op.done:
                    continue
                op.finishing = True
                due.append(op)
        return due

    def _finish(self, op: Operation) -> None:
        failure = op.fail_with
        uris: list[str] = []
        if failure is None and op.work is not None:
            try:
                uris = op.work()
            except TaskFailure as e:
                failure = (e.code, e.message)
            except ApiError as e:
                failure = (e.status if e.status in CODES else "INTERNAL", e.message)
            except Exception as e:  # a bug in the emulator's work: the task fails, saying so
                failure = ("INTERNAL", f"The eerest emulator failed running this task: {type(e).__name__}: {e}")
        with self._lock:
            op.finishing = False
            op.work = None
            if op.done:  # cancelled meanwhile
                self._changed.notify_all()
                return
            end = op.ends if op.ends is not None else self.now()
            op.ended = op.updated = end
            op.eecu_seconds = max(0.001, (end - (op.started or end)) * 0.5)
            if failure is None:
                op.state = "SUCCEEDED"
                if uris:
                    op.destination_uris = uris
            else:
                op.state = "FAILED"
                op.error = {"code": CODES[failure[0]], "message": failure[1]}
            self._changed.notify_all()

    # -- the operations API ---------------------------------------------------------------
    def get(self, name: str) -> Operation:
        self.advance()
        with self._lock:
            op = self._ops.get(name)
        if op is None:
            raise not_found(f"Operation {name} not found.")
        return op

    def snapshot(self, op: Operation) -> dict[str, Any]:
        with self._lock:
            return op.to_json(self.now(), self.run_seconds)

    def list(self, project: str) -> list[Operation]:
        """The project's operations, newest first."""
        self.advance()
        with self._lock:
            return sorted((op for op in self._ops.values() if op.project == project), key=lambda o: -o.seq)

    def cancel(self, name: str) -> None:
        op = self.get(name)
        with self._lock:
            if op.done:
                return
            now = self.now()
            op.state, op.ended, op.updated = "CANCELLED", now, now
            op.error = {"code": CODES["CANCELLED"], "message": "Cancelled."}
            proj = self._projects[op.project]
            if op in proj.pending:
                proj.pending.remove(op)
            proj.running = [r for r in proj.running if r[2] is not op]
            heapq.heapify(proj.running)
            self._changed.notify_all()
        self.advance()  # its slot is free

    def delete(self, name: str) -> None:
        """Forget the operation (its task still runs to its end, as the service does)."""
        op = self.get(name)
        with self._lock:
            self._ops.pop(op.name, None)

    def wait(self, name: str, timeout: float | None) -> Operation:
        """The operation once done, or after `timeout` real seconds (at most MAX_WAIT_SECONDS)."""
        limit = self.MAX_WAIT_SECONDS if timeout is None else min(timeout, self.MAX_WAIT_SECONDS)
        deadline = time.monotonic() + limit
        op = self.get(name)
        while True:
            self.advance()
            with self._lock:
                if op.done:
                    return op
                left = deadline - time.monotonic()
                if left <= 0:
                    return op
                self._changed.wait(min(left, 0.02))


_FILTER_TERM = re.compile(r'^\s*([A-Za-z_][\w.]*)\s*(!=|>=|<=|=|:|<|>)\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')


def operation_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    """A filter on Operation JSON: comparisons of fields (``done``, ``name``,
    ``metadata.state``, ``metadata.type``, ``metadata.description``, ``metadata.createTime``...)
    joined by AND, as in AIP-160 (``metadata.state = "RUNNING" AND metadata.type = EXPORT_IMAGE``)."""
    terms = [t for t in re.split(r"\s+AND\s+", text.strip()) if t.strip()] if text.strip() else []
    checks: list[Callable[[dict[str, Any]], bool]] = []
    for term in terms:
        m = _FILTER_TERM.match(term)
        if m is None:
            raise invalid_argument(f"Invalid filter: cannot read {term.strip()!r} (the emulator takes comparisons joined by AND).")
        path, op, raw = m.groups()
        want = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw

        def check(o: dict[str, Any], path: str = path, op: str = op, want: str = want) -> bool:
            have: Any = o
            for part in path.split("."):
                have = have.get(part) if isinstance(have, dict) else None
            if have is None:
                return op == "!="
            if isinstance(have, bool):
                have = "true" if have else "false"
            if isinstance(have, (int, float)):
                try:
                    w: Any = float(want)
                except ValueError:
                    return op == "!="
            else:
                have, w = str(have), want
            return {"=": have == w, ":": have == w, "!=": have != w, "<": have < w, "<=": have <= w,
                    ">": have > w, ">=": have >= w}[op]

        checks.append(check)
    return lambda o: all(c(o) for c in checks)
