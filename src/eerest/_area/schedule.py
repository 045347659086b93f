"""Which tile to fetch next, what to do when one fails, and the progress of the whole
read: pure decisions shared by the thread pool and the asyncio loop."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eerest.errors import APIError, APIStatusError
from eerest.tiling import Tile, TilePlan

__all__ = ["MAX_SPLIT_DEPTH", "TileQueue", "is_exhaustion", "tile_error"]

#: A tile the server runs out of memory or time on is cut in four, at most this many
#: times (down to 1/64 of its area), before the read gives up.
MAX_SPLIT_DEPTH = 3

_EXHAUSTED_400 = re.compile(r"memory limit exceeded|computation timed out|out of memory", re.IGNORECASE)
_EXHAUSTED_429 = re.compile(r"too many concurrent aggregations", re.IGNORECASE)


def is_exhaustion(error: BaseException) -> bool:
    """Whether ``error`` says the server ran out of memory or time on this request, so a
    smaller one may succeed: a 400 "User memory limit exceeded." / "Computation timed out."
    or a 429 "Too many concurrent aggregations." (quota 429s are not: smaller does not help)."""
    if not isinstance(error, APIStatusError):
        return False
    message = error.message or ""
    if error.status_code == 400:
        return bool(_EXHAUSTED_400.search(message))
    if error.status_code == 429:
        return bool(_EXHAUSTED_429.search(message))
    return False


def tile_error(error: BaseException, tile: Tile) -> BaseException:
    """``error`` again (same class, so ``except BadRequestError`` still works) with the
    tile's window and bands in its message and as ``.tile``."""
    if not isinstance(error, APIError):
        return error
    message = f"{tile}: {error.message}"
    try:
        if isinstance(error, APIStatusError):
            if error.response is None:
                return error
            new: APIError = type(error)(message, response=error.response, status=error.status, details=error.details)
        else:
            new = type(error)(message, request=error.request)
    except TypeError:  # a subclass with another constructor: keep it as it is
        return error
    new.tile = tile  # type: ignore[attr-defined]
    new.__cause__ = error
    return new


@dataclass
class _Item:
    tile: Tile
    depth: int


class TileQueue:
    """The tiles still to fetch; failed tiles come back smaller or end the read.

    Not thread-safe by itself: the sync loop guards it with a lock, the async loop runs
    it in one thread.
    """

    def __init__(
        self, plan: TilePlan, tiles: Iterable[Tile], on_progress: Callable[[int, int, int], None] | None = None
    ):
        self.plan = plan
        self._pending: deque[_Item] = deque(_Item(t, 0) for t in tiles)
        self.total = len(self._pending)
        self.done = 0
        self.bytes = 0
        self.active = 0
        self.error: BaseException | None = None
        self._on_progress = on_progress

    @property
    def ready(self) -> bool:
        """A tile can be taken now, or there is nothing more to wait for."""
        return self.finished or bool(self._pending)

    @property
    def finished(self) -> bool:
        """Nothing left to do (all fetched, or failed)."""
        return self.error is not None or (not self._pending and self.active == 0)

    def take(self) -> _Item | None:
        """The next tile to fetch, or None (none pending now, or failed)."""
        if self.error is not None or not self._pending:
            return None
        self.active += 1
        return self._pending.popleft()

    def succeeded(self, item: _Item, nbytes: int) -> None:
        self.active -= 1
        self.done += 1
        self.bytes += nbytes
        if self._on_progress is not None:
            self._on_progress(self.done, self.total, self.bytes)

    def failed(self, item: _Item, error: BaseException) -> None:
        """A tile's request failed after the client's retries: split it if the server ran
        out of memory or time, else end the read with ``error`` (naming the tile)."""
        self.active -= 1
        if self.error is not None:
            return
        if is_exhaustion(error) and item.depth < MAX_SPLIT_DEPTH:
            parts = self.plan.split(item.tile)
            if len(parts) > 1:
                self._pending.extendleft(_Item(p, item.depth + 1) for p in reversed(parts))
                self.total += len(parts) - 1
                return
        self.error = tile_error(error, item.tile)

    def cancel(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error


def progress_reporter(
    progress: Any, total_hint: int
) -> tuple[Callable[[int, int, int], None] | None, Callable[[], None]]:
    """(callback, close) for ``progress=``: False/None, True (a tqdm bar) or a callable
    receiving (tiles done, tiles total, bytes)."""
    if progress is None or progress is False:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None
    if progress is not True:
        from eerest.errors import InvalidRequestError

        raise InvalidRequestError(f"progress must be True, False or a callable(done, total, bytes), not {progress!r}")
    try:
        from tqdm.auto import tqdm
    except ImportError:
        from eerest._extras import missing_extra

        raise missing_extra("progress=True", "tqdm", "progress") from None
    bar = tqdm(total=total_hint, unit="tile", desc="read_area", dynamic_ncols=True)

    def update(done: int, total: int, nbytes: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        elapsed = bar.format_dict.get("elapsed") or 0.0
        rate = nbytes / 2**20 / elapsed if elapsed > 0 else 0.0
        bar.set_postfix_str(f"{nbytes / 2**20:.1f} MiB, {rate:.1f} MiB/s", refresh=False)

    return update, bar.close
