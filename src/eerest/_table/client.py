"""``read_table`` on the sync and async clients: the methods and their documentation.
The work is in :mod:`eerest._table.engine`, imported on the first call (it needs pyarrow,
shapely and, for a GeoDataFrame, geopandas: ``pip install 'eerest[table]'``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    ProgressArg: TypeAlias = bool | Callable[[int, int], object]

__all__ = ["SyncReadTableMixin", "AsyncReadTableMixin"]

_READ_TABLE_DOC = """Read every feature of ``source``, page after page, into a GeoDataFrame, an
        Arrow table or a GeoParquet file.

        Args:
            source: A table asset name (``projects/*/assets/**``, read with
                ``assets.listFeatures``) or a FeatureCollection expression (a dict, an
                ``Expression`` or an ``ee`` object such as ``ee.FeatureCollection(...)``,
                ``image.reduceRegions(...)`` or ``image.sampleRegions(...)``, read with
                ``table.computeFeatures``). All pages are read: there is no 5,000-feature
                ceiling as with ``getInfo()``.
            out: ``None``: a ``geopandas.GeoDataFrame`` in EPSG:4326 (properties typed
                from their values: integers stay integers, as pandas' nullable ``Int64``
                where some are null; Earth Engine Dates become UTC datetimes; nulls stay
                nulls). ``"arrow"``: a ``pyarrow.Table`` whose ``geometry`` column is WKB
                (GeoArrow ``geoarrow.wkb``, with GeoParquet ``geo`` metadata). ``"x.parquet"``:
                a GeoParquet 1.1 file (WKB geometry, a ``bbox`` covering column, CRS
                EPSG:4326), each page written as a row group as it arrives (memory is
                bounded by the pages in flight), as ``x.parquet.partial`` renamed when
                complete; the path is returned.
            columns: Only these properties, in this order (missing ones are nulls).
            page_size: Features asked for per page (the service's default is 1,000; it
                may answer fewer).
            max_concurrency: Pages fetched ahead while earlier ones are decoded and
                written (default 2). Pages come one after another, each page's token with
                the page before it.
            progress: ``True`` for a tqdm progress bar (``pip install 'eerest[progress]'``),
                or a callable receiving (features read, pages read).
            resume: For a file ``out``: if the read fails, keep what was written and the
                token of the next page (``x.parquet.partial.json``); the same read run again
                goes on from that page. (The service's page tokens may not last: a token it
                refuses fails the rerun, and ``resume=False`` starts over.)
            workload_tag: Sent with every request (expressions only).

        Requests that fail are retried as the client's other calls are. The first error
        that cannot be retried stops the read: a file output is removed (kept with
        ``resume=True``) and the error (the same class, e.g. :class:`eerest.BadRequestError`)
        names the page in its message and as ``.page`` (1-based).
        """


class SyncReadTableMixin:
    """``read_table`` for the sync clients: pages fetched by one thread ahead of the decoding."""

    def read_table(
        self,
        source: object,
        *,
        out: str | os.PathLike[str] | None = None,
        columns: Sequence[str] | None = None,
        page_size: int | None = None,
        max_concurrency: int | None = None,
        progress: ProgressArg = False,
        resume: bool = False,
        workload_tag: str | None = None,
    ) -> Any:
        from eerest._core.port import ClientPort
        from eerest._table.engine import read_table_sync

        _check_extra(out)
        return read_table_sync(
            ClientPort(self),
            source,
            out=out,
            columns=_columns(columns),
            page_size=page_size,
            max_concurrency=max_concurrency,
            progress=progress,
            resume=resume,
            workload_tag=workload_tag,
        )

    read_table.__doc__ = _READ_TABLE_DOC


class AsyncReadTableMixin:
    """``read_table`` for the async clients: pages fetched by one task ahead of the decoding,
    which runs in a worker thread."""

    async def read_table(
        self,
        source: object,
        *,
        out: str | os.PathLike[str] | None = None,
        columns: Sequence[str] | None = None,
        page_size: int | None = None,
        max_concurrency: int | None = None,
        progress: ProgressArg = False,
        resume: bool = False,
        workload_tag: str | None = None,
    ) -> Any:
        from eerest._core.port import AsyncClientPort
        from eerest._table.engine import read_table_async

        _check_extra(out)
        return await read_table_async(
            AsyncClientPort(self),
            source,
            out=out,
            columns=_columns(columns),
            page_size=page_size,
            max_concurrency=max_concurrency,
            progress=progress,
            resume=resume,
            workload_tag=workload_tag,
        )

    read_table.__doc__ = _READ_TABLE_DOC


def _columns(columns: Sequence[str] | None) -> list[str] | None:
    from eerest.errors import InvalidRequestError

    if columns is None:
        return None
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise InvalidRequestError(f"columns must be a list of property names, not {columns!r}")
    return list(columns)


def _check_extra(out: object) -> None:
    """The modules ``read_table`` needs for ``out``, or an ImportError naming the extra."""
    from eerest._extras import missing_extra

    needed = ["pyarrow", "shapely"] + (["geopandas"] if out is None else [])
    for module in needed:
        try:
            __import__(module)
        except ImportError:
            raise missing_extra("read_table", module, "table") from None
