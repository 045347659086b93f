"""What a pixel request asks for (grid size, bands, their types) and the limit checks on
it: pure functions of the validated request and, for getPixels, the asset's metadata."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from eerest import limits
from eerest._core.sizes import BodyLimits
from eerest._formats.npy import MAX_HEADER_BYTES, DecodeProblem, NpyHeader
from eerest.errors import InvalidRequestError

__all__ = [
    "Demand",
    "compute_pixels_demand",
    "get_pixels_demand",
    "needs_asset",
    "check_demand",
    "body_limits",
    "check_npy_answer",
    "npy_size",
    "band_dtype",
    "MAX_PIXEL_BODY",
]


@dataclass(frozen=True)
class Demand:
    """What a request needs; ``None`` where it cannot be known before sending."""

    width: int | None
    height: int | None
    band_count: int | None
    dtypes: tuple[np.dtype[Any], ...] | None


def _grid_size(grid: Any) -> tuple[int | None, int | None]:
    dims = getattr(grid, "dimensions", None)
    if dims is None:
        return None, None
    return dims.width, dims.height


def _band_dtypes(band_dtypes: Sequence[DTypeLike] | None) -> tuple[np.dtype[Any], ...] | None:
    if band_dtypes is None:
        return None
    if isinstance(band_dtypes, (str, bytes)) or not isinstance(band_dtypes, Sequence):
        raise InvalidRequestError(f"band_dtypes must be a sequence with one dtype per band, not {band_dtypes!r}")
    return tuple(limits.pixel_dtype(d) for d in band_dtypes)


def compute_pixels_demand(request: Any, band_dtypes: Sequence[DTypeLike] | None) -> Demand:
    """computePixels: the grid from ``grid.dimensions``, the types from ``band_dtypes=``."""
    dtypes = _band_dtypes(band_dtypes)
    band_ids = request.band_ids
    if band_ids and dtypes is not None and len(band_ids) != len(dtypes):
        raise InvalidRequestError(
            f"band_dtypes has {len(dtypes)} entries but band_ids {len(band_ids)}; give one dtype per requested band"
        )
    count = len(band_ids) if band_ids else (len(dtypes) if dtypes is not None else None)
    return Demand(*_grid_size(request.grid), count, dtypes)


def needs_asset(request: Any) -> bool:
    """Whether the asset's metadata can change what getPixels checks: the grid size is
    known (from the request, or the native grid when neither grid nor region is given), or
    visualization options need the band count. Otherwise no assets.get is spent."""
    width, height = _grid_size(request.grid)
    if width is not None and height is not None:
        return True
    if request.grid is None and request.region is None:
        return True
    vis = request.visualization_options
    return bool(vis is not None and not request.band_ids and (vis.palette_colors or vis.ranges))


def get_pixels_demand(request: Any, asset: Any) -> Demand:
    """getPixels: the bands (and their types) from the asset (``None``: not fetched); the
    grid from the request, or the first band's native grid when it gives neither grid nor region."""
    bands = list(getattr(asset, "bands", None) or [])
    band_ids = request.band_ids
    if band_ids:
        by_id = {b.id: b for b in bands}
        chosen = [by_id.get(i) for i in band_ids]
        count: int | None = len(band_ids)
    else:
        chosen = list(bands)
        count = len(bands) if bands else None
    dtypes: tuple[np.dtype[Any], ...] | None = None
    if chosen and all(b is not None for b in chosen):
        found = [band_dtype(b) for b in chosen]
        if all(d is not None for d in found):
            dtypes = tuple(found)  # type: ignore[arg-type]
    width, height = _grid_size(request.grid)
    if request.grid is None and request.region is None and chosen and chosen[0] is not None:
        width, height = _grid_size(chosen[0].grid)
    return Demand(width, height, count, dtypes)


def band_dtype(band: Any) -> np.dtype[Any] | None:
    data_type = band.data_type
    if data_type is None or data_type.precision is None or (data_type.dimensions_count or 0) > 0:
        return None  # array-valued bands: their size per pixel is not known
    rng = data_type.range
    return limits.dtype_for_pixel_type(
        data_type.precision, getattr(rng, "min", None), getattr(rng, "max", None)
    )


