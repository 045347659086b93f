"""Turning API names (camelCase, dotted, keywords) into safe Python identifiers."""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection

__all__ = [
    "ANNOTATION_NAMES",
    "MESSAGE_ATTRIBUTES",
    "constant_name",
    "field_name",
    "pascal_case",
    "python_name",
    "safe_identifier",
    "snake_case",
]

_WORD_BOUNDARY_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BOUNDARY_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_IDENTIFIER = re.compile(r"[^0-9a-zA-Z_]+")


def snake_case(name: str) -> str:
    """``crsCode`` -> ``crs_code``, ``HTTPBody`` -> ``http_body``, ``foo.bar`` -> ``foo_bar``."""
    s = _WORD_BOUNDARY_1.sub(r"\1_\2", name)
    s = _WORD_BOUNDARY_2.sub(r"\1_\2", s)
    s = _NON_IDENTIFIER.sub("_", s).strip("_").lower()
    return re.sub("_+", "_", s)


def pascal_case(name: str) -> str:
    """``imageCollection`` -> ``ImageCollection``, ``file_format`` -> ``FileFormat``."""
    parts = _NON_IDENTIFIER.sub("_", name).split("_")
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


#: Soft keywords escaped as keywords are, fixed here rather than read from the running Python
#: (3.12 added ``type``), so that every Python generates the same code; ``type`` stays a plain
#: name (``assets.create(type="FOLDER")``), which it legally is.
_SOFT_KEYWORDS = frozenset({"_", "case", "match"})


def safe_identifier(name: str, reserved: frozenset[str] = frozenset()) -> str:
    """A valid, non-keyword identifier: a trailing ``_`` resolves clashes, a leading one digits."""
    if not name:
        name = "_"
    if name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or name in _SOFT_KEYWORDS or name in reserved:
        name += "_"
    return name


#: Attributes every generated message class has (pydantic's ``BaseModel`` and
#: ``eerest._core.message.Message``): a property named like one would hide it (``to_dict``
#: would break every call on the message). Fixed here, not read from the installed pydantic,
#: so that output does not depend on it; ``tests/codegen/test_names.py`` checks that it
#: covers every public attribute the installed pydantic has.
MESSAGE_ATTRIBUTES = frozenset(
    {
        "construct", "copy", "dict", "from_orm", "json", "model_computed_fields", "model_config", "model_construct",
        "model_copy", "model_dump", "model_dump_json", "model_extra", "model_fields", "model_fields_set",
        "model_json_schema", "model_parametrized_name", "model_post_init", "model_rebuild", "model_validate",
        "model_validate_json", "model_validate_strings", "parse_file", "parse_obj", "parse_raw", "schema",
        "schema_json", "to_dict", "update_forward_refs", "validate",
    }
)  # fmt: skip


#: Names the annotations of ``types.py`` use: a field named like one would shadow it in its
#: class's body (``list: list[Item]``).
ANNOTATION_NAMES = frozenset({"bool", "bytes", "dict", "float", "int", "list", "str"})


def python_name(wire: str, empty: str = "field") -> str:
    """The base of every Python name the generator gives an API name (property, parameter):
    ``snake_case``; ``empty`` for a name with no letter or digit (``""``, ``"$"``); the
    prefix ``field_`` before a leading digit (``2d`` -> ``field_2d``: never a leading
    ``_``, which pydantic takes for a private attribute); a trailing ``_`` after a Python
    keyword or soft keyword (``class_``, ``match_``)."""
    name = snake_case(wire) or empty
    if name[0].isdigit():
        name = "field_" + name
    return name + "_" if keyword.iskeyword(name) or name in _SOFT_KEYWORDS else name


def field_name(wire: str, taken: Collection[str]) -> str:
    """The name of a message property, both as the attribute (``msg.x``, ``Message(x=...)``)
    and as a method's keyword argument: :func:`python_name`, then a trailing ``_`` while it
    is a message attribute (``to_dict_``, ``model_config_``, ``copy_``), a name annotations
    use (``list_``) or in ``taken`` (the names the message's other properties already have,
    and their wire names, so that no wire name means two fields; the document's schema
    names)."""
    name = python_name(wire)
    while name in MESSAGE_ATTRIBUTES or name in ANNOTATION_NAMES or name in taken:
        name += "_"
    return name


def constant_name(value: str) -> str:
    """An enum member name for a wire value: ``GEO_TIFF`` stays, ``2`` -> ``VALUE_2``."""
    name = _NON_IDENTIFIER.sub("_", value).strip("_").upper()
    if not name:
        name = "EMPTY"
    if name[0].isdigit():
        name = "VALUE_" + name
    if keyword.iskeyword(name.lower()) and name.lower() == name:
        name += "_"
    return name
