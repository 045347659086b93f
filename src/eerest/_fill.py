"""Masked pixels: which value stands for them in each band, without changing its type, and
the Earth Engine expressions (pure JSON, no ``ee``) that apply it or fetch the mask itself.
Shared by ``read_area`` and the xarray backend.

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

__all__ = [
    "DEFAULT_FILL_VALUE",
    "FillValue",
    "band_fill_values",
    "call",
    "load",
    "masked_expression",
    "unmask",
    "with_node",
]

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
        raise InvalidRequestError(
            f"fill_value names bands that are not read: {unknown}; the bands are {list(band_ids)}"
        )
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


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A ``functionInvocationValue`` node of ``name`` with these argument nodes."""
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def load(function: str, asset: str) -> dict[str, Any]:
    """``Image.load`` / ``ImageCollection.load`` of ``asset``, as an Expression."""
    return {"result": "0", "values": {"0": call(function, id={"constantValue": asset})}}


def with_node(values: dict[str, Any], base: str, node: dict[str, Any]) -> str:
    """Add ``node`` to ``values`` under a key starting with ``base`` not used yet; the key."""
    key, n = base, 0
    while key in values:
        n += 1
        key = f"{base}{n}"
    values[key] = node
    return key


def unmask(image: Mapping[str, Any], fills: list[int | float]) -> dict[str, Any]:
    """``image`` with masked pixels replaced by ``fills`` (one per band, in band order) on
    the server, also outside the image's footprint."""
    values = dict(image["values"])
    constant = fills[0] if len(set(fills)) == 1 else list(fills)
    fill = with_node(values, "eerest_fill", call("Image.constant", value={"constantValue": constant}))
    result = with_node(
        values,
        "eerest_unmask",
        call(
            "Image.unmask",
            input={"valueReference": image["result"]},
            value={"valueReference": fill},
            sameFootprint={"constantValue": False},
        ),
    )
    return {"result": result, "values": values}


def masked_expression(
    image: Mapping[str, Any], band_ids: Sequence[str], fills: list[int | float] | None, mask_ids: Sequence[str] | None
) -> dict[str, Any]:
    """The bands ``band_ids`` of ``image`` with masked pixels set to ``fills`` on the server
    (``None``: left as the service sends them, 0) and, with ``mask_ids``, one more uint8 band per band (named by ``mask_ids``): 1 where the
    band holds data (its mask is not 0), 0 where it is masked. One request then carries the
    values and their masks (NPY answers have no mask of their own)."""
    values = dict(image["values"])
    selected = with_node(
        values,
        "eerest_bands",
        call(
            "Image.select", input={"valueReference": image["result"]}, bandSelectors={"constantValue": list(band_ids)}
        ),
    )
    filled: dict[str, Any] = {"result": selected, "values": values}
    if fills is not None:
        filled = unmask(filled, fills)
    if mask_ids is None:
        return filled
    values = dict(filled["values"])
    mask = with_node(values, "eerest_mask", call("Image.mask", image={"valueReference": selected}))
    zero = with_node(values, "eerest_zero", call("Image.constant", value={"constantValue": 0}))
    valid = with_node(
        values, "eerest_valid", call("Image.neq", image1={"valueReference": mask}, image2={"valueReference": zero})
    )
    named = with_node(
        values,
        "eerest_valid_named",
        call("Image.rename", input={"valueReference": valid}, names={"constantValue": list(mask_ids)}),
    )
    both = with_node(
        values,
        "eerest_with_mask",
        call("Image.addBands", dstImg={"valueReference": filled["result"]}, srcImg={"valueReference": named}),
    )
    return {"result": both, "values": values}
