"""Coordinates between pixel grids in any CRS pyproj knows, and nearest/bilinear sampling along them.

Earth Engine computes each output pixel at its centre in the requested projection; so does
the emulator: the centre of every target pixel is carried into the source CRS (pyproj, axis
order x/y), then into source pixel space by the inverse of the source's affine transform.
Between grids in one CRS without shear the mapping is separable and stays 1-D (cheap).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from ._errors import invalid_argument

if TYPE_CHECKING:
    from pyproj import CRS, Transformer

    from ._grid import Grid

__all__ = ["MODES", "check_crs", "pyproj_crs", "sample", "source_coords", "transform_points"]

#: Sampling modes of `Image.resample` (and "nearest", the default of every image).
MODES = ("nearest", "bilinear", "bicubic")


@functools.lru_cache(maxsize=128)
def pyproj_crs(code: str) -> CRS:
    try:
        from pyproj import CRS
        from pyproj.exceptions import CRSError
    except ImportError:  # pragma: no cover - pyproj is a dependency of the emulator
        raise invalid_argument("The eerest emulator needs pyproj to reproject: pip install pyproj.") from None
    try:
        return CRS.from_user_input(code)
    except CRSError:
        raise invalid_argument(f"Invalid or unknown coordinate reference system '{code}'.") from None


def check_crs(code: str) -> None:
    """A 400 naming `code` when pyproj does not know it."""
    pyproj_crs(code)


@functools.lru_cache(maxsize=128)
def _transformer(src: str, dst: str) -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs(pyproj_crs(src), pyproj_crs(dst), always_xy=True)


def transform_points(x: np.ndarray, y: np.ndarray, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (x, y) in CRS `src` as coordinates in `dst` (inf where undefined)."""
    if src == dst:
        return x, y
    xx, yy = _transformer(src, dst).transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(xx, dtype=np.float64), np.asarray(yy, dtype=np.float64)


def _crs_key(g: Grid) -> str:
    code = g.crs or g.crs_wkt
    if not code:
        raise invalid_argument("A pixel grid needs crsCode or crsWkt to be resampled.")
    return code


