"""The xarray backend: ``xr.open_dataset(source, engine="eerest", ...)`` and
:func:`open_dataset`, lazy variables whose dask chunks are one request each."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import DTypeLike
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.core import indexing

from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY
from eerest._ee import is_ee_object
from eerest.errors import EERestError, InvalidRequestError
from eerest.tiling import DEFAULT_MAX_TILE_BYTES, PixelGrid, Window, plan_tiles

from ._config import ApiVersion, ClientConfig, CredentialsFactory, client_for
from ._coords import GRID_MAPPING, grid_mapping_attrs, xy_coords
from ._fill import FillValue, band_fill_values
from ._reader import WindowReader
from ._source import (
    SourceInfo,
    describe_source,
    expression_dict,
    is_asset_name,
    looks_like_collection,
    scalar_properties,
)

__all__ = ["EeRestBackendArray", "EeRestBackendEntrypoint", "open_dataset"]


class EeRestBackendArray(BackendArray):
    """One band of an image ``(y, x)`` or of a collection ``(time, y, x)``; indexing it
    reads only the window asked for, one request per image (a few if a limit demands)."""

    def __init__(self, reader: WindowReader, band: str, dtype: np.dtype[Any], *, has_time: bool) -> None:
        self.reader = reader
        self.band = band
        self.dtype = dtype
        grid = reader.grid
        self.shape = (len(reader.images), grid.height, grid.width) if has_time else (grid.height, grid.width)
        self._has_time = has_time

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray[Any, Any]:
        return indexing.explicit_indexing_adapter(  # type: ignore[no-any-return]
            key, self.shape, indexing.IndexingSupport.BASIC, self._read
        )

    def _read(self, key: tuple[int | slice, ...]) -> np.ndarray[Any, Any]:
        full = key if self._has_time else (0, *key)
        shape = self.shape if self._has_time else (1, *self.shape)
        times, rows, cols = (_range(k, n) for k, n in zip(full, shape, strict=True))
        try:
            return self._read_ranges(full, times, rows, cols)
        except EERestError as exc:  # on a dask worker: say which chunk, in the same error class
            raise _naming_the_chunk(exc, self._chunk_name(times, rows, cols)) from None

    def _chunk_name(self, times: range, rows: range, cols: range) -> str:
        images = self.reader.images
        when = ""
        if self._has_time and len(times):
            first, last = images[times[0]].label, images[times[-1]].label
            when = f", time {times[0]}" + (f" ({first})" if len(times) == 1 else f"-{times[-1]} ({first} .. {last})")
        span = (
            f"x {cols.start}:{cols.stop}, y {rows.start}:{rows.stop}" if len(rows) and len(cols) else "empty window"
        )
        return f"chunk of variable {self.band!r}{when}, window {span}"

    def _read_ranges(
        self, full: tuple[int | slice, ...], times: range, rows: range, cols: range
    ) -> np.ndarray[Any, Any]:
        if len(times) == 1 and rows.step == 1 and cols.step == 1 and len(rows) and len(cols):
            # one chunk of dask's: the response's own buffer, no copy
            window = Window(cols.start, rows.start, len(cols), len(rows))
            out = self.reader.read(times[0], self.band, window, self.dtype)[None]
        else:
            out = np.empty((len(times), len(rows), len(cols)), dtype=self.dtype)
            if out.size:
                self._read_into(times, rows, cols, out)
        return out[tuple(0 if isinstance(k, (int, np.integer)) else slice(None) for k in full)]

    def _read_into(self, times: range, rows: range, cols: range, out: np.ndarray[Any, Any]) -> None:
        """Several images, or a strided selection: the window covering it, image by image."""
        r0, c0 = min(rows), min(cols)
        window = Window(c0, r0, max(cols) + 1 - c0, max(rows) + 1 - r0)
        contiguous = rows.step == 1 and cols.step == 1
        buffer = None if contiguous else np.empty((window.height, window.width), dtype=self.dtype)
        for i, t in enumerate(times):
            if buffer is None:
                self.reader.read_into(t, self.band, window, out[i])
            else:
                self.reader.read_into(t, self.band, window, buffer)
                out[i] = buffer[np.ix_(np.asarray(rows) - r0, np.asarray(cols) - c0)]


def _naming_the_chunk(exc: EERestError, chunk: str) -> EERestError:
    """``exc`` (same class, status and details) with the chunk's name before its message."""
    named = copy.copy(exc)
    message = f"{chunk}: {getattr(exc, 'message', None) or (exc.args[0] if exc.args else '')}"
    named.args = (message, *exc.args[1:])
    if hasattr(named, "message"):
        named.message = message
    return named


