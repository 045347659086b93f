"""Decoding a PNG or JPEG body into a uint8 (height, width, channels) array, through the
optional Pillow (``pip install 'eerest[image]'``)."""

from __future__ import annotations

from typing import IO, Any, cast

import numpy as np

from eerest._extras import missing_extra
from eerest._formats.buffer_file import BufferFile

__all__ = ["decode_picture"]

_KEEP = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
#: Pixels a picture may claim (width x height) before it is decoded: a 48 MiB request of
#: 8-bit RGBA with masks is at most ~10 M pixels; more is a decompression bomb.
MAX_PIXELS = 64 << 20


def decode_picture(content: bytes | bytearray) -> np.ndarray[Any, Any]:
    """The picture as uint8 (height, width, channels): 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA."""
    try:
        from PIL import Image
    except ImportError:
        raise missing_extra("Decoding PNG/JPEG", "Pillow", "image") from None
    try:
        with Image.open(cast(IO[bytes], BufferFile(content))) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ValueError(f"the picture claims {width} x {height} pixels, more than {MAX_PIXELS}")
            img.load()
            if img.mode not in _KEEP:
                has_alpha = img.mode in ("PA", "RGBa", "La") or "transparency" in img.info
                img = img.convert("RGBA" if has_alpha else "RGB")
            array = np.asarray(img)
    except Exception as exc:  # Pillow raises many types for malformed files
        raise ValueError(f"the picture cannot be decoded ({type(exc).__name__}: {exc})") from exc
    if array.dtype != np.uint8:
        raise ValueError(f"the picture is {array.dtype}, not 8-bit")
    return array.reshape(array.shape[0], array.shape[1], -1)