def source_coords(target: Grid, source: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Continuous (column, row) in `source` pixel space of each `target` pixel centre.

    1-D arrays (columns of width W, rows of height H) when the mapping is separable, else
    2-D (H, W) arrays; NaN where the centre has no position in the source CRS. Read-only:
    the bands of one asset share them (a CRS transform per output grid, not per band).
    """
    if (target.width or 0) * (target.height or 0) > _CACHED_PIXELS:
        return _compute_source_coords(target, source)  # too big to keep around
    return _source_coords(target, source)


#: Output grids up to this many pixels have their coordinates cached (2 x 8 bytes a pixel, 16 grids).
_CACHED_PIXELS = 1 << 21


@functools.lru_cache(maxsize=16)
def _source_coords(target: Grid, source: Grid) -> tuple[np.ndarray, np.ndarray]:
    col, row = _compute_source_coords(target, source)
    col.setflags(write=False)
    row.setflags(write=False)
    return col, row


def _compute_source_coords(target: Grid, source: Grid) -> tuple[np.ndarray, np.ndarray]:
    assert target.width is not None and target.height is not None
    u = np.arange(target.width, dtype=np.float64) + 0.5
    v = np.arange(target.height, dtype=np.float64) + 0.5
    t_code, s_code = target.crs or target.crs_wkt, source.crs or source.crs_wkt
    same = t_code is None or s_code is None or t_code == s_code
    if same and not target.has_shear and not source.has_shear:
        x = target.translate_x + target.scale_x * u
        y = target.translate_y + target.scale_y * v
        return (x - source.translate_x) / source.scale_x, (y - source.translate_y) / source.scale_y
    uu, vv = np.meshgrid(u, v)
    x = target.translate_x + target.scale_x * uu + target.shear_x * vv
    y = target.translate_y + target.shear_y * uu + target.scale_y * vv
    if not same:
        x, y = transform_points(x, y, _crs_key(target), _crs_key(source))
    det = source.scale_x * source.scale_y - source.shear_x * source.shear_y
    if det == 0:
        raise invalid_argument("The source pixel grid's affine transform is not invertible.")
    dx, dy = x - source.translate_x, y - source.translate_y
    with np.errstate(invalid="ignore"):
        col = (source.scale_y * dx - source.shear_x * dy) / det
        row = (-source.shear_y * dx + source.scale_x * dy) / det
    bad = ~(np.isfinite(col) & np.isfinite(row))
    col[bad] = np.nan
    row[bad] = np.nan
    return col, row


def _nearest_index(coord: np.ndarray, size: int) -> np.ndarray:
    """Index of the pixel containing `coord`, or -1 outside [0, size)."""
    with np.errstate(invalid="ignore"):
        i = np.floor(np.nan_to_num(coord, nan=-1.0) + 1e-9).astype(np.int64)
    i[(i < 0) | (i >= size)] = -1
    return i


def sample(
    data: np.ndarray, valid: np.ndarray | None, col: np.ndarray, row: np.ndarray, mode: str = "nearest"
) -> tuple[np.ndarray, np.ndarray]:
    """Values and validity of `data` at continuous source coordinates (see `source_coords`).

    Outside the source: invalid, 0. Bilinear uses the 4 nearest pixel centres where all of
    them are valid and inside, and the nearest pixel elsewhere (edges, next to masked pixels).
    """
    h, w = data.shape
    separable = col.ndim == 1
    ci, ri = _nearest_index(col, w), _nearest_index(row, h)
    if separable:
        rr, cc = np.ix_(np.maximum(ri, 0), np.maximum(ci, 0))
        inside = (ri >= 0)[:, None] & (ci >= 0)[None, :]
    else:
        rr, cc = np.maximum(ri, 0), np.maximum(ci, 0)
        inside = (ri >= 0) & (ci >= 0)
    out = data[rr, cc]
    ok = inside if valid is None else inside & valid[rr, cc]
    if mode != "nearest" and w > 1 and h > 1:
        out, ok = _bilinear(data, valid, col, row, out, ok, separable)
    if not inside.all():
        out = np.where(inside, out, np.zeros((), dtype=out.dtype))
    return out, ok


def _bilinear(
    data: np.ndarray,
    valid: np.ndarray | None,
    col: np.ndarray,
    row: np.ndarray,
    nearest: np.ndarray,
    nearest_ok: np.ndarray,
    separable: bool,
) -> tuple[np.ndarray, np.ndarray]:
    h, w = data.shape
    fc, fr = np.nan_to_num(col, nan=-10.0) - 0.5, np.nan_to_num(row, nan=-10.0) - 0.5
    c0, r0 = np.floor(fc).astype(np.int64), np.floor(fr).astype(np.int64)
    tx, ty = fc - c0, fr - r0
    if separable:
        c0, tx = c0[None, :], tx[None, :]
        r0, ty = r0[:, None], ty[:, None]
    c0b, r0b = np.broadcast_arrays(c0, r0)
    full = (c0b >= 0) & (c0b + 1 < w) & (r0b >= 0) & (r0b + 1 < h)
    c0c, r0c = np.clip(c0b, 0, w - 2), np.clip(r0b, 0, h - 2)
    v00, v01 = data[r0c, c0c].astype(np.float64), data[r0c, c0c + 1].astype(np.float64)
    v10, v11 = data[r0c + 1, c0c].astype(np.float64), data[r0c + 1, c0c + 1].astype(np.float64)
    if valid is not None:
        full &= valid[r0c, c0c] & valid[r0c, c0c + 1] & valid[r0c + 1, c0c] & valid[r0c + 1, c0c + 1]
    top = v00 * (1 - tx) + v01 * tx
    bottom = v10 * (1 - tx) + v11 * tx
    interp = top * (1 - ty) + bottom * ty
    out = np.where(full, interp, nearest.astype(np.float64))
    return out, nearest_ok | full