def _range(key: int | slice, size: int) -> range:
    if isinstance(key, slice):
        return range(*key.indices(size))
    index = int(key)
    if index < 0:
        index += size
    return range(index, index + 1)


def _resolve_grid(grid: Any, info_grid: PixelGrid | None) -> PixelGrid:
    if grid is not None:
        return PixelGrid.from_api(grid)
    if info_grid is None:
        raise InvalidRequestError(
            "the source's native grid is unknown: pass grid= (a PixelGrid, e.g. PixelGrid.from_bbox(crs, scale, bbox), "
            "or the API's PixelGrid JSON)"
        )
    return info_grid


#: Keywords of Xee's ``engine="ee"`` that eerest spells differently: what to pass instead.
_XEE_RENAMED = {
    "projection": "crs= and scale= (with geometry=), or grid=PixelGrid(...)",
    "ee_mask_value": "fill_value=",
    "request_byte_limit": "max_tile_bytes=",
    "io_chunks": "chunks=",
    "n_images": "a limited collection, e.g. ee.ImageCollection(...).limit(n)",
}


def xee_grid(
    grid: Any,
    *,
    crs: str | None = None,
    scale: float | None = None,
    geometry: Any = None,
    crs_transform: Sequence[float] | None = None,
    shape_2d: Sequence[int] | None = None,
) -> Any:
    """``grid``, or the grid Xee's keywords describe: ``crs`` + ``crs_transform`` +
    ``shape_2d`` (width, height), as Xee 0.1 takes them, or ``crs`` + ``scale`` + ``geometry``
    (the region's bounds), as earlier Xee did."""
    given = {
        name: value
        for name, value in (
            ("crs", crs),
            ("scale", scale),
            ("geometry", geometry),
            ("crs_transform", crs_transform),
            ("shape_2d", shape_2d),
        )
        if value is not None
    }
    if not given:
        return grid
    names = ", ".join(f"{n}=" for n in given)
    if grid is not None:
        raise InvalidRequestError(f"give grid= or Xee's grid keywords ({names}), not both")
    if crs is None:
        raise InvalidRequestError(f"{names} need crs= too (e.g. crs='EPSG:4326'), or pass grid=")
    if crs_transform is not None or shape_2d is not None:
        if crs_transform is None or shape_2d is None or scale is not None or geometry is not None:
            raise InvalidRequestError(
                f"Xee's grid is crs=, crs_transform= and shape_2d= together (not {names}); or pass grid="
            )
        if len(shape_2d) != 2:
            raise InvalidRequestError(f"shape_2d must be (width, height), not {shape_2d!r}")
        width, height = shape_2d
        return PixelGrid(width, height, tuple(crs_transform), crs)  # type: ignore[arg-type]
    if scale is None or geometry is None:
        raise InvalidRequestError(
            "crs= and scale= need geometry= (the region, GeoJSON, shapely or ee.Geometry) to make a grid; "
            "or pass grid=PixelGrid.from_bbox(crs, scale, bbox)"
        )
    return PixelGrid.from_geometry(geometry, crs=crs, scale=scale)


def refuse_xee_keywords(given: Mapping[str, Any]) -> None:
    """A clear error for Xee keywords eerest names differently (instead of a TypeError)."""
    used = [name for name, value in given.items() if value is not None]
    if used:
        mapping = "; ".join(f"{name}= -> {_XEE_RENAMED[name]}" for name in used)
        raise InvalidRequestError(f"these are Xee's keywords, which eerest spells differently: {mapping}")


