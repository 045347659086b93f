"""``numpy.array(pixels, copy=...)`` honours ``copy`` (the ``__array__`` protocol of numpy 2)."""

from __future__ import annotations

import numpy as np
import pytest
from pixhelp import npy_bytes

from eerest import Pixels

ARRAY = np.arange(12, dtype="<f4").reshape(3, 4).view([("a", "<f4")])


def _body(px: Pixels) -> np.ndarray:
    return np.frombuffer(px.content, np.uint8)


def test_copy_true_is_a_copy() -> None:
    px = Pixels(npy_bytes(ARRAY), file_format="NPY")
    out = np.array(px, copy=True)
    assert not np.shares_memory(out, _body(px))
    out["a"][0, 0] = 99
    assert px.to_numpy()["a"][0, 0] == 0


@pytest.mark.parametrize("copy", [None, False])
def test_no_copy_unless_needed(copy: bool | None) -> None:
    px = Pixels(npy_bytes(ARRAY), file_format="NPY")
    assert np.shares_memory(np.array(px, copy=copy), _body(px))
    assert np.shares_memory(np.asarray(px), _body(px))


def test_dtype_conversion_needs_a_copy() -> None:
    px = Pixels(npy_bytes(np.arange(6, dtype="<f4").reshape(2, 3)), file_format="NPY")
    converted = np.asarray(px, dtype=np.float64)
    assert converted.dtype == np.float64 and not np.shares_memory(converted, _body(px))
    with pytest.raises(ValueError, match="needs a copy"):
        np.array(px, dtype=np.float64, copy=False)


def test_numpy_sees_the_pixels_not_the_body_bytes() -> None:
    """On Python 3.12+, numpy takes an object's buffer protocol before ``__array__``: Pixels
    must not offer its body bytes that way, or ``np.asarray(px)`` would be raw uint8 bytes."""
    px = Pixels(npy_bytes(ARRAY), file_format="NPY")
    assert not hasattr(px, "__buffer__")
    assert np.asarray(px).dtype == ARRAY.dtype and np.asarray(px).shape == ARRAY.shape
    assert memoryview(px.content).nbytes == len(px)  # the body itself stays reachable
