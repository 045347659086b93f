"""``read_table``'s work: the pages of ``assets.listFeatures`` or ``table.computeFeatures``,
one after another (each page's token comes with the page before it), fetched ahead while
earlier pages are decoded and written.

Pages are read as raw JSON bodies through the port's ``receive`` (so a body cut off is
fetched again within the call's retries), parsed once with :mod:`json` and decoded by
:func:`eerest._table.decode.decode_page`. Up to ``max_concurrency`` pages wait decoded-side
while the next is fetched: memory is bounded by pages in flight, not by the table.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eerest._ee import to_expression
from eerest.errors import APIError, APIStatusError, InvalidRequestError, PaginationError, ResponseDecodeError

if TYPE_CHECKING:
    from eerest._core.port import AsyncClientPort, ClientPort
    from eerest._core.streaming import AsyncStreamedResponse, StreamedResponse

__all__ = ["TableSource", "parse_source", "read_table_async", "read_table_sync"]

LIST_FEATURES = "projects.assets.listFeatures"
COMPUTE_FEATURES = "projects.table.computeFeatures"
_ASSET_NAME = re.compile(r"^projects/[^/]+/assets/.+$")
DEFAULT_AHEAD = 2


@dataclass(frozen=True)
class TableSource:
    """What to ask for each page: the method, and its arguments without the page token."""

    method: str
    params: Mapping[str, Any]
    body: Mapping[str, Any] | None

    def request(self, token: str | None) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        params, body = dict(self.params), dict(self.body) if self.body is not None else None
        if token is not None:
            if body is None:
                params["pageToken"] = token
            else:
                body["pageToken"] = token
        return self.method, params, body

    @property
    def key(self) -> str:
        """A digest of the read, so that ``resume`` continues only the same read."""
        return hashlib.sha256(json.dumps([self.method, self.params, self.body], sort_keys=True, default=str).encode()).hexdigest()


def parse_source(source: Any, page_size: int | None, workload_tag: str | None) -> TableSource:
    """A table asset name reads with listFeatures; an expression (a dict, an ``Expression``
    or an ``ee`` object) with computeFeatures."""
    if page_size is not None and (not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1):
        raise InvalidRequestError(f"page_size must be a positive integer, not {page_size!r}")
    size = {"pageSize": page_size} if page_size is not None else {}
    if isinstance(source, str):
        if not _ASSET_NAME.match(source):
            raise InvalidRequestError(
                f"source {source!r} is not a table asset name of the form projects/*/assets/**: for a public table use "
                f"'projects/earthengine-public/assets/{source}'; for a computed FeatureCollection pass its expression"
            )
        return TableSource(LIST_FEATURES, {"asset": source, **size}, None)
    expression = to_expression(source)
    to_dict = getattr(expression, "to_dict", None)
    if callable(to_dict) and not isinstance(expression, Mapping):
        expression = to_dict()
    if not isinstance(expression, Mapping):
        raise InvalidRequestError(
            f"source must be a table asset name or a FeatureCollection expression (dict, Expression or ee object), "
            f"not {type(source).__name__}"
        )
    tag = {"workloadTag": workload_tag} if workload_tag is not None else {}
    return TableSource(COMPUTE_FEATURES, {"project": None}, {"expression": dict(expression), **size, **tag})


def _parse_page(raw: bytes, number: int, method: str) -> tuple[list[dict[str, Any]], str | None]:
    try:
        data = json.loads(raw)
        features = data.get("features") or []
        token = data.get("nextPageToken") or None
        if not isinstance(features, list) or not (token is None or isinstance(token, str)):
            raise ValueError("no list of features")
    except (ValueError, AttributeError) as e:
        raise ResponseDecodeError(f"page {number + 1} of {method}: not a FeatureCollection ({e})") from None
    return features, token


def page_error(error: BaseException, number: int) -> BaseException:
    """``error`` again (same class) with the page in its message and as ``.page`` (1-based)."""
    if not isinstance(error, APIError) or getattr(error, "page", None) is not None:
        return error
    message = f"page {number + 1}: {error.message}"
    try:
        if isinstance(error, APIStatusError):
            if error.response is None:
                return error
            new: APIError = type(error)(message, response=error.response, status=error.status, details=error.details)
        else:
            new = type(error)(message, request=error.request)
    except TypeError:
        return error
    new.page = number + 1  # type: ignore[attr-defined]
    new.__cause__ = error
    return new


class _Progress:
    def __init__(self, progress: Any) -> None:
        self.close: Callable[[], None] = lambda: None
        self.update: Callable[[int, int], None] | None = None
        if progress is None or progress is False:
            return
        if callable(progress):
            self.update = progress
            return
        if progress is not True:
            raise InvalidRequestError(f"progress must be True, False or a callable(features, pages), not {progress!r}")
        try:
            from tqdm.auto import tqdm
        except ImportError:
            from eerest._extras import missing_extra

            raise missing_extra("progress=True", "tqdm", "progress") from None
        bar = tqdm(unit=" features", desc="read_table", dynamic_ncols=True)

        def update(features: int, pages: int) -> None:
            bar.update(features - bar.n)
            bar.set_postfix_str(f"{pages} pages", refresh=False)

        self.update, self.close = update, bar.close


def _check_token(token: str | None, seen: set[str], number: int, method: str) -> None:
    if token is not None:
        if token in seen:
            raise PaginationError(f"page {number + 1} of {method}: the server repeated a page token")
        seen.add(token)


def _open(out: Any, resume: bool, src: TableSource) -> Any:
    from eerest._table.outputs import open_output

    return open_output(out, resume, src.key)


# -- sync ------------------------------------------------------------------------------------
def read_table_sync(
    port: ClientPort,
    source: Any,
    *,
    out: Any,
    columns: list[str] | None,
    page_size: int | None,
    max_concurrency: int | None,
    progress: Any,
    resume: bool,
    workload_tag: str | None,
) -> Any:
    from eerest._table.decode import decode_page

    src = parse_source(source, page_size, workload_tag)
    ahead = _ahead(max_concurrency)
    report = _Progress(progress)
    output = _open(out, resume, src)
    token, number = output.resume_from()
    pages: queue.Queue[tuple[int, Any, str | None, BaseException | None]] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def fetch(token: str | None, number: int) -> tuple[list[dict[str, Any]], str | None]:
        method, params, body = src.request(token)

        def consume(response: StreamedResponse[Any]) -> tuple[list[dict[str, Any]], str | None]:
            return _parse_page(b"".join(response.iter_bytes()), number, method)

        return port.receive(method, params, body, None, consume)

    def produce(token: str | None, number: int) -> None:
        seen: set[str] = set()
        while not stop.is_set():
            try:
                features, next_token = fetch(token, number)
                _check_token(next_token, seen, number, src.method)
                item: tuple[int, Any, str | None, BaseException | None] = (number, features, next_token, None)
            except BaseException as e:  # handed to the reading thread
                item = (number, None, None, e)
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item[3] is not None or item[2] is None:
                return
            token, number = item[2], number + 1

    worker = threading.Thread(target=produce, args=(token, number), name="eerest-read-table", daemon=True)
    at = number
    try:
        if token is None and number > 0:  # resumed after its last page was written
            return output.finish()
        worker.start()
        rows = output.rows
        while True:
            at, features, next_token, error = pages.get()
            if error is not None:
                raise error
            page = decode_page(at, features, columns)
            output.write(page, next_token)
            rows += len(page)
            if report.update is not None:
                report.update(rows, at + 1)
            if next_token is None:
                break
        return output.finish()
    except BaseException as e:
        stop.set()
        output.abort(keep=resume)
        raise page_error(e, at) from None
    finally:
        stop.set()
        report.close()


def _ahead(max_concurrency: int | None) -> int:
    if max_concurrency is None:
        return DEFAULT_AHEAD
    if not isinstance(max_concurrency, int) or isinstance(max_concurrency, bool) or max_concurrency < 1:
        raise InvalidRequestError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")
    return max_concurrency


# -- async -----------------------------------------------------------------------------------
async def read_table_async(
    port: AsyncClientPort,
    source: Any,
    *,
    out: Any,
    columns: list[str] | None,
    page_size: int | None,
    max_concurrency: int | None,
    progress: Any,
    resume: bool,
    workload_tag: str | None,
) -> Any:
    from eerest._table.decode import decode_page

    src = parse_source(source, page_size, workload_tag)
    ahead = _ahead(max_concurrency)
    report = _Progress(progress)
    output = await asyncio.to_thread(_open, out, resume, src)
    token, number = output.resume_from()
    pages: asyncio.Queue[tuple[int, Any, str | None, BaseException | None]] = asyncio.Queue(maxsize=ahead)

    async def fetch(token: str | None, number: int) -> tuple[list[dict[str, Any]], str | None]:
        method, params, body = src.request(token)

        async def consume(response: AsyncStreamedResponse[Any]) -> bytes:
            return b"".join([chunk async for chunk in response.iter_bytes()])

        raw = await port.receive(method, params, body, None, consume)
        return await asyncio.to_thread(_parse_page, raw, number, method)  # off the event loop

    async def produce(token: str | None, number: int) -> None:
        seen: set[str] = set()
        while True:
            try:
                features, next_token = await fetch(token, number)
                _check_token(next_token, seen, number, src.method)
                item: tuple[int, Any, str | None, BaseException | None] = (number, features, next_token, None)
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # handed to the reading task
                item = (number, None, None, e)
            await pages.put(item)
            if item[3] is not None or item[2] is None:
                return
            token, number = item[2], number + 1

    def write(at: int, features: Any, next_token: str | None) -> int:
        page = decode_page(at, features, columns)
        output.write(page, next_token)
        return len(page)

    at = number
    task: asyncio.Task[None] | None = None
    try:
        if token is None and number > 0:
            return await asyncio.to_thread(output.finish)
        task = asyncio.create_task(produce(token, number))
        rows = output.rows
        while True:
            at, features, next_token, error = await pages.get()
            if error is not None:
                raise error
            rows += await asyncio.to_thread(write, at, features, next_token)
            if report.update is not None:
                report.update(rows, at + 1)
            if next_token is None:
                break
        return await asyncio.to_thread(output.finish)
    except BaseException as e:
        output.abort(keep=resume)
        raise page_error(e, at) from None
    finally:
        if task is not None and not task.done():
            task.cancel()
        report.close()
