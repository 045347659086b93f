"""The type column of a Fields/Parameters row: ``object (`Expression[](url)`)``, ``string
(`Timestamp[](url)` format)``, ``map (key: string, value: enum (`Name[](url)`))`` ..."""

from __future__ import annotations

import re

from .model import TypeExpr, TypeRef

__all__ = ["split_type", "parse_type"]

_LINKED_NAME = re.compile(r"(?P<name>[A-Za-z_][\w.]*)\[\]\((?P<url>[^)\s]*)\)")
_SCALARS = ("string", "integer", "number", "boolean")
_FORMATTED = re.compile(r"^(?P<kind>string|integer|number|boolean|object|value) \((?P<fmt>\w+) format\)$")
_NAMED = re.compile(r"^(?P<kind>object|enum) \((?P<name>[A-Za-z_]\w*)\)$")
_MAP = re.compile(r"^map \(key: string, value: (?P<value>.+)\)$")


def split_type(text: str) -> tuple[str, str]:
    """``text`` (a row's text after ``|``) split into its backquoted type, still holding
    its inner backquotes and links, and the rest (the description)."""
    s = text.lstrip()
    if not s.startswith("`"):
        raise ValueError(f"a row's type must start with a backquote: {text[:60]!r}")
    depth = 0
    i = 1
    while i < len(s):
        c = s[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "`":
            if depth == 0:
                return s[1:i], s[i + 1 :]
            close = s.find("`", i + 1)  # an inner `Name[](url)` inside the parentheses
            if close < 0:
                break
            i = close
        i += 1
    raise ValueError(f"unterminated type in {text[:80]!r}")


def parse_type(raw: str, where: str) -> TypeExpr:
    """A `TypeExpr` from the type text `split_type` returned."""
    links: dict[str, str] = {}

    def unlink(match: re.Match[str]) -> str:
        links[match.group("name")] = match.group("url")
        return match.group("name")

    text = _LINKED_NAME.sub(unlink, raw).replace("`", "").strip()
    return _parse(text, links, where)


def _parse(text: str, links: dict[str, str], where: str) -> TypeExpr:
    if text in _SCALARS or text == "object":
        return TypeExpr(text)
    formatted = _FORMATTED.match(text)
    if formatted:
        return TypeExpr(formatted.group("kind"), fmt=formatted.group("fmt"))
    named = _NAMED.match(text)
    if named:
        name = named.group("name")
        kind = "message" if named.group("kind") == "object" else "enum"
        return TypeExpr(kind, ref=TypeRef(name, links.get(name), where))
    mapped = _MAP.match(text)
    if mapped:
        return TypeExpr("map", value=_parse(mapped.group("value"), links, where))
    raise ValueError(f"unknown type {text!r}")
