"""A field's type, as the pages write it, as discovery writes it (a property or parameter).

The pages' type names map onto discovery's ``type``/``format`` pairs
(https://developers.google.com/discovery/v1/type-format): ``string (int64 format)`` is
``{"type": "string", "format": "int64"}``, ``string (Timestamp format)`` is
``google-datetime`` and so on. Two are inferred: the pages write ``integer`` for every
32-bit integer and ``number`` for every floating-point field, so plain ``integer`` is
``int32`` and plain ``number`` is ``double`` (what Earth Engine's messages use; the pages
spell other widths, e.g. ``integer (uint32 format)``).
"""

from __future__ import annotations

from typing import Any

from .model import EnumDef, TypeExpr

__all__ = ["ANY_MESSAGE", "STRUCT", "enum_property", "scalar_property"]

#: ``google.protobuf.Any`` (an object with an ``@type``), as Google's documents write it.
ANY_MESSAGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "any", "description": "Properties of the object. Contains field @type with type URL."},
}
#: ``google.protobuf.Struct`` (any JSON object).
STRUCT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "any", "description": "Properties of the object."},
}

_SCALARS: dict[tuple[str, str | None], dict[str, Any]] = {
    ("string", None): {"type": "string"},
    ("string", "int64"): {"type": "string", "format": "int64"},
    ("string", "uint64"): {"type": "string", "format": "uint64"},
    ("string", "Int64Value"): {"type": "string", "format": "int64"},
    ("string", "UInt64Value"): {"type": "string", "format": "uint64"},
    ("string", "bytes"): {"type": "string", "format": "byte"},
    ("string", "BytesValue"): {"type": "string", "format": "byte"},
    ("string", "Timestamp"): {"type": "string", "format": "google-datetime"},
    ("string", "Duration"): {"type": "string", "format": "google-duration"},
    ("string", "FieldMask"): {"type": "string", "format": "google-fieldmask"},
    ("string", "StringValue"): {"type": "string"},
    ("integer", None): {"type": "integer", "format": "int32"},
    ("integer", "int32"): {"type": "integer", "format": "int32"},
    ("integer", "uint32"): {"type": "integer", "format": "uint32"},
    ("integer", "Int32Value"): {"type": "integer", "format": "int32"},
    ("integer", "UInt32Value"): {"type": "integer", "format": "uint32"},
    ("number", None): {"type": "number", "format": "double"},
    ("number", "double"): {"type": "number", "format": "double"},
    ("number", "float"): {"type": "number", "format": "float"},
    ("number", "DoubleValue"): {"type": "number", "format": "double"},
    ("number", "FloatValue"): {"type": "number", "format": "float"},
    ("boolean", None): {"type": "boolean"},
    ("boolean", "BoolValue"): {"type": "boolean"},
    ("object", None): ANY_MESSAGE,
    ("object", "Struct"): STRUCT,
    ("value", "Value"): {"type": "any"},
}


def scalar_property(t: TypeExpr) -> dict[str, Any]:
    """The discovery form of a type that is neither a message, an enum nor a map."""
    try:
        found = _SCALARS[(t.kind, t.fmt)]
    except KeyError:
        shown = t.kind if t.fmt is None else f"{t.kind} ({t.fmt} format)"
        raise ValueError(f"no discovery type for {shown!r}") from None
    return {key: (dict(value) if isinstance(value, dict) else value) for key, value in found.items()}


def enum_property(enum: EnumDef) -> dict[str, Any]:
    """An enum, inline as discovery writes it (``enumDeprecated`` only when a value is)."""
    out: dict[str, Any] = {
        "type": "string",
        "enum": [v.name for v in enum.values],
        "enumDescriptions": [v.description for v in enum.values],
    }
    if any(v.deprecated for v in enum.values):
        out["enumDeprecated"] = [v.deprecated for v in enum.values]
    return out
