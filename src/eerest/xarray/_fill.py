"""Masked pixels: which value stands for them in each band, without changing its type.

Earth Engine's NPY responses carry no mask: a masked pixel arrives as 0. That is the
default fill value of every band (it costs nothing and keeps stored images on getPixels).
Another value is applied on the server with ``Image.unmask(value, sameFootprint=false)``,
so it must be exactly representable in the band's type: a dataset never turns uint16 into
float to make room for NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eerest.errors import InvalidRequestError

__all__ = ["DEFAULT_FILL_VALUE", "FillValue", "band_fill_values"]

#: What Earth Engine sends for a masked pixel in an NPY response.
DEFAULT_FILL_VALUE = 0

FillValue = int | float


def band_fill_values(
    band_ids: Sequence[str], dtypes: Sequence[np.dtype[Any]], fill_value: FillValue | Mapping[str, FillValue] | None
) -> dict[str, FillValue]:
    """Each band's fill value (``fill_value`` for all, a mapping per band, or 0), checked
    to be exactly representable in the band's dtype."""
    if fill_value is not None and not isinstance(fill_value, Mapping):
        fill_value = dict.fromkeys(band_ids, fill_value)
    given = dict(fill_value or {})
    unknown = sorted(set(given) - set(band_ids))
    if unknown:
        raise InvalidRequestError(f"fill_value names bands that are not read: {unknown}; the bands are {list(band_ids)}")
    return {
        band: _representable(band, dtype, given.get(band, DEFAULT_FILL_VALUE))
        for band, dtype in zip(band_ids, dtypes, strict=True)
    }


def _representable(band: str, dtype: np.dtype[Any], value: Any) -> FillValue:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidRequestError(f"the fill value of band {band!r} must be a number, not {value!r}")
    if not math.isfinite(float(value)):
        raise InvalidRequestError(
            f"the fill value of band {band!r} must be finite ({value!r} cannot be sent in an Earth Engine expression); "
            "choose a number of the band's type that never occurs in the data"
        )
    if dtype.kind in "iub":
        info = np.iinfo(dtype) if dtype.kind != "b" else None
        lo, hi = (info.min, info.max) if info is not None else (0, 1)
        if float(value) != int(value) or not lo <= int(value) <= hi:
            raise InvalidRequestError(
                f"the fill value {value!r} of band {band!r} does not fit its type {dtype} ({lo} to {hi}); "
                "masked pixels keep the band's type, so choose a value in that range"
            )
        return int(value)
    if float(dtype.type(value)) != float(value):
        raise InvalidRequestError(f"the fill value {value!r} of band {band!r} is not exactly representable as {dtype}")
    return float(value)
