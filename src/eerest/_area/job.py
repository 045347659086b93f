"""What a ``read_area`` call asks for, decided before any pixel is fetched (pure).

:func:`prepare` is a generator, like an overlay's ``prepare``: it yields what it needs
to know (the asset's metadata, or the header of a 1x1-pixel NPY request for band types)
and the sync or async client answers with its own I/O; it returns the :class:`AreaJob`.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from eerest import _regions, limits
from eerest._core.overlay import Fetch
from eerest._ee import to_expression
from eerest._fill import FillValue, band_fill_values, load, masked_expression
from eerest._overlays.pixel_checks import band_dtype
from eerest.errors import GridWarning, InvalidRequestError
from eerest.tiling import DEFAULT_MAX_TILE_BYTES, PixelGrid, Tile, TilePlan, Window, plan_tiles

__all__ = ["AreaJob", "Probe", "Source", "parse_source", "prepare", "structured_dtype"]

GET_PIXELS = "projects.assets.getPixels"
COMPUTE_PIXELS = "projects.image.computePixels"
_ASSET_NAME = re.compile(r"^projects/[^/]+/assets/.+$")


@dataclass(frozen=True)
class Source:
    """The method that reads the pixels and its fixed arguments (wire names)."""

    method: str
    params: Mapping[str, Any]
    body: Mapping[str, Any]

    @property
    def asset(self) -> str | None:
        return self.params.get("name") if self.method == GET_PIXELS else None


def parse_source(source: Any, workload_tag: str | None = None) -> Source:
    """An asset name (``projects/*/assets/**``) reads with getPixels; an expression (a
    dict, an ``Expression`` message or an ``ee`` object) with computePixels."""
    tag = {"workloadTag": workload_tag} if workload_tag is not None else {}
    if isinstance(source, str):
        if not _ASSET_NAME.match(source):
            raise InvalidRequestError(
                f"source {source!r} is not an asset name of the form projects/*/assets/**: for public data use "
                f"'projects/earthengine-public/assets/{source}'; for a computed image pass its expression"
            )
        return Source(GET_PIXELS, {"name": source}, tag)
    expression = to_expression(source)
    to_dict = getattr(expression, "to_dict", None)
    if callable(to_dict) and not isinstance(expression, Mapping):
        expression = to_dict()
    if not isinstance(expression, Mapping):
        raise InvalidRequestError(
            f"source must be an asset name or an expression (dict, Expression or ee object), not {type(source).__name__}"
        )
    return Source(COMPUTE_PIXELS, {"project": None}, {"expression": dict(expression), **tag})


def structured_dtype(names: Sequence[str], dtypes: Sequence[np.dtype[Any]]) -> np.dtype[Any]:
    """The dtype of one NPY response with these bands: one field per band, packed."""
    if len(set(names)) != len(names):
        raise InvalidRequestError(f"band ids must be unique, not {list(names)}")
    return np.dtype([(n, d) for n, d in zip(names, dtypes, strict=True)])


@dataclass(frozen=True)
class Probe:
    """Ask for the NPY dtype of a 1x1-pixel request of these bands (``None``: all)."""

    source: Source
    grid: PixelGrid
    band_ids: tuple[str, ...] | None

    def request(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        body = {**self.source.body, "fileFormat": "NPY", "grid": self.grid.to_api()}
        if self.band_ids is not None:
            body["bandIds"] = list(self.band_ids)
        return self.source.method, dict(self.source.params), body


@dataclass(frozen=True)
class AreaJob:
    """Everything the I/O loops need: the plan, the output layout, the requests."""

    source: Source
    plan: TilePlan
    dtype: np.dtype[Any]  # the output's: one field per band, as one request returns it
    tile_dtypes: Mapping[tuple[int, ...], np.dtype[Any]] = field(default_factory=dict)
    #: Each band's fill value for masked pixels (applied on the server), when one was asked for.
    fills: Mapping[str, FillValue] | None = None
    #: With ``mask=True``: the first ``data_bands`` fields of ``dtype`` are the bands, the
    #: rest one uint8 validity band each (1: data, 0: masked), fetched in the same tiles.
    data_bands: int | None = None

    @property
    def masked(self) -> bool:
        return self.data_bands is not None

    @property
    def band_names(self) -> tuple[str, ...]:
        """The bands of the output (without the mask bands)."""
        return self.names if self.data_bands is None else self.names[: self.data_bands]

    @property
    def data_dtype(self) -> np.dtype[Any]:
        """The output's dtype: one field per band, packed, as one request returns it."""
        if self.data_bands is None:
            return self.dtype
        names = self.band_names
        return structured_dtype(names, [self.dtype.fields[n][0] for n in names])  # type: ignore[index]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.dtype.names or ())

    @property
    def area(self) -> Window:
        return self.plan.area

    def tile_dtype(self, tile: Tile) -> np.dtype[Any]:
        found = self.tile_dtypes.get(tile.bands)
        if found is None:
            names = [self.names[b] for b in tile.bands]
            found = structured_dtype(names, [self.dtype.fields[n][0] for n in names])  # type: ignore[index]
        return found

    def request(self, tile: Tile) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(method id, path/query params, body, overlay extras) of ``tile``'s request."""
        names = [self.names[b] for b in tile.bands]
        body = {**self.source.body, "fileFormat": "NPY", "grid": tile.grid.to_api(), "bandIds": names}
        extras: dict[str, Any] = {}
        if self.source.method == COMPUTE_PIXELS:
            extras["band_dtypes"] = [self.dtype.fields[n][0] for n in names]  # type: ignore[index]
        return self.source.method, dict(self.source.params), body, extras

    def fingerprint(self, output: Mapping[str, Any]) -> str:
        """A digest of what the output will hold, so a resumed file is only ever the same read."""
        doc = {
            "eerest-read-area": 1,
            "method": self.source.method,
            "params": dict(self.source.params),
            "body": {k: v for k, v in self.source.body.items() if k != "workloadTag"},
            "grid": self.plan.grid.to_api(),
            "area": [self.area.col_off, self.area.row_off, self.area.width, self.area.height],
            "dtype": np.lib.format.dtype_to_descr(self.dtype),
            "output": dict(output),
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _asset_bands(asset: Any, band_ids: Sequence[str] | None, name: str) -> list[Any]:
    bands = list(getattr(asset, "bands", None) or [])
    if band_ids is None:
        if not bands:
            raise InvalidRequestError(f"the asset {name} lists no bands; pass band_ids")
        return bands
    by_id = {b.id: b for b in bands}
    missing = [b for b in band_ids if b not in by_id]
    if missing and bands:
        raise InvalidRequestError(f"the asset {name} has no band(s) {missing}; it has {list(by_id)}")
    return [by_id.get(b) for b in band_ids]


def _warn_if_unlikely(grid: PixelGrid, window: Window | None, footprint: Any) -> None:
    """Warn of a grid that is probably a mistake: its pixels would likely all be masked."""
    area = window or grid.window_of_all
    if area.width < 2 and area.height < 2:
        warnings.warn(
            f"the grid is {area.width} x {area.height} pixel: check the scale's unit (metres for a projected CRS, "
            "degrees for EPSG:4326) and that the bbox is in the CRS's units",
            GridWarning,
            stacklevel=4,
        )
        return
    if footprint is not None and window is None:
        sx, shx, tx, shy, sy, ty = grid.transform
        xs = [tx, tx + sx * grid.width, tx + shx * grid.height, tx + sx * grid.width + shx * grid.height]
        ys = [ty, ty + shy * grid.width + sy * grid.height, ty + sy * grid.height, ty + shy * grid.width]
        if _regions.outside_footprint(grid.crs, (min(xs), min(ys), max(xs), max(ys)), footprint):
            warnings.warn(
                f"the grid ({grid.width} x {grid.height} pixels in {grid.crs}) lies outside the asset's footprint: "
                "every pixel will be masked; check the bbox and its CRS",
                GridWarning,
                stacklevel=4,
            )


def prepare(
    source: Source,
    *,
    grid: Any,
    band_ids: Sequence[str] | None,
    band_dtypes: Sequence[DTypeLike] | None,
    window: Window | None,
    max_tile_bytes: int | None,
    block_size: int,
    fill_value: FillValue | Mapping[str, FillValue] | None = None,
    mask: bool = False,
) -> Generator[Fetch | Probe, Any, AreaJob]:
    """Decide the bands, their types and the tiles; yields what it must fetch."""
    if not isinstance(mask, bool):
        raise InvalidRequestError(f"mask must be True or False, not {mask!r}")
    if band_ids is not None:
        if isinstance(band_ids, str) or not isinstance(band_ids, Sequence) or not band_ids:
            raise InvalidRequestError(f"band_ids must be a non-empty list of band ids, not {band_ids!r}")
        band_ids = [str(b) for b in band_ids]
    dtypes: list[np.dtype[Any]] | None = None
    if band_dtypes is not None:
        if isinstance(band_dtypes, (str, bytes)) or not isinstance(band_dtypes, Sequence):
            raise InvalidRequestError(f"band_dtypes must be a list with one dtype per band, not {band_dtypes!r}")
        dtypes = [limits.pixel_dtype(d).newbyteorder("<") for d in band_dtypes]
        if band_ids is not None and len(dtypes) != len(band_ids):
            raise InvalidRequestError(f"band_dtypes has {len(dtypes)} entries but band_ids {len(band_ids)}")
    names: list[str] | None = list(band_ids) if band_ids is not None else None

    footprint = None
    if source.asset is not None and (grid is None or dtypes is None or names is None):
        asset = yield Fetch("projects.assets.get", {"name": source.asset})
        footprint = getattr(asset, "geometry", None)
        bands = _asset_bands(asset, band_ids, source.asset)
        if names is None:
            names = [b.id for b in bands]
        if grid is None:
            first = bands[0].grid if bands[0] is not None else None
            if first is None:
                raise InvalidRequestError(f"the asset {source.asset} has no grid for its bands; pass grid=")
            grid = first
        if dtypes is None and all(b is not None for b in bands):
            found = [band_dtype(b) for b in bands]
            if all(d is not None for d in found):
                dtypes = [d.newbyteorder("<") for d in found]  # type: ignore[union-attr]
    if grid is None:
        raise InvalidRequestError(
            "grid= is required for an expression: PixelGrid.from_bbox(crs, scale, bbox) makes one"
        )
    pixel_grid = PixelGrid.from_api(grid)
    _warn_if_unlikely(pixel_grid, window, footprint)

    exact: np.dtype[Any] | None = None
    if dtypes is None or names is None:
        # One 1x1-pixel request tells the bands and their types, as the server sends them.
        origin = pixel_grid.window(Window(0, 0, 1, 1))
        groups = (
            [None]
            if names is None
            else [tuple(names[i : i + limits.MAX_BANDS]) for i in range(0, len(names), limits.MAX_BANDS)]
        )
        found_dtypes: list[np.dtype[Any]] = []
        for group in groups:
            header: np.dtype[Any] = yield Probe(source, origin, group)
            if not header.names:
                raise InvalidRequestError(f"the server's NPY answer has no band fields (dtype {header})")
            found_dtypes.append(header)
        exact = found_dtypes[0] if len(found_dtypes) == 1 else None
        names = [n for d in found_dtypes for n in (d.names or ())]
        probed = [d.fields[n][0] for d in found_dtypes for n in (d.names or ())]  # type: ignore[index]
        if dtypes is not None and len(dtypes) != len(names):
            raise InvalidRequestError(f"band_dtypes has {len(dtypes)} entries but the image has {len(names)} bands")
        if dtypes is None:
            dtypes = probed
        else:
            exact = None
    assert names is not None and dtypes is not None
    fills: dict[str, FillValue] | None = None
    data_bands: int | None = None
    if fill_value is not None or mask:
        # One computePixels expression: the bands, masked pixels filled on the server, and
        # with mask=True one validity band per band, in the same requests.
        if fill_value is not None:
            fills = band_fill_values(names, dtypes, fill_value)
        image = source.body["expression"] if source.asset is None else load("Image.load", source.asset)
        mask_ids = _mask_ids(names) if mask else None
        expression = masked_expression(image, names, None if fills is None else [fills[n] for n in names], mask_ids)
        rest = {k: v for k, v in source.body.items() if k != "expression"}
        source = Source(COMPUTE_PIXELS, {"project": None}, {"expression": expression, **rest})
        exact = None
        if mask_ids is not None:
            data_bands = len(names)
            names = [*names, *mask_ids]
            dtypes = [*dtypes, *[np.dtype(np.uint8)] * len(mask_ids)]
    plan = plan_tiles(
        pixel_grid,
        dtypes,
        max_tile_bytes=DEFAULT_MAX_TILE_BYTES if max_tile_bytes is None else max_tile_bytes,
        block_size=block_size,
        window=window,
    )
    dtype = structured_dtype(names, dtypes)
    tile_dtypes = {}
    if exact is not None:
        dtype = exact  # exactly as the server sends it (byte order, offsets, padding)
        tile_dtypes = {tuple(range(len(names))): exact}
    return AreaJob(source, plan, dtype, tile_dtypes, fills, data_bands)


def _mask_ids(names: Sequence[str]) -> list[str]:
    """Names for the validity bands that clash with no band."""
    prefix = "eerest_valid_"
    while any(n.startswith(prefix) for n in names):
        prefix = "_" + prefix
    return [f"{prefix}{i}" for i in range(len(names))]