def default_chunks(grid: PixelGrid, dtypes: Sequence[np.dtype[Any]], max_tile_bytes: int) -> dict[str, int]:
    """Chunks of one request each: the tile planner's tile for one band of the widest type."""
    widest = max(dtypes, key=lambda d: d.itemsize)
    plan = plan_tiles(grid, [widest], max_tile_bytes=max_tile_bytes)
    return {"time": 1, "y": plan.tile_height, "x": plan.tile_width}


def build_dataset(
    info: SourceInfo,
    grid: PixelGrid,
    config: ClientConfig,
    *,
    client: Any,
    fill_value: FillValue | Mapping[str, FillValue] | None,
    max_tile_bytes: int,
    drop_variables: Iterable[str] | None = None,
) -> xr.Dataset:
    """The lazy Dataset of ``info`` on ``grid`` (no request is made here)."""
    fills = band_fill_values(info.band_ids, info.dtypes, fill_value)
    reader = WindowReader(
        config, grid, info.images, fills, max_request_bytes=max_tile_bytes, client=client, listed=info.listed
    )
    x, y = xy_coords(grid)
    coords: dict[str, Any] = {
        "x": ("x", x, {"standard_name": "projection_x_coordinate", "axis": "X"}),
        "y": ("y", y, {"standard_name": "projection_y_coordinate", "axis": "Y"}),
        GRID_MAPPING: ((), np.int64(0), grid_mapping_attrs(grid)),
    }
    dims: tuple[str, ...] = ("y", "x")
    if info.is_collection:
        dims = ("time", "y", "x")
        times = [image.start_time for image in info.images]
        coords["time"] = ("time", np.array([_datetime64(t) for t in times], dtype="datetime64[ns]"))
        for key, values in scalar_properties(info.images).items():
            if key not in coords and key not in info.band_ids:
                coords[key] = ("time", np.asarray(values))
        coords["image"] = ("time", np.array([image.label for image in info.images]))
    chunks = default_chunks(grid, info.dtypes, max_tile_bytes)
    drop = set(drop_variables or ())
    variables = {}
    for band, dtype in zip(info.band_ids, info.dtypes, strict=True):
        if band in drop:
            continue
        array = EeRestBackendArray(reader, band, dtype, has_time=info.is_collection)
        fill_scalar = np.array(fills[band], dtype=dtype)[()]
        variable = xr.Variable(
            dims,
            indexing.LazilyIndexedArray(array),
            # the fill value as an attribute (not encoding): these values are not masked-decoded,
            # which is what rioxarray and the CF encoders of to_zarr / to_netcdf read it as
            attrs={"grid_mapping": GRID_MAPPING, "_FillValue": fill_scalar, "nodata": fill_scalar},
            encoding={"dtype": dtype, "preferred_chunks": {d: chunks[d] for d in dims}},
        )
        variables[band] = variable
    attrs = {k: v for k, v in info.properties.items() if isinstance(v, (bool, int, float, str))}
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _datetime64(value: dt.datetime | None) -> np.datetime64:
    """A UTC start time as numpy's timezone-naive datetime64 (NaT when unknown)."""
    if value is None:
        return np.datetime64("NaT", "ns")
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return np.datetime64(value, "ns")


def _config_and_client(
    client: Any,
    *,
    credentials_factory: CredentialsFactory | None,
    project: str | None,
    base_url: str | None,
    api_version: ApiVersion,
    max_concurrency: int | None,
    cluster_max_concurrency: int | None = None,
) -> tuple[ClientConfig, Any]:
    if isinstance(client, ClientConfig):
        if cluster_max_concurrency is not None:
            client = dataclasses.replace(client, cluster_max_concurrency=cluster_max_concurrency)
        return client, client_for(client)
    if client is not None:
        config = ClientConfig.from_client(client, credentials_factory)
        if cluster_max_concurrency is not None:
            config = dataclasses.replace(config, cluster_max_concurrency=cluster_max_concurrency)
        return config, client
    config = ClientConfig(
        project=project,
        base_url=base_url,
        api_version=api_version,
        credentials=credentials_factory,
        max_concurrency=max_concurrency,
        cluster_max_concurrency=cluster_max_concurrency,
    )
    return config, client_for(config)


