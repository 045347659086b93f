"""PixelDataType: the band types of Earth Engine and the numpy dtypes they are served as."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PixelType", "INT_DTYPES"]

#: Candidate integer dtypes, smallest first; an INT band is served as the first that holds its range.
INT_DTYPES: tuple[np.dtype, ...] = tuple(
    np.dtype(t) for t in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "int64")
)


@dataclass(frozen=True)
class PixelType:
    """A band type: precision INT (with an inclusive range), FLOAT or DOUBLE."""

    precision: str
    min: float | None = None
    max: float | None = None

    @classmethod
    def int_range(cls, lo: float, hi: float) -> PixelType:
        return cls("INT", float(math.floor(lo)), float(math.ceil(hi)))

    @classmethod
    def from_json(cls, d: dict | None) -> PixelType:
        """Parse a PixelDataType JSON object (`{"precision": ..., "range": {...}}`)."""
        d = d or {}
        precision = d.get("precision", "DOUBLE")
        if precision == "INT":
            rng = d.get("range") or {}
            return cls.int_range(rng.get("min", -(2**31)), rng.get("max", 2**31 - 1))
        if precision not in ("FLOAT", "DOUBLE"):
            raise ValueError(f"unknown pixel precision {precision!r}")
        return cls(precision)

    @classmethod
    def from_dtype(cls, dtype: np.dtype) -> PixelType:
        dtype = np.dtype(dtype)
        if dtype.kind in "iub":
            info = np.iinfo(np.uint8 if dtype.kind == "b" else dtype)
            return cls("INT", float(info.min), float(info.max))
        if dtype == np.float32:
            return cls("FLOAT")
        return cls("DOUBLE")

    def to_json(self) -> dict:
        """The PixelDataType JSON object."""
        if self.precision == "INT":
            return {"precision": "INT", "range": {"min": _num(self.min), "max": _num(self.max)}}
        return {"precision": self.precision}

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype the real service serves this type as (NPY, GeoTIFF)."""
        if self.precision == "FLOAT":
            return np.dtype("float32")
        if self.precision == "DOUBLE":
            return np.dtype("float64")
        for dt in INT_DTYPES:
            info = np.iinfo(dt)
            if info.min <= self.min and self.max <= info.max:  # type: ignore[operator]
                return dt
        return np.dtype("float64")

    @property
    def is_int(self) -> bool:
        return self.precision == "INT"

    def union(self, other: PixelType) -> PixelType:
        """The smallest type holding values of both types."""
        if self.is_int and other.is_int:
            assert self.min is not None and self.max is not None and other.min is not None and other.max is not None
            return PixelType.int_range(min(self.min, other.min), max(self.max, other.max))
        if "DOUBLE" in (self.precision, other.precision):
            return PixelType("DOUBLE")
        if self.is_int or other.is_int:
            # int and float: a float32 is enough only for small ranges, as in Earth Engine.
            i = self if self.is_int else other
            if i.dtype.itemsize <= 2:
                return PixelType("FLOAT")
            return PixelType("DOUBLE")
        return PixelType("FLOAT")


def _num(x: float | None) -> float | int | None:
    if x is not None and float(x).is_integer():
        return int(x)
    return x
