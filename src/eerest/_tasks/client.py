"""What the clients inherit for values and batch tasks: ``compute_value``, ``operation``,
``list_operations``, ``export``, ``submit_exports``, ``import_image`` and ``import_table``
(sync and async). The decisions are
in :mod:`eerest._tasks.submit` and :mod:`eerest._tasks.operation`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from eerest._core.types import RequestOptions
from eerest._ee import to_expression
from eerest._tasks.ingest import import_call
from eerest._tasks.maps import MapTiles, map_body, thumbnail_body
from eerest._tasks.operation import AsyncOperation, Operation
from eerest._tasks.submit import ExportRequest, SubmitPolicy, export_call, run_async, run_sync

if TYPE_CHECKING:
    from eerest._core.client import AsyncClientBase, SyncClientBase, _ClientBase

__all__ = ["AsyncTasksMixin", "SyncTasksMixin"]

_NO_OPTS = RequestOptions()


def _spec(client: _ClientBase[Any], method: str) -> Any:
    specs = client._api.specs
    assert specs is not None
    return specs[method]


def _value_body(expression: object, workload_tag: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"expression": to_expression(expression)}
    if workload_tag is not None:
        body["workloadTag"] = workload_tag
    return body


def _list_params(
    client: _ClientBase[Any], project: str | None, filter: str | None, page_size: int | None
) -> dict[str, Any]:
    name = project or client.project
    if name and not name.startswith("projects/"):
        name = "projects/" + name
    return {"name": name, "filter": filter, "pageSize": page_size}


class SyncTasksMixin:
    """``compute_value``, operations and exports for the sync clients."""

    def compute_value(self, expression: object, *, workload_tag: str | None = None, project: str | None = None) -> Any:
        """The value of ``expression`` (a dict, an ``Expression`` or an ``ee`` object) as plain
        Python data, as ``ee.ComputedObject.getInfo()`` returns it (``value.compute``)."""
        client = cast("SyncClientBase", self)
        answer = client._invoke(
            _spec(client, "projects.value.compute"),
            {"project": project},
            _value_body(expression, workload_tag),
            _NO_OPTS,
        )
        return answer.result

    def operation(self, name: Any) -> Operation:
        """An :class:`eerest.Operation` for ``name`` (``projects/P/operations/ID``, a bare ID in
        the client's project, or an ``Operation`` message such as an export returns); nothing is
        sent until it is refreshed or waited on."""
        client = cast("SyncClientBase", self)
        return Operation(client, name if not isinstance(name, str) else {"name": name})

    def list_operations(
        self, *, filter: str | None = None, project: str | None = None, page_size: int | None = None
    ) -> Iterator[Operation]:
        """The project's operations (``operations.list``, every page), as :class:`eerest.Operation`."""
        client = cast("SyncClientBase", self)
        spec = _spec(client, "projects.operations.list")
        pager = client._pager(spec, _list_params(client, project, filter, page_size), None, _NO_OPTS, None)
        for message in pager:
            yield Operation(client, message)

    def export(self, request: ExportRequest, *, kind: str | None = None, project: str | None = None) -> Operation:
        """Start one export (``image``/``table``/``video``/``map``/``classifier.export``) and return
        its :class:`eerest.Operation`. ``request`` is a typed ``Export*Request`` (kind inferred), a
        dict (with ``kind=`` or a ``"kind"`` key) or a ``(kind, request)`` pair; an ``ee`` object
        as ``expression`` is serialised, and a ``requestId`` is added so retries create one task."""
        client = cast("SyncClientBase", self)
        method, body = export_call(request, kind)
        return Operation(client, client._invoke(_spec(client, method), {"project": project}, body, _NO_OPTS))

    def submit_exports(
        self,
        requests: Iterable[ExportRequest],
        *,
        max_queued: int = 3000,
        max_concurrency: int | None = None,
        project: str | None = None,
        policy: SubmitPolicy | None = None,
    ) -> list[Operation]:
        """Start many exports: one :class:`eerest.Operation` per request, in the requests' order.

        Up to ``max_concurrency`` requests are sent at once (default: the client's
        ``max_concurrency``; its rate limit applies too), started in order; ``1`` sends them
        one after another. At most ``max_queued`` of this call's tasks are kept queued or
        being sent at once (Earth Engine refuses more than 3,000 per project): past that, the
        oldest are refreshed until some start or finish. A 429 RESOURCE_EXHAUSTED is waited
        out with backoff and the same request sent again; 5xx and broken connections are
        retried with the same ``requestId``, so a request that timed out but was created is
        not created twice. Requests refused for good raise :class:`eerest.SubmitError` at the
        end, the others submitted."""
        client, policy = cast("SyncClientBase", self), policy or SubmitPolicy()
        return run_sync(client, list(requests), max_queued=max_queued, max_concurrency=max_concurrency,
                        project=project, policy=policy)

    def import_image(
        self,
        manifest: Any,
        *,
        overwrite: bool | None = None,
        description: str | None = None,
        request_id: str | None = None,
        project: str | None = None,
    ) -> Operation:
        """Start ingesting an image asset (``image.import``) from ``manifest`` (a
        ``types.ImageManifest`` or its dict form: ``name``, ``tilesets`` with ``gs://`` sources,
        ``bands``, ...) and return its :class:`eerest.Operation`. A ``requestId`` is added
        (unless given) so that a retried request starts one task."""
        client = cast("SyncClientBase", self)
        method, body = import_call(
            "image", manifest, overwrite=overwrite, description=description, request_id=request_id
        )
        return Operation(client, client._invoke(_spec(client, method), {"project": project}, body, _NO_OPTS))

    def import_table(
        self,
        manifest: Any,
        *,
        overwrite: bool | None = None,
        description: str | None = None,
        request_id: str | None = None,
        project: str | None = None,
    ) -> Operation:
        """Start ingesting a table asset (``table.import``) from ``manifest`` (a
        ``types.TableManifest`` or its dict form: ``name``, ``sources`` with ``gs://`` CSV,
        SHP, ... files) and return its :class:`eerest.Operation`; ``requestId`` as :meth:`import_image`."""
        client = cast("SyncClientBase", self)
        method, body = import_call(
            "table", manifest, overwrite=overwrite, description=description, request_id=request_id
        )
        return Operation(client, client._invoke(_spec(client, method), {"project": project}, body, _NO_OPTS))

    def thumbnail(
        self,
        expression: object,
        *,
        file_format: str = "PNG",
        grid: Mapping[str, Any] | None = None,
        band_ids: Sequence[str] | None = None,
        visualization_options: Mapping[str, Any] | None = None,
        project: str | None = None,
    ) -> bytes:
        """The bytes of a thumbnail of ``expression`` (an image or collection; ``thumbnails.create``
        then ``thumbnails.getPixels``), e.g. a PNG; ``eerest.Pixels(data)`` decodes it."""
        client = cast("SyncClientBase", self)
        body = thumbnail_body(expression, file_format, grid, band_ids, visualization_options)
        thumb = client._invoke(_spec(client, "projects.thumbnails.create"), {"parent": project}, body, _NO_OPTS)
        data = client._invoke(_spec(client, "projects.thumbnails.getPixels"), {"name": thumb.name}, None, _NO_OPTS)
        return bytes(data)

    def map_tiles(
        self,
        expression: object,
        *,
        visualization_options: Mapping[str, Any] | None = None,
        band_ids: Sequence[str] | None = None,
        file_format: str | None = None,
        project: str | None = None,
    ) -> MapTiles:
        """A map of ``expression`` (``maps.create``): its name and tile URL template
        (``{z}/{x}/{y}``, for web maps that send the client's credentials); :meth:`map_tile` fetches one."""
        client = cast("SyncClientBase", self)
        body = map_body(expression, visualization_options, band_ids, file_format)
        made = client._invoke(_spec(client, "projects.maps.create"), {"parent": project}, body, _NO_OPTS)
        return MapTiles.of(client, made.name)

    def map_tile(self, tiles: MapTiles | str, z: int, x: int, y: int) -> bytes:
        """The bytes of one tile of a map (``maps.tiles.get``)."""
        client = cast("SyncClientBase", self)
        name = tiles.name if isinstance(tiles, MapTiles) else tiles
        params = {"parent": name, "zoom": z, "x": x, "y": y}
        return bytes(client._invoke(_spec(client, "projects.maps.tiles.get"), params, None, _NO_OPTS))


class AsyncTasksMixin:
    """As :class:`SyncTasksMixin`, for the async clients."""

    async def compute_value(
        self, expression: object, *, workload_tag: str | None = None, project: str | None = None
    ) -> Any:
        """As ``Client.compute_value``."""
        client = cast("AsyncClientBase", self)
        answer = await client._invoke(
            _spec(client, "projects.value.compute"),
            {"project": project},
            _value_body(expression, workload_tag),
            _NO_OPTS,
        )
        return answer.result

    def operation(self, name: Any) -> AsyncOperation:
        """As ``Client.operation``: an :class:`eerest.AsyncOperation`."""
        client = cast("AsyncClientBase", self)
        return AsyncOperation(client, name if not isinstance(name, str) else {"name": name})

    async def list_operations(
        self, *, filter: str | None = None, project: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[AsyncOperation]:
        """As ``Client.list_operations``."""
        client = cast("AsyncClientBase", self)
        spec = _spec(client, "projects.operations.list")
        pager = client._pager(spec, _list_params(client, project, filter, page_size), None, _NO_OPTS, None)
        async for message in pager:
            yield AsyncOperation(client, message)

    async def export(
        self, request: ExportRequest, *, kind: str | None = None, project: str | None = None
    ) -> AsyncOperation:
        """As ``Client.export``."""
        client = cast("AsyncClientBase", self)
        method, body = export_call(request, kind)
        return AsyncOperation(client, await client._invoke(_spec(client, method), {"project": project}, body, _NO_OPTS))

    async def submit_exports(
        self,
        requests: Iterable[ExportRequest],
        *,
        max_queued: int = 3000,
        max_concurrency: int | None = None,
        project: str | None = None,
        policy: SubmitPolicy | None = None,
    ) -> list[AsyncOperation]:
        """As ``Client.submit_exports``."""
        client, policy = cast("AsyncClientBase", self), policy or SubmitPolicy()
        return await run_async(client, list(requests), max_queued=max_queued, max_concurrency=max_concurrency,
                               project=project, policy=policy)

    async def import_image(
        self,
        manifest: Any,
        *,
        overwrite: bool | None = None,
        description: str | None = None,
        request_id: str | None = None,
        project: str | None = None,
    ) -> AsyncOperation:
        """As ``Client.import_image``: an :class:`eerest.AsyncOperation`."""
        client = cast("AsyncClientBase", self)
        method, body = import_call(
            "image", manifest, overwrite=overwrite, description=description, request_id=request_id
        )
        return AsyncOperation(client, await client._invoke(_spec(client, method), {"project": project}, body, _NO_OPTS))

    async def import_table(
        self,
        manifest: Any,
        *,
        overwrite: bool | None = None,
        description: str | None = None,
        request_id: str | None = None,
        project: str | None = None,
    ) -> AsyncOperation:
        """As ``Client.import_table``: an :class:`eerest.AsyncOperation`."""
        client = cast("AsyncClientBase", self)
        method, body = import_call(
            "table", manifest, overwrite=overwrite, description=description, request_id=request_id
        )
        return AsyncOperation(client, await client._invoke(_spec(client, method), {"project": project}, body, _NO_OPTS))

    async def thumbnail(
        self,
        expression: object,
        *,
        file_format: str = "PNG",
        grid: Mapping[str, Any] | None = None,
        band_ids: Sequence[str] | None = None,
        visualization_options: Mapping[str, Any] | None = None,
        project: str | None = None,
    ) -> bytes:
        """As ``Client.thumbnail``."""
        client = cast("AsyncClientBase", self)
        body = thumbnail_body(expression, file_format, grid, band_ids, visualization_options)
        thumb = await client._invoke(_spec(client, "projects.thumbnails.create"), {"parent": project}, body, _NO_OPTS)
        data = await client._invoke(
            _spec(client, "projects.thumbnails.getPixels"), {"name": thumb.name}, None, _NO_OPTS
        )
        return bytes(data)

    async def map_tiles(
        self,
        expression: object,
        *,
        visualization_options: Mapping[str, Any] | None = None,
        band_ids: Sequence[str] | None = None,
        file_format: str | None = None,
        project: str | None = None,
    ) -> MapTiles:
        """As ``Client.map_tiles``."""
        client = cast("AsyncClientBase", self)
        body = map_body(expression, visualization_options, band_ids, file_format)
        made = await client._invoke(_spec(client, "projects.maps.create"), {"parent": project}, body, _NO_OPTS)
        return MapTiles.of(client, made.name)

    async def map_tile(self, tiles: MapTiles | str, z: int, x: int, y: int) -> bytes:
        """As ``Client.map_tile``."""
        client = cast("AsyncClientBase", self)
        name = tiles.name if isinstance(tiles, MapTiles) else tiles
        params = {"parent": name, "zoom": z, "x": x, "y": y}
        return bytes(await client._invoke(_spec(client, "projects.maps.tiles.get"), params, None, _NO_OPTS))
