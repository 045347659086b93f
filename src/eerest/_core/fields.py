"""Python types for discovery string and number formats, and their JSON wire forms.

int64 and uint64 are ints here and strings on the wire (JSON numbers lose precision past
2**53); ``byte`` is bytes here and base64 on the wire; timestamps are aware datetimes and
RFC 3339 strings; durations are timedeltas and ``"1.5s"``; doubles accept the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` the JSON mapping of protobuf uses.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["Base64Bytes", "Date", "Double", "Duration", "FieldMask", "Int64", "Timestamp", "UInt64"]


_INTEGER = re.compile(r"[+-]?\d+")


def _int64(value: Any) -> Any:
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return value


def _uint64(value: Any) -> Any:
    value = _int64(value)
    if isinstance(value, int) and value < 0:
        raise ValueError("a uint64 cannot be negative")
    return value


Int64 = Annotated[int, BeforeValidator(_int64), PlainSerializer(str, return_type=str, when_used="json")]
UInt64 = Annotated[int, BeforeValidator(_uint64), PlainSerializer(str, return_type=str, when_used="json")]

_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _double_in(value: Any) -> Any:
    return _SPECIAL_DOUBLES.get(value, value) if isinstance(value, str) else value


def _double_out(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


Double = Annotated[float, BeforeValidator(_double_in), PlainSerializer(_double_out, when_used="json")]


def _bytes_in(value: Any) -> Any:
    if isinstance(value, str):  # the wire form: standard or URL-safe base64, padded or not
        try:
            padded = value + "=" * (-len(value) % 4)
            return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"not valid base64: {exc}") from None
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


Base64Bytes = Annotated[
    bytes,
    BeforeValidator(_bytes_in),
    PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), return_type=str, when_used="json"),
]


def _timestamp_out(value: _dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    value = value.astimezone(_dt.timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def _timestamp_in(value: Any) -> Any:
    # RFC 3339 allows nanoseconds; Python keeps microseconds.
    if isinstance(value, str) and "." in value:
        return _SUB_MICROSECONDS.sub(r"\1", value)
    return value


_SUB_MICROSECONDS = re.compile(r"(\.\d{6})\d+")


Timestamp = Annotated[
    _dt.datetime, BeforeValidator(_timestamp_in), PlainSerializer(_timestamp_out, return_type=str, when_used="json")
]
Date = _dt.date

_DURATION = re.compile(r"([+-]?)(\d*)(?:\.(\d{0,9}))?s")


def _duration_in(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if not match:
            raise ValueError(f"not a duration like '1.5s': {value!r}")
        sign, seconds, fraction = match.groups()
        total = Decimal(seconds or "0") + Decimal("0." + (fraction or "0"))
        delta = _dt.timedelta(seconds=float(total))
        return -delta if sign == "-" else delta
    return value


def _duration_out(value: _dt.timedelta) -> str:
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    return f"{sign}{seconds}.{fraction:06d}".rstrip("0").rstrip(".") + "s"


Duration = Annotated[
    _dt.timedelta, BeforeValidator(_duration_in), PlainSerializer(_duration_out, return_type=str, when_used="json")
]
FieldMask = str
