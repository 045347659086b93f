"""Pixel grids (crs + affine transform + dimensions) and nearest-neighbour resampling between them.

The emulator resamples only within one CRS and only between grids without shear or
rotation (any scale, any translation, flips included); anything else is a 400 that says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ._errors import invalid_argument

__all__ = ["Grid", "resolve_grid", "resample", "same_crs"]

_GEOGRAPHIC = {"EPSG:4326", "EPSG:4269", "EPSG:4258", "EPSG:4267", "EPSG:4979"}


@dataclass(frozen=True)
class Grid:
    """A PixelGrid. `crs` is a crsCode such as "EPSG:32633" (None: any CRS, e.g. a constant)."""

    crs: str | None
    scale_x: float = 1.0
    shear_x: float = 0.0
    translate_x: float = 0.0
    shear_y: float = 0.0
    scale_y: float = -1.0
    translate_y: float = 0.0
    width: int | None = None
    height: int | None = None
    crs_wkt: str | None = None

    @classmethod
    def from_json(cls, d: dict) -> Grid:
        """Parse a PixelGrid JSON object; missing parts stay at defaults (see `resolve_grid`)."""
        at = d.get("affineTransform") or {}
        dims = d.get("dimensions") or {}
        return cls(
            crs=_norm_crs(d.get("crsCode")),
            crs_wkt=d.get("crsWkt"),
            scale_x=float(at.get("scaleX", 1.0)),
            shear_x=float(at.get("shearX", 0.0)),
            translate_x=float(at.get("translateX", 0.0)),
            shear_y=float(at.get("shearY", 0.0)),
            scale_y=float(at.get("scaleY", -1.0)),
            translate_y=float(at.get("translateY", 0.0)),
            width=int(dims["width"]) if "width" in dims else None,
            height=int(dims["height"]) if "height" in dims else None,
        )

    def to_json(self) -> dict:
        out: dict = {}
        if self.crs:
            out["crsCode"] = self.crs
        elif self.crs_wkt:
            out["crsWkt"] = self.crs_wkt
        out["affineTransform"] = {
            "scaleX": self.scale_x,
            "shearX": self.shear_x,
            "translateX": self.translate_x,
            "shearY": self.shear_y,
            "scaleY": self.scale_y,
            "translateY": self.translate_y,
        }
        if self.width is not None and self.height is not None:
            out["dimensions"] = {"width": self.width, "height": self.height}
        return out

    @property
    def is_geographic(self) -> bool:
        return (self.crs or "") in _GEOGRAPHIC

    @property
    def epsg(self) -> int | None:
        if self.crs and self.crs.upper().startswith("EPSG:"):
            try:
                return int(self.crs.split(":", 1)[1])
            except ValueError:
                return None
        return None

    @property
    def has_shear(self) -> bool:
        return self.shear_x != 0.0 or self.shear_y != 0.0

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in CRS units of a grid with dimensions and no shear."""
        x0 = self.translate_x
        x1 = self.translate_x + self.scale_x * (self.width or 0)
        y0 = self.translate_y
        y1 = self.translate_y + self.scale_y * (self.height or 0)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _norm_crs(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip()
    if ":" in code:
        auth, num = code.split(":", 1)
        return f"{auth.upper()}:{num}"
    return code


def same_crs(a: str | None, b: str | None) -> bool:
    return a is None or b is None or _norm_crs(a) == _norm_crs(b)


def resolve_grid(requested: dict | None, native: Grid | None, *, what: str = "image") -> Grid:
    """Complete a requested (possibly partial) PixelGrid against the image's native grid.

    - no grid: the native grid;
    - no crsCode: the native CRS; no affineTransform: the native one, rescaled so that the
      native extent fills the requested dimensions; no dimensions: enough pixels to cover
      the native extent.
    """
    if not requested:
        if native is None or native.width is None:
            raise invalid_argument(
                f"The {what} has no bounded native grid: specify grid.dimensions and "
                "grid.affineTransform."
            )
        return native
    g = Grid.from_json(requested)
    has_at = bool(requested.get("affineTransform"))
    has_dims = bool(requested.get("dimensions"))
    if g.crs is None and g.crs_wkt is None and native is not None:
        g = replace(g, crs=native.crs, crs_wkt=native.crs_wkt)
    if not has_at:
        if native is None:
            if not has_dims:
                raise invalid_argument("grid.affineTransform is required for an unbounded image.")
        else:
            g = replace(
                g,
                scale_x=native.scale_x,
                shear_x=native.shear_x,
                translate_x=native.translate_x,
                shear_y=native.shear_y,
                scale_y=native.scale_y,
                translate_y=native.translate_y,
            )
            if has_dims and native.width:
                g = replace(
                    g,
                    scale_x=native.scale_x * native.width / g.width,  # type: ignore[operator]
                    scale_y=native.scale_y * native.height / g.height,  # type: ignore[operator]
                )
    if not has_dims:
        if native is None or native.width is None:
            raise invalid_argument("grid.dimensions is required for an unbounded image.")
        if not has_at:
            g = replace(g, width=native.width, height=native.height)
        else:
            xmin, ymin, xmax, ymax = native.bounds()
            # Cover the native extent, starting at the requested origin.
            w = _cover(g.translate_x, g.scale_x, xmin, xmax)
            h = _cover(g.translate_y, g.scale_y, ymin, ymax)
            g = replace(g, width=w, height=h)
    if g.width is None or g.height is None or g.width <= 0 or g.height <= 0:
        raise invalid_argument("grid.dimensions must be positive.")
    return g


def _cover(origin: float, scale: float, lo: float, hi: float) -> int:
    far = hi if scale > 0 else lo
    n = math.ceil(round((far - origin) / scale, 9))
    return max(n, 1)


def source_indices(target: Grid, source: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices into `source` of the nearest neighbour of each target pixel centre.

    Indices outside the source are -1. Raises a 400 for what the emulator cannot resample.
    """
    if not same_crs(target.crs, source.crs):
        raise invalid_argument(
            f"The eerest emulator cannot reproject: the requested grid is in {target.crs} but "
            f"the data is in {source.crs}. Request a grid in {source.crs}."
        )
    if target.has_shear or source.has_shear:
        raise invalid_argument(
            "The eerest emulator can only resample between grids without shear or rotation "
            "(shearX and shearY must be 0)."
        )
    assert target.width is not None and target.height is not None
    u = np.arange(target.width, dtype=np.float64) + 0.5
    v = np.arange(target.height, dtype=np.float64) + 0.5
    x = target.translate_x + target.scale_x * u
    y = target.translate_y + target.scale_y * v
    cols = np.floor((x - source.translate_x) / source.scale_x + 1e-9).astype(np.int64)
    rows = np.floor((y - source.translate_y) / source.scale_y + 1e-9).astype(np.int64)
    cols[(cols < 0) | (cols >= (source.width or 0))] = -1
    rows[(rows < 0) | (rows >= (source.height or 0))] = -1
    return rows, cols


def resample(
    data: np.ndarray, valid: np.ndarray | None, source: Grid, target: Grid
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour resample a 2-D array (and its validity mask) from `source` to `target`.

    Pixels outside the source are invalid and hold 0.
    """
    if (
        target.width == source.width
        and target.height == source.height
        and same_crs(target.crs, source.crs)
        and (target.scale_x, target.shear_x, target.translate_x, target.shear_y, target.scale_y, target.translate_y)
        == (source.scale_x, source.shear_x, source.translate_x, source.shear_y, source.scale_y, source.translate_y)
    ):
        if valid is None:
            valid = np.ones(data.shape, dtype=bool)
        return data, valid
    rows, cols = source_indices(target, source)
    r = np.where(rows < 0, 0, rows)
    c = np.where(cols < 0, 0, cols)
    out = data[np.ix_(r, c)]
    inside = (rows >= 0)[:, None] & (cols >= 0)[None, :]
    ok = inside if valid is None else inside & valid[np.ix_(r, c)]
    if not inside.all():
        out = np.where(inside, out, np.zeros((), dtype=out.dtype))
    return out, ok
