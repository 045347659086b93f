"""Masked pixels: the one implementation shared with ``read_area`` (:mod:`eerest._fill`)."""

from __future__ import annotations

from eerest._fill import DEFAULT_FILL_VALUE, FillValue, band_fill_values

__all__ = ["DEFAULT_FILL_VALUE", "FillValue", "band_fill_values"]
