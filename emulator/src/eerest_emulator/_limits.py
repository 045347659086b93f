"""The request limits of computePixels and getPixels, with the real service's messages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._errors import invalid_argument

__all__ = ["MAX_REQUEST_BYTES", "MAX_GRID_DIMENSION", "MAX_BANDS", "request_bytes", "check_request"]

MAX_REQUEST_BYTES = 50331648  # 48 MiB
MAX_GRID_DIMENSION = 32768
MAX_BANDS = 1024


def request_bytes(width: int, height: int, dtypes: Sequence[np.dtype]) -> int:
    """What the server counts: width x height x sum over bands of (bytes per value + 1 mask byte)."""
    return width * height * sum(np.dtype(d).itemsize + 1 for d in dtypes)


def check_request(width: int, height: int, dtypes: Sequence[np.dtype]) -> None:
    """Raise a 400 if the request exceeds the grid, band or size limits."""
    if width > MAX_GRID_DIMENSION or height > MAX_GRID_DIMENSION:
        raise invalid_argument(
            f"Pixel grid dimensions ({width}x{height}) must be less than or equal to {MAX_GRID_DIMENSION}."
        )
    if len(dtypes) > MAX_BANDS:
        raise invalid_argument(
            f"Number of bands ({len(dtypes)}) must be less than or equal to {MAX_BANDS}."
        )
    total = request_bytes(width, height, dtypes)
    if total > MAX_REQUEST_BYTES:
        raise invalid_argument(
            f"Total request size ({total} bytes) must be less than or equal to {MAX_REQUEST_BYTES} bytes."
        )
