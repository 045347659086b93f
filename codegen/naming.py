"""Turning API names (camelCase, dotted, keywords) into safe Python identifiers."""

from __future__ import annotations

import keyword
import re

__all__ = ["snake_case", "pascal_case", "safe_identifier", "constant_name"]

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
