"""Messages checked against the emulator's own discovery documents, strictly, as Google's front end does.

A request field the schema does not know, a value of the wrong JSON type or an enum value
outside the list is rejected with Google's wording (``Invalid JSON payload received. Unknown
name "x" at 'grid': Cannot find field.`` / ``Invalid value at 'file_format' (TYPE_ENUM),
"PNGX"``). Accepted values are normalised as proto3 JSON reads them (``"5"`` for an int32
becomes 5); responses are shaped the same way (int64 written as strings). Nothing here
comes from the SDK: the schemas are the documents shipped in this package.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["FieldViolation", "check_message", "check_query"]

_INT = re.compile(r"^-?\d+$")
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_SCALAR_TYPES = {"integer": "TYPE_INT32", "number": "TYPE_DOUBLE", "boolean": "TYPE_BOOL", "string": "TYPE_STRING"}
_INT64_FORMATS = {"int64": "TYPE_INT64", "uint64": "TYPE_UINT64"}
#: Fields that are protobuf wrappers (Int64Value, Int32Value, DoubleValue) in Earth Engine's
#: messages: the reference pages say so of the first three ("string (Int64Value format)"),
#: earthengine-api of the others, and it sends them wrapped ({"value": "10000000000000"} for
#: maxPixels, {"value": 10} for priority, {"value": 1.5} for a visualization's gamma).
#: Discovery documents keep only the inner type, so the front end's acceptance of the wrapped
#: form is listed here: the bare value or {"value": v}.
WRAPPER_FIELDS = frozenset(
    {"maxPixels", "maxPixelsPerFrame", "maxSizeBytes", "priority", "tileSize", "maxVertices", "gamma"}
)


class FieldViolation(ValueError):
    """One bad field: Google's message for it, and the field path (proto names, dotted)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _snake(name: str) -> str:
    """The proto field name of a JSON name, as Google's messages spell paths: affineTransform -> affine_transform."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _join(path: str, name: str) -> str:
    return f"{path}.{_snake(name)}" if path else _snake(name)


def _invalid(path: str, type_name: str, value: Any) -> FieldViolation:
    shown = json.dumps(value, separators=(", ", ": "))
    if len(shown) > 200:
        shown = shown[:200] + "..."
    return FieldViolation(f"Invalid value at '{path}' ({type_name}), {shown}", path)


def check_message(schemas: Mapping[str, Any], name: str, data: Any, *, package: str, path: str = "") -> dict[str, Any]:
    """``data`` checked as message ``name`` of ``schemas``, normalised; a `FieldViolation` if not."""
    return _Checker(schemas, package).message(name, data, path)


def check_query(parameters: Mapping[str, Any], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """Query parameters checked against a method's (and the API's global) parameter specs."""
    out: dict[str, Any] = {}
    for key, values in query.items():
        spec = parameters.get(key)
        if spec is None or spec.get("location") != "query":
            raise FieldViolation(
                f'Invalid JSON payload received. Unknown name "{key}": Cannot bind query parameter. '
                f"Field '{key}' could not be found in request message.",
                key,
            )
        path = _snake(key)
        checked = [_scalar(spec, _query_value(spec, v), path) for v in values]
        if spec.get("repeated"):
            out[key] = checked
        elif len(checked) > 1:
            raise FieldViolation(f"Invalid value at '{path}': only one value is allowed, got {len(checked)}.", path)
        else:
            out[key] = checked[0]
    return out


def _query_value(spec: Mapping[str, Any], raw: str) -> Any:
    if spec.get("type") == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw


class _Checker:
    def __init__(self, schemas: Mapping[str, Any], package: str) -> None:
        self.schemas = schemas
        self.package = package

    def message(self, name: str, data: Any, path: str) -> dict[str, Any]:
        schema = self.schemas.get(name)
        if schema is None:
            raise KeyError(f"no schema {name!r} in the discovery document")
        if not isinstance(data, dict):
            if not path:
                raise FieldViolation("Invalid JSON payload received. Expected an object for the request body.", "")
            raise _invalid(path, f"type.googleapis.com/{self.package}.{name}", data)
        props = schema.get("properties")
        if props is None:  # a free-form message (e.g. google.protobuf.Struct)
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            spec = props.get(key)
            if spec is None:
                at = f" at '{path}'" if path else ""
                raise FieldViolation(
                    f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.', _join(path, key)
                )
            if key in WRAPPER_FIELDS and isinstance(value, dict) and set(value) == {"value"} and "$ref" not in spec:
                value = value["value"]
            if value is not None:
                out[key] = self.value(spec, value, _join(path, key))
        return out

    def value(self, spec: Mapping[str, Any], value: Any, path: str) -> Any:
        ref = spec.get("$ref")
        if ref is not None:
            return self.message(ref, value, path)
        kind = spec.get("type")
        if kind == "array":
            if not isinstance(value, list):
                raise _invalid(path, "TYPE_LIST", value)
            items = spec.get("items", {"type": "any"})
            return [self.value(items, v, f"{path}[{i}]") for i, v in enumerate(value)]
        if kind == "object":
            if not isinstance(value, dict):
                raise _invalid(path, "TYPE_MESSAGE", value)
            extra = spec.get("additionalProperties")
            if extra is None:
                return value
            return {k: self.value(extra, v, f"{path}[{k}]") for k, v in value.items() if v is not None}
        return _scalar(spec, value, path)


def _scalar(spec: Mapping[str, Any], value: Any, path: str) -> Any:
    kind, fmt = spec.get("type"), spec.get("format")
    if kind in (None, "any"):
        return value
    if kind == "string" and fmt in _INT64_FORMATS:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _INT.match(value))):
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            raise _invalid(path, _INT64_FORMATS[fmt], value)
        return str(value)
    if kind == "string" and fmt == "google-fieldmask" and isinstance(value, dict) and set(value) <= {"paths"}:
        paths = value.get("paths") or []  # FieldMask as a message, as earthengine-api sends it
        if isinstance(paths, list) and all(isinstance(p, str) for p in paths):
            return ",".join(paths)
    if kind == "string":
        if not isinstance(value, str):
            raise _invalid(path, "TYPE_ENUM" if "enum" in spec else "TYPE_STRING", value)
        if "enum" in spec and value not in spec["enum"]:
            raise _invalid(path, "TYPE_ENUM", value)
        if fmt == "byte":
            try:
                base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
            except (binascii.Error, ValueError):
                raise _invalid(path, "TYPE_BYTES", value) from None
        elif fmt == "google-datetime" and not _is_timestamp(value):
            raise _invalid(path, "type.googleapis.com/google.protobuf.Timestamp", value)
        return value
    if kind == "integer":
        integral_text = isinstance(value, str) and _INT.match(value.strip())
        if integral_text or (isinstance(value, float) and value.is_integer()):
            value = int(value)
        type_name = "TYPE_UINT32" if fmt == "uint32" else "TYPE_INT32"
        low, high = (0, 2**32) if fmt == "uint32" else (-(2**31), 2**31)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
            raise _invalid(path, type_name, value)
        return value
    if kind == "number":
        if isinstance(value, str):
            if value in _SPECIAL_DOUBLES:
                return _SPECIAL_DOUBLES[value]
            try:
                return float(value)
            except ValueError:
                raise _invalid(path, "TYPE_DOUBLE", value) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid(path, "TYPE_FLOAT" if fmt == "float" else "TYPE_DOUBLE", value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _invalid(path, "TYPE_BOOL", value)
        return value
    return value


def _is_timestamp(value: str) -> bool:
    """RFC 3339 with a time zone, as google.protobuf.Timestamp reads it."""
    s = value.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$", s):
        return False
    s = re.sub(r"\.(\d{1,6})\d*", r".\1", s).replace("Z", "+00:00")
    try:
        _dt.datetime.fromisoformat(s)
    except ValueError:
        return False
    return True
