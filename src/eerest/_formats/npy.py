"""Reading a .npy body without copying it: parse the header ourselves, then lay an
``ndarray`` over the very buffer the response was read into.

Only what ``numpy.save`` writes is accepted (format versions 1.0, 2.0 and 3.0, either
byte order, C or Fortran order); object dtypes are refused, so nothing is ever unpickled.
Every problem is a :class:`DecodeProblem` whose message says what was wrong.
"""

from __future__ import annotations

import ast
import functools
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["NPY_MAGIC", "DecodeProblem", "NpyHeader", "parse_npy_header", "parse_npy_prefix", "npy_array", "plain_view"]

NPY_MAGIC = b"\x93NUMPY"
# CPython before 3.12 can fail ast parsing in concurrent threads ("AST constructor
# recursion depth mismatch", python/cpython#106905): parse one header at a time.
_AST_LOCK = threading.Lock()
#: numpy's own limit is 10000 bytes; 1024 named bands need more, so allow 1 MiB.
MAX_HEADER_BYTES = 1 << 20


class DecodeProblem(ValueError):
    """A body that is not what it claims to be (turned into ResponseDecodeError by the caller)."""


@dataclass(frozen=True)
class NpyHeader:
    """The parsed header of a .npy body: where the data starts and how to read it."""

    version: tuple[int, int]
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    fortran_order: bool
    data_offset: int

    @property
    def data_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _descr_to_dtype(descr: Any) -> np.dtype[Any]:
    try:
        dtype = np.lib.format.descr_to_dtype(descr)
    except Exception as exc:  # numpy raises TypeError/ValueError/KeyError for bad descrs
        raise DecodeProblem(f"the NPY header's dtype {descr!r} is not a valid numpy dtype ({exc})") from None
    if dtype.hasobject:
        raise DecodeProblem(
            f"the NPY body holds Python objects (dtype {descr!r}); pixel data never does, and eerest "
            "never unpickles a response"
        )
    return dtype


def parse_npy_prefix(buf: bytes | bytearray | memoryview) -> NpyHeader | None:
    """The header of a .npy body from its first bytes, or ``None`` if ``buf`` does not hold
    all of it yet (streamed bodies are checked before their data arrives)."""
    view = memoryview(buf)
    n = len(view)
    if bytes(view[: min(n, 6)]) != NPY_MAGIC[: min(n, 6)]:
        raise DecodeProblem(f"the body does not start with the NPY magic \\x93NUMPY (it starts {bytes(view[:16])!r})")
    if n < 8:
        return None
    version = (view[6], view[7])
    if version == (1, 0):
        size_bytes, encoding = 2, "latin1"
    elif version in ((2, 0), (3, 0)):
        size_bytes, encoding = 4, "latin1" if version == (2, 0) else "utf8"
    else:
        raise DecodeProblem(f"unsupported NPY format version {version[0]}.{version[1]} (known: 1.0, 2.0, 3.0)")
    start = 8 + size_bytes
    if n < start:
        return None
    header_len = int.from_bytes(view[8:start], "little")
    if header_len > MAX_HEADER_BYTES:
        raise DecodeProblem(f"the NPY header claims {header_len} bytes; more than {MAX_HEADER_BYTES} is not plausible")
    end = start + header_len
    if n < end:
        return None
    raw = bytes(view[start:end])
    parse = _parse_header_memo if len(raw) <= _MEMO_HEADER_BYTES else _parse_header
    return parse(version, raw, encoding, end)


#: Headers up to this size are memoised (a read's tiles share a handful of headers: the same
#: bands, a few tile shapes), at most 256 of them: at most 1 MiB held.
_MEMO_HEADER_BYTES = 4096


def _parse_header(version: tuple[int, int], raw: bytes, encoding: str, end: int) -> NpyHeader:
    """The checked header from its text (parsing costs ~60 µs, under a lock)."""
    try:
        text = raw.decode(encoding)
        with _AST_LOCK:
            header = ast.literal_eval(text)  # literals only: no names, calls or attribute access
    except (UnicodeDecodeError, ValueError, SyntaxError, RecursionError, MemoryError, TypeError) as exc:
        raise DecodeProblem(f"the NPY header is not a Python dict literal ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        keys = sorted(header) if isinstance(header, dict) else type(header).__name__
        raise DecodeProblem(f"the NPY header must have exactly the keys descr, fortran_order, shape; it has {keys}")
    shape, fortran = header["shape"], header["fortran_order"]
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise DecodeProblem(f"the NPY header's shape {shape!r} is not a tuple of non-negative integers")
    if not isinstance(fortran, bool):
        raise DecodeProblem(f"the NPY header's fortran_order {fortran!r} is not a boolean")
    return NpyHeader(version, _descr_to_dtype(header["descr"]), shape, fortran, end)


_parse_header_memo = functools.lru_cache(maxsize=256)(_parse_header)


def parse_npy_header(buf: bytes | bytearray | memoryview) -> NpyHeader:
    """Parse and check the header of a whole .npy body; the data must fill the rest exactly."""
    head = parse_npy_prefix(buf)
    size = len(memoryview(buf))
    if head is None:
        raise DecodeProblem(f"the body ends inside the NPY header ({size} bytes)")
    have = size - head.data_offset
    need = head.data_bytes
    if have < need:
        raise DecodeProblem(
            f"the NPY header announces shape {head.shape} of {head.dtype} ({need} bytes of data) "
            f"but the body holds only {have} bytes after the header"
        )
    if have > need:
        raise DecodeProblem(
            f"the body holds {have} bytes after the NPY header, {have - need} more than shape {head.shape} of "
            f"{head.dtype} needs ({need}); refusing data that disagrees with its header"
        )
    return head


def npy_array(buf: bytearray | memoryview, head: NpyHeader) -> np.ndarray[Any, Any]:
    """The array ``numpy.load`` would give, as a view on ``buf`` (no copy)."""
    array: np.ndarray[Any, Any] = np.ndarray(
        head.shape, dtype=head.dtype, buffer=buf, offset=head.data_offset, order="F" if head.fortran_order else "C"
    )
    return array


def plain_view(arr: np.ndarray[Any, Any], dtype: Any = None) -> np.ndarray[Any, Any]:
    """A structured array as an unstructured (..., bands) one, bands in field order: a view
    on the same memory when the fields share one type and lie evenly spaced (as in the
    service's NPY), else a copy in their common type (or in ``dtype``)."""
    names = arr.dtype.names
    if not names:
        out = arr[..., np.newaxis]
    else:
        fields = arr.dtype.fields
        assert fields is not None
        base, first = fields[names[0]][:2]
        step = base.itemsize
        uniform = base.subdtype is None and all(
            fields[n][0] == base and fields[n][1] == first + i * step for i, n in enumerate(names)
        )
        if uniform:
            out = np.lib.stride_tricks.as_strided(
                arr[names[0]],
                shape=(*arr.shape, len(names)),
                strides=(*arr.strides, step),
                writeable=arr.flags.writeable,
            )
        else:
            from numpy.lib import recfunctions

            out = recfunctions.structured_to_unstructured(arr, dtype=dtype)
    return out if dtype is None else out.astype(dtype, copy=False)
