"""Pixel grids (crs + affine transform + dimensions), completing partial grids, and resampling between them.

Any CRS pyproj knows and any invertible affine transform (scales, translations, flips, shear);
see `_reproject` for the coordinate arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ._errors import invalid_argument
from ._reproject import check_crs, pyproj_crs, sample, source_coords, transform_points

__all__ = ["Grid", "bounds_in", "resolve_grid", "resample", "same_crs", "check_finite"]

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
        """Parse a PixelGrid JSON object; missing parts stay at defaults (see `resolve_grid`).
        A 400 unless every number is finite, the scales non-zero and the dimensions integers."""
        try:
            grid = cls._from_json(d)
        except (ValueError, TypeError, AttributeError, OverflowError) as e:
            raise invalid_argument(f"Invalid grid: {e}.") from None
        check_finite(grid)
        return grid

    @classmethod
    def _from_json(cls, d: dict) -> Grid:
        at = d.get("affineTransform") or {}
        dims = d.get("dimensions") or {}
        for key in ("width", "height"):
            if key in dims and (isinstance(dims[key], bool) or not isinstance(dims[key], (int, str))):
                raise ValueError(f"dimensions.{key} must be an integer")
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
        code = self.crs or self.crs_wkt
        if not code:
            return False
        if code in _GEOGRAPHIC:
            return True
        return bool(pyproj_crs(code).is_geographic)

    @property
    def epsg(self) -> int | None:
        """The EPSG code of this grid's CRS (also for a WKT CRS that has one), or None."""
        if self.crs and self.crs.upper().startswith("EPSG:"):
            try:
                return int(self.crs.split(":", 1)[1])
            except ValueError:
                return None
        code = self.crs or self.crs_wkt
        return pyproj_crs(code).to_epsg() if code else None

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of a grid with dimensions."""
        if self.width is None or self.height is None:
            raise ValueError("grid without dimensions")
        return self.height, self.width

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


def check_finite(g: Grid) -> None:
    """A 400 for a grid the emulator cannot compute with: NaN/Infinity, zero scales."""
    numbers = (g.scale_x, g.shear_x, g.translate_x, g.shear_y, g.scale_y, g.translate_y)
    if not all(math.isfinite(v) for v in numbers):
        raise invalid_argument("grid.affineTransform values must be finite numbers (no NaN or Infinity).")
    if g.scale_x == 0 or g.scale_y == 0:
        raise invalid_argument("grid.affineTransform scaleX and scaleY must not be zero.")


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
    - no crsCode: the native CRS; no affineTransform: the native one (in another CRS: north-up
      pixels covering the native extent), rescaled so that the native extent fills the
      requested dimensions; no dimensions: enough pixels to cover the native extent.
    """
    if not requested:
        if native is None or native.width is None:
            raise invalid_argument(
                f"The {what} has no bounded native grid: specify grid.dimensions and "
                "grid.affineTransform."
            )
        return native
    if _zero_dimensions(requested.get("dimensions")):
        # proto3: a zero int32 is the same as an absent one on the wire, so dimensions of
        # 0 x 0 are no dimensions (Xee asks for such a grid and gets the covering one)
        requested = {k: v for k, v in requested.items() if k != "dimensions"}
    g = Grid.from_json(requested)
    has_at = bool(requested.get("affineTransform"))
    has_dims = bool(requested.get("dimensions"))
    if g.crs is None and g.crs_wkt is None and native is not None:
        g = replace(g, crs=native.crs, crs_wkt=native.crs_wkt)
    if g.crs or g.crs_wkt:
        check_crs(g.crs or g.crs_wkt)  # type: ignore[arg-type]
    if native is not None and native.width is not None and not same_crs(g.crs or g.crs_wkt, native.crs or native.crs_wkt):
        return _resolve_across_crs(g, native, has_at, has_dims)
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
    return _checked(g)


def _zero_dimensions(dims: object) -> bool:
    """Whether a GridDimensions JSON object holds only zeros (0 or "0"), proto3's unset."""
    if not isinstance(dims, dict) or not dims or set(dims) - {"width", "height"}:
        return False
    return all(not isinstance(v, bool) and isinstance(v, (int, str)) and str(v).strip() == "0" for v in dims.values())


def _checked(g: Grid) -> Grid:
    if g.width is None or g.height is None or g.width <= 0 or g.height <= 0:
        raise invalid_argument("grid.dimensions must be positive.")
    check_finite(g)
    return g


def _resolve_across_crs(g: Grid, native: Grid, has_at: bool, has_dims: bool) -> Grid:
    """A partial grid in another CRS than the (bounded) native grid: cover the native extent."""
    xmin, ymin, xmax, ymax = bounds_in(native, g.crs or g.crs_wkt)  # type: ignore[arg-type]
    if not has_at:
        if has_dims:
            sx, sy = (xmax - xmin) / g.width, (ymax - ymin) / g.height  # type: ignore[operator]
        else:
            s = max((xmax - xmin) / native.width, (ymax - ymin) / native.height)  # type: ignore[operator]
            sx = sy = s
        g = replace(g, scale_x=sx, shear_x=0.0, translate_x=xmin, shear_y=0.0, scale_y=-sy, translate_y=ymax)
    if not has_dims:
        g = replace(
            g,
            width=_cover(g.translate_x, g.scale_x, xmin, xmax),
            height=_cover(g.translate_y, g.scale_y, ymin, ymax),
        )
    return _checked(g)


def bounds_in(grid: Grid, crs: str) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) in `crs` of a bounded grid's extent (its edges, densified)."""
    assert grid.width is not None and grid.height is not None
    t = np.linspace(0.0, 1.0, 21)
    u = np.concatenate([t, np.ones_like(t), t[::-1], np.zeros_like(t)]) * grid.width
    v = np.concatenate([np.zeros_like(t), t, np.ones_like(t), t[::-1]]) * grid.height
    x = grid.translate_x + grid.scale_x * u + grid.shear_x * v
    y = grid.translate_y + grid.shear_y * u + grid.scale_y * v
    src = grid.crs or grid.crs_wkt
    if src and not same_crs(src, crs):
        x, y = transform_points(x, y, src, crs)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise invalid_argument(f"The image's extent has no position in {crs}.")
    return float(x[ok].min()), float(y[ok].min()), float(x[ok].max()), float(y[ok].max())


def _cover(origin: float, scale: float, lo: float, hi: float) -> int:
    far = hi if scale > 0 else lo
    n = round((far - origin) / scale, 9)
    if not math.isfinite(n):
        raise invalid_argument("The requested grid cannot cover the image: its scale is too small.")
    return max(math.ceil(n), 1)


def resample(
    data: np.ndarray, valid: np.ndarray | None, source: Grid, target: Grid, mode: str = "nearest"
) -> tuple[np.ndarray, np.ndarray]:
    """Resample a 2-D array (and its validity mask) from `source` to `target` (any CRS, any
    affine transform), by nearest neighbour or bilinear interpolation.

    Pixels outside the source are invalid and hold 0.
    """
    if (
        target.width == source.width
        and target.height == source.height
        and same_crs(target.crs or target.crs_wkt, source.crs or source.crs_wkt)
        and (target.scale_x, target.shear_x, target.translate_x, target.shear_y, target.scale_y, target.translate_y)
        == (source.scale_x, source.shear_x, source.translate_x, source.shear_y, source.scale_y, source.translate_y)
    ):
        if valid is None:
            valid = np.ones(data.shape, dtype=bool)
        return data, valid
    col, row = source_coords(target, source)
    return sample(data, valid, col, row, mode)