def open_eerest(
    source: Any,
    *,
    client: Any = None,
    grid: Any = None,
    band_ids: Sequence[str] | None = None,
    band_dtypes: Sequence[DTypeLike] | None = None,
    fill_value: FillValue | Mapping[str, FillValue] | None = None,
    collection: bool | None = None,
    credentials_factory: CredentialsFactory | None = None,
    project: str | None = None,
    base_url: str | None = None,
    api_version: ApiVersion = "v1",
    max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
    cluster_max_concurrency: int | None = None,
    max_tile_bytes: int = DEFAULT_MAX_TILE_BYTES,
    drop_variables: Iterable[str] | None = None,
) -> xr.Dataset:
    """The backend's work: fetch the metadata, build the lazy dataset."""
    config, live = _config_and_client(
        client,
        credentials_factory=credentials_factory,
        project=project,
        base_url=base_url,
        api_version=api_version,
        max_concurrency=max_concurrency,
        cluster_max_concurrency=cluster_max_concurrency,
    )
    wanted = PixelGrid.from_api(grid) if grid is not None else None
    info = describe_source(
        live, source, grid=wanted, band_ids=band_ids, band_dtypes=band_dtypes, collection=collection
    )
    return build_dataset(
        info,
        _resolve_grid(wanted, info.native_grid),
        config,
        client=live if client is not None and not isinstance(client, ClientConfig) else None,
        fill_value=fill_value,
        max_tile_bytes=max_tile_bytes,
        drop_variables=drop_variables,
    )


class EeRestBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(source, engine="eerest", grid=..., ...)``: Earth Engine images and
    image collections as lazy datasets (see :func:`eerest.xarray.open_dataset`)."""

    description = "Earth Engine images and image collections through the eerest REST client"
    url = "https://github.com/eerest/eerest#xarray-and-dask"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "client",
        "grid",
        "band_ids",
        "band_dtypes",
        "fill_value",
        "collection",
        "credentials_factory",
        "project",
        "base_url",
        "api_version",
        "max_concurrency",
        "cluster_max_concurrency",
        "max_tile_bytes",
        # Xee's names for the grid, so that engine="ee" code runs with engine="eerest"
        "crs",
        "scale",
        "geometry",
        "crs_transform",
        "shape_2d",
        *_XEE_RENAMED,
    )

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        drop_variables: Iterable[str] | None = None,
        client: Any = None,
        grid: Any = None,
        band_ids: Sequence[str] | None = None,
        band_dtypes: Sequence[DTypeLike] | None = None,
        fill_value: FillValue | Mapping[str, FillValue] | None = None,
        collection: bool | None = None,
        credentials_factory: CredentialsFactory | None = None,
        project: str | None = None,
        base_url: str | None = None,
        api_version: ApiVersion = "v1",
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        cluster_max_concurrency: int | None = None,
        max_tile_bytes: int = DEFAULT_MAX_TILE_BYTES,
        crs: str | None = None,
        scale: float | None = None,
        geometry: Any = None,
        crs_transform: Sequence[float] | None = None,
        shape_2d: Sequence[int] | None = None,
        projection: Any = None,
        ee_mask_value: Any = None,
        request_byte_limit: Any = None,
        io_chunks: Any = None,
        n_images: Any = None,
    ) -> xr.Dataset:
        if isinstance(filename_or_obj, _AssetName):
            filename_or_obj = filename_or_obj.name
        refuse_xee_keywords(
            {
                "projection": projection,
                "ee_mask_value": ee_mask_value,
                "request_byte_limit": request_byte_limit,
                "io_chunks": io_chunks,
                "n_images": n_images,
            }
        )
        grid = xee_grid(
            grid, crs=crs, scale=scale, geometry=geometry, crs_transform=crs_transform, shape_2d=shape_2d
        )
        return open_eerest(
            filename_or_obj,
            client=client,
            grid=grid,
            band_ids=band_ids,
            band_dtypes=band_dtypes,
            fill_value=fill_value,
            collection=collection,
            credentials_factory=credentials_factory,
            project=project,
            base_url=base_url,
            api_version=api_version,
            max_concurrency=max_concurrency,
            cluster_max_concurrency=cluster_max_concurrency,
            max_tile_bytes=max_tile_bytes,
            drop_variables=drop_variables,
        )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        return is_asset_name(filename_or_obj) and not os.path.exists(filename_or_obj)


@dataclass(frozen=True)
class _AssetName:
    """An asset name handed through ``xr.open_dataset`` as something that is not a file path."""

    name: str


def open_dataset(
    source: Any,
    *,
    client: Any = None,
    grid: Any = None,
    band_ids: Sequence[str] | None = None,
    chunks: int | str | Mapping[str, int] | None = {},
    band_dtypes: Sequence[DTypeLike] | None = None,
    fill_value: FillValue | Mapping[str, FillValue] | None = None,
    collection: bool | None = None,
    credentials_factory: CredentialsFactory | None = None,
    project: str | None = None,
    base_url: str | None = None,
    api_version: ApiVersion = "v1",
    max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
    cluster_max_concurrency: int | None = None,
    max_tile_bytes: int = DEFAULT_MAX_TILE_BYTES,
) -> xr.Dataset:
    """An Earth Engine image or image collection as a lazy xarray Dataset.

    ``source``: an asset name (``projects/<p>/assets/...``: an IMAGE gives one ``(y, x)``
    variable per band, an IMAGE_COLLECTION ``(time, y, x)``), an Expression dict, or an
    ``ee.Image`` / ``ee.ImageCollection``. ``grid``: the pixel grid to read (a
    :class:`eerest.tiling.PixelGrid` or the API's PixelGrid JSON); default, the first
    band's native grid. ``chunks``: dask chunks; the default ``{}`` makes each chunk one
    request of at most ``max_tile_bytes`` (the tile planner's tile), ``None`` gives
    lazily indexed numpy-backed variables. Masked pixels become ``fill_value`` (default 0,
    what Earth Engine sends; a scalar or one per band, in the band's type), recorded as the
    variables' ``_FillValue`` and ``nodata`` attributes.

    ``client``: an eerest client (used in this process) or a :class:`ClientConfig`;
    without one, a client is built from ``project``, ``base_url``, ``api_version``,
    ``max_concurrency`` and ``credentials_factory``. Dask workers in other processes build
    their own client from the configuration, one per process: the client's concurrency
    limit applies per process (``workers x max_concurrency`` in flight in total);
    ``cluster_max_concurrency=N`` (opt-in) caps the requests in flight across a whole
    dask.distributed cluster at N (a ``distributed.Semaphore``; see :class:`ClientConfig`).
    """
    if isinstance(source, str):
        source = _AssetName(source)  # not a path: xarray < 2025.7 stats str sources when chunking
    else:
        # a plain Expression dict tokenizes (dask names its chunks by the source); an ee
        # object says itself whether it is a collection
        if collection is None and is_ee_object(source):
            collection = looks_like_collection(source, {})
        source = expression_dict(source)
    with warnings.catch_warnings():
        # any chunk reads fine (a window is a request); the preferred chunks are only the cheapest
        warnings.filterwarnings("ignore", "The specified chunks separate the stored chunks", UserWarning)
        ds: xr.Dataset = xr.open_dataset(
            source,
            engine=EeRestBackendEntrypoint,
            chunks=chunks,
            client=client,
            grid=grid,
            band_ids=band_ids,
            band_dtypes=band_dtypes,
            fill_value=fill_value,
            collection=collection,
            credentials_factory=credentials_factory,
            project=project,
            base_url=base_url,
            api_version=api_version,
            max_concurrency=max_concurrency,
            cluster_max_concurrency=cluster_max_concurrency,
            max_tile_bytes=max_tile_bytes,
        )
    # Image properties and ids are metadata already fetched: numpy, not dask (xarray chunks
    # every non-index coordinate), so that ds.where(ds.CLOUD_COVER < 10, drop=True) works.
    loaded = {name: ds[name].variable.compute() for name in ds.coords if name not in ds.indexes}
    return ds.assign_coords(loaded)  # type: ignore[no-any-return]
