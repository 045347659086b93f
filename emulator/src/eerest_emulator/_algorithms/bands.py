"""Band plumbing the image and collection families share: Earth Engine's band matching for
binary operations, bands matched by name across a collection, and per-pixel stacks of them.
"""

from __future__ import annotations

import numpy as np

from .._grid import Grid
from .._image import Band, Image, ImageCollection
from .._pixeltype import PixelType
from .framework import AlgorithmError

__all__ = ["bands_by_name", "pair_bands", "proj_extra", "reduced_type", "render_stack"]


def pair_bands(op: str, a: Image, b: Image) -> list[tuple[str, Band, Band]]:
    """Earth Engine's band matching for binary image operations."""
    na, nb = len(a.bands), len(b.bands)
    if na == 1 and nb != 1:
        return [(bb.name, a.bands[0], bb) for bb in b.bands]
    if nb == 1 and na != 1:
        return [(ba.name, ba, b.bands[0]) for ba in a.bands]
    if na != nb:
        raise AlgorithmError(
            f"Images must contain the same number of bands or only 1 band. Got {na} and {nb}."
        )
    return [(ba.name, ba, bb) for ba, bb in zip(a.bands, b.bands, strict=False)]


def bands_by_name(c: ImageCollection) -> list[tuple[str, list[Band]]]:
    names: list[str] = []
    for img in c.images:
        for n in img.band_names:
            if n not in names:
                names.append(n)
    return [(n, [b for img in c.images for b in img.bands if b.name == n]) for n in names]


def render_stack(bands: list[Band], g: Grid) -> tuple[np.ndarray, np.ndarray]:
    vals = np.stack([b.render(g)[0].astype(np.float64) for b in bands])
    valid = np.stack([b.render(g)[1] for b in bands])
    return vals, valid


def reduced_type(kind: str, t: PixelType, n: int) -> PixelType:
    if kind in ("min", "max", "first", "last", "mode"):
        return t
    if kind == "sum":
        return PixelType.int_range(min(0, t.min * n), max(0, t.max * n)) if t.is_int else PixelType("DOUBLE")  # type: ignore[operator]
    if kind in ("count", "countDistinct"):
        return PixelType.int_range(0, max(n, 1))
    if kind in ("anyNonZero", "allNonZero", "and", "or"):
        return PixelType.int_range(0, 1)
    return PixelType("DOUBLE")


def proj_extra(*bands: Band | None) -> dict:
    """The emulator's own band fields a derived band keeps from its inputs (the projection
    `reproject` gave them: `image.projection()` of a computed band is its input's)."""
    for b in bands:
        if b is not None and "_projection" in b.extra:
            return {"_projection": b.extra["_projection"]}
    return {}
