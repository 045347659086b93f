"""The lazy image model the expression evaluator builds: bands that render into any grid on demand.

An `Image` is a list of `Band`s plus properties; a band knows its type, its native grid
(None for unbounded bands such as constants) and how to render itself into a target grid
as (values, valid-mask) arrays. Rendering is nearest-neighbour, pixel-by-pixel in the
output grid, as Earth Engine computes in the requested projection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._grid import Grid
from ._pixeltype import PixelType

__all__ = ["Band", "Image", "ImageCollection", "Rendered"]

Rendered = tuple[np.ndarray, np.ndarray]  # values (H, W), valid mask (H, W) bool


@dataclass(eq=False)
class Band:
    """One band: name, type, native grid and a renderer `(Grid) -> (values, valid)`."""

    name: str
    ptype: PixelType
    grid: Grid | None
    renderer: Callable[[Grid], Rendered]
    extra: dict = field(default_factory=dict)  # ImageBand fields kept from an asset (pyramidingPolicy...)
    _memo: tuple[Grid, Rendered] | None = field(default=None, repr=False)

    def render(self, grid: Grid) -> Rendered:
        """Values and validity of this band in `grid`; memoised for the last grid asked for."""
        memo = self._memo
        if memo is not None and memo[0] == grid:
            return memo[1]
        out = self.renderer(grid)
        self._memo = (grid, out)
        return out

    def footprint(self, grid: Grid) -> np.ndarray | bool:
        """Where `grid`'s pixels fall inside this band's native grid (everywhere, True, for a
        band without one, such as a constant)."""
        if self.grid is None or self.grid.width is None or self.grid.height is None:
            return True
        from ._grid import resample

        return resample(np.broadcast_to(True, (self.grid.height, self.grid.width)), None, self.grid, grid)[1]

    def renamed(self, name: str) -> Band:
        return Band(name, self.ptype, self.grid, self.render, dict(self.extra))

    def to_json(self) -> dict:
        """The ImageBand JSON object of this band."""
        out: dict[str, Any] = {"id": self.name, "dataType": self.ptype.to_json()}
        if self.grid is not None:
            out["grid"] = self.grid.to_json()
        else:
            out["grid"] = {"crsCode": "EPSG:4326", "affineTransform": {"scaleX": 1, "scaleY": 1}}
        for k, v in self.extra.items():
            if not k.startswith("_"):  # "_"-keys are the emulator's own (e.g. "_projection")
                out.setdefault(k, v)
        return out


@dataclass(eq=False)
class Image:
    """An image: bands, properties (including `system:time_start` in ms) and asset metadata."""

    bands: list[Band]
    properties: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # EarthEngineAsset fields: name, id, startTime, geometry...

    @property
    def band_names(self) -> list[str]:
        return [b.name for b in self.bands]

    @property
    def native_grid(self) -> Grid | None:
        """The grid of the first bounded band (the default output grid)."""
        for b in self.bands:
            if b.grid is not None and b.grid.width is not None:
                return b.grid
        return None

    def with_bands(self, bands: list[Band], keep_meta: bool = False) -> Image:
        """A derived image; like Earth Engine, computed images keep no properties by default."""
        if keep_meta:
            return Image(bands, dict(self.properties), dict(self.meta))
        return Image(bands)

    def to_asset_json(self) -> dict:
        """This image as an EarthEngineAsset JSON object (as computeImages answers it)."""
        out: dict[str, Any] = {"type": "IMAGE"}
        for k in ("name", "id", "updateTime"):
            if k in self.meta:
                out[k] = self.meta[k]
        props = {k: v for k, v in self.properties.items() if not k.startswith("system:")}
        if props:
            out["properties"] = props
        for k in ("startTime", "endTime", "geometry", "sizeBytes"):
            if k in self.meta:
                out[k] = self.meta[k]
        out["bands"] = [b.to_json() for b in self.bands]
        return out


@dataclass(eq=False)
class ImageCollection:
    """An ordered list of images plus collection properties."""

    images: list[Image]
    properties: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def derived(self, elements: list[Any]) -> ImageCollection:
        """A collection of the same kind with other elements and the same properties."""
        return type(self)(elements, dict(self.properties), dict(self.meta))