def check_demand(method: str, request: Any, demand: Demand) -> None:
    """Every check that can be made: file format, band count, grid dimensions,
    visualization options, and the byte size when the band types are known."""
    limits.check_file_format(request.file_format, method)
    if demand.band_count is not None:
        limits.check_band_count(demand.band_count)
    limits.check_grid_dimensions(demand.width, demand.height, demand.dtypes)
    limits.check_visualization(request.visualization_options, demand.band_count)
    if demand.dtypes is not None and demand.width is not None and demand.height is not None:
        limits.check_request_bytes(demand.width, demand.height, demand.dtypes)


#: The largest pixel body a request can produce when its band types are unknown: the
#: service's 48 MiB request limit (which counts a mask byte per value) plus room for the
#: file format's own headers.
MAX_PIXEL_BODY = limits.MAX_REQUEST_BYTES + (16 << 20)
_NPY_HEADER_ROOM = 64 << 10


def _format(request: Any) -> str | None:
    value = getattr(request, "file_format", None)
    return None if value is None else str(getattr(value, "value", value))


def body_limits(request: Any, demand: Demand) -> BodyLimits:
    """How large the answer to a pixel request can legitimately be: for NPY with a known
    grid and band types, the data plus a header (exact when band names are known too);
    otherwise the service's own limit."""
    if (
        _format(request) == "NPY"
        and request.visualization_options is None
        and demand.dtypes is not None
        and demand.width is not None
        and demand.height is not None
    ):
        data = demand.width * demand.height * sum(d.itemsize for d in demand.dtypes)
        names = request.band_ids
        if names and len(names) == len(demand.dtypes):
            exact = npy_size((demand.height, demand.width), np.dtype(list(zip(names, demand.dtypes, strict=True))))
            return BodyLimits(cap=exact, trusted=exact)
        return BodyLimits(cap=data + MAX_HEADER_BYTES, trusted=data + _NPY_HEADER_ROOM)
    return BodyLimits(cap=MAX_PIXEL_BODY, trusted=MAX_PIXEL_BODY)


def npy_size(shape: tuple[int, ...], dtype: np.dtype[Any]) -> int:
    """The size of the .npy file ``numpy.save`` writes for this shape and dtype."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    out = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(out, header)
    except ValueError:  # too long for format 1.0: numpy.save writes 2.0
        out = io.BytesIO()
        np.lib.format.write_array_header_2_0(out, header)
    return out.tell() + math.prod(shape) * dtype.itemsize


def check_npy_answer(request: Any, demand: Demand, head: NpyHeader) -> None:
    """Raise :class:`DecodeProblem` naming how an NPY body differs from what was asked for:
    its grid shape, its bands (names, count) and their types, where the request knows them."""
    names = head.dtype.names
    width, height = demand.width, demand.height
    if width is not None and height is not None and head.shape[:2] != (height, width):
        raise DecodeProblem(
            f"the body's array has shape {head.shape} but the request's grid is {width} x {height} "
            f"(expected shape ({height}, {width}))"
        )
    if request.visualization_options is not None:
        return  # visualised NPY holds 8-bit RGB bands, whatever was requested
    count = len(names) if names else math.prod(head.shape[2:])
    if demand.band_count is not None and count != demand.band_count:
        raise DecodeProblem(f"the body holds {count} band(s) but the request asks for {demand.band_count}")
    if names and request.band_ids and list(names) != list(request.band_ids):
        raise DecodeProblem(f"the body's bands are {list(names)} but the request asks for {list(request.band_ids)}")
    if demand.dtypes is not None and names:
        got = [head.dtype.fields[n][0] for n in names]  # type: ignore[index]
        for name, have, want in zip(names, got, demand.dtypes, strict=False):
            if have.newbyteorder("=") != want.newbyteorder("="):
                raise DecodeProblem(f"band {name!r} is {have} in the body but the request expects {want}")
