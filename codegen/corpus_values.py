"""Hostile but valid values for the corpus: arguments both clients accept, and responses.

Path values carry unicode, spaces, slashes and reserved characters where the parameter's
pattern allows them; query values are unicode and reserved characters, repeated parameters
get two values, int64s are past 2**53, booleans alternate; bodies are built from the
request schema in their wire form (int64 as strings, bytes as base64, timestamps as RFC 3339),
which both google-api-python-client and eerest take as is. Responses are built from the
response schema (read-only fields too), for checking that typed results decode them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .ir import Api, Message, Method, Param, TypeRef

__all__ = ["TRICKY", "example", "gapi_name", "gapi_param", "response_value", "tricky_arguments", "wire_value"]

#: Unicode, a space, reserved characters, a lone ``%``: in path and query values and bodies.
#: (No ``?`` and ``#``: google-api-python-client leaves them raw in ``{+x}`` expansions,
#: which breaks its URL; eerest always encodes them.)
TRICKY = "ü é:@+&=$,;~!*'()%"
_TRICKY_QUERY = "ü a&b=c?d#e/f+g%"
_TRICKY_BODY = 'ü é/&?#%\u2028"\\'
_INT64 = "9007199254740993"  # 2**53 + 1: a float would lose it
_UINT64 = "18446744073709551615"
_BYTES = "+/8A"  # b"\xfb\xff\x00": both base64 alphabets differ on it


def gapi_name(name: str) -> str:
    """google-api-python-client's attribute name for a method or resource (``fix_method_name``)."""
    from googleapiclient.discovery import fix_method_name

    return str(fix_method_name(name))


def gapi_param(name: str) -> str:
    """google-api-python-client's keyword argument for a parameter (``key2param``: ``from``
    stays ``from``, passed as ``**{"from": ...}``)."""
    from googleapiclient.discovery import key2param

    return str(key2param(name))


def example(pattern: str, tricky: bool = False) -> str:
    """A short string that ``re.fullmatch(pattern, ...)`` accepts (``^projects/[^/]+$`` ->
    ``projects/a``), built from the parsed pattern: first branches, fewest repeats (one at
    least), a permitted character per class; with ``tricky``, the first permitted of
    unicode and reserved characters."""
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # Python 3.10
        import sre_parse as parser

    plain_chars = ("a", "1", "x", "Z", "-", "_", ".")
    tricky_chars = ("ü", " ", ":", "@", "+", "&", "=", "$", ",", ";", "~", "!", "*", "'", "(", ")", "%", "/")
    candidates = (*tricky_chars[:-1], *plain_chars) if tricky else plain_chars

    def run(items: Any, high: int) -> str | None:
        """With ``tricky``, a repeat of one character class: every tricky character it allows."""
        if not tricky or len(items) != 1 or items[0][0] not in (parser.IN, parser.ANY, parser.NOT_LITERAL):
            return None
        op, av = items[0]
        allowed = [
            c
            for c in tricky_chars
            if op == parser.ANY
            or (op == parser.NOT_LITERAL and chr(av) != c)
            or (op == parser.IN and char(av, (c,)) == c)
        ]
        return "".join(allowed) + "a" if len(allowed) > 1 and high > len(allowed) else None

    def in_category(c: str, category: Any) -> bool:
        name = str(category)
        ok = c.isdigit() if "DIGIT" in name else (c.isalnum() or c == "_") if "WORD" in name else c.isspace()
        return ok != ("NOT_" in name)

    def char(items: Any, among: tuple[str, ...] = candidates) -> str:
        negated = any(op == parser.NEGATE for op, _ in items)
        for candidate in among:
            allowed = False
            for op, av in items:
                if op == parser.LITERAL:
                    allowed = allowed or chr(av) == candidate
                elif op == parser.RANGE:
                    allowed = allowed or av[0] <= ord(candidate) <= av[1]
                elif op == parser.CATEGORY:
                    allowed = allowed or in_category(candidate, av)
            if allowed != negated:
                return candidate
        return "a"

    def walk(items: Any) -> str:
        out = []
        for op, av in items:
            if op == parser.LITERAL:
                out.append(chr(av))
            elif op == parser.NOT_LITERAL:
                out.append("b" if chr(av) == "a" else "a")
            elif op == parser.ANY:
                out.append("ü" if tricky else "a")
            elif op == parser.IN:
                out.append(char(av))
            elif op in (parser.MAX_REPEAT, parser.MIN_REPEAT):
                low, high, sub = av
                out.append(run(sub, high) or walk(sub) * max(low, 1))
            elif op == parser.SUBPATTERN:
                out.append(walk(av[-1]))
            elif op == parser.BRANCH:
                out.append(walk(av[1][0]))
            elif op == parser.CATEGORY:
                out.append(char([(op, av)]))
        return "".join(out)

    return walk(parser.parse(pattern))


def _path_ok(value: str) -> bool:
    """eerest refuses path values that would leave the API's path (``..``, ``\\``)."""
    from eerest._core.paths import check_path_value
    from eerest.errors import InvalidRequestError

    try:
        check_path_value("corpus", "p", value)
    except InvalidRequestError:
        return False
    return True


def _path_value(p: Param, index: int) -> str:
    if p.enum_values:
        return p.enum_values[-1]
    if p.type.kind == "integer":
        return str(7 + index)
    if p.pattern:
        candidates = [example(p.pattern, tricky=True), example(p.pattern), "abc", "a1", "123", f"v{index}"]
    else:
        candidates = [f"{TRICKY}/v{index}", f"v{index}"]
    for candidate in candidates:
        if (not p.pattern or re.match(p.pattern, candidate)) and _path_ok(candidate):
            return candidate
    return f"v{index}"


def _query_scalar(p: Param, t: TypeRef, index: int, second: bool) -> Any:
    if p.enum_values:
        return p.enum_values[0 if second and len(p.enum_values) > 1 else -1]
    if t.kind == "boolean":
        return (index + second) % 2 == 0
    if t.kind == "integer":
        return 3 + second
    if t.kind == "number":
        return 1.5
    if t.kind == "string" and t.format in ("int64", "uint64"):
        return int(_INT64) + second
    if t.kind == "string" and t.format in ("google-datetime", "date-time"):
        return "2024-01-02T03:04:05.123Z"
    if t.kind == "string" and t.format == "google-duration":
        return "3.5s"
    if t.kind == "string" and t.format == "byte":
        return "-_8A"  # eerest sends bytes url-safe; this is that form already
    if p.pattern:
        for candidate in (example(p.pattern, tricky=True), example(p.pattern), "s"):
            if re.match(p.pattern, candidate):
                return candidate
    return _TRICKY_QUERY + ("2" if second else "")


def tricky_arguments(m: Method, api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(eerest kwargs, google-api-python-client kwargs, JSON body) for one call with every
    parameter and every request-body field given a hostile but valid value."""
    ours: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    for i, p in enumerate(m.params):
        if p.name == "prettyPrint":  # google-api-python-client adds prettyPrint=false itself
            continue
        value: Any
        if p.location == "path":
            value = _path_value(p, i)
        elif p.type.kind == "array":
            item = p.type.item or TypeRef("string")
            value = [_query_scalar(p, item, i, False), _query_scalar(p, item, i, True)]
        else:
            value = _query_scalar(p, p.type, i, False)
        ours[p.py_name] = value
        theirs[gapi_param(p.name)] = value
    body: dict[str, Any] | None = None
    if m.request_type is not None:
        entry = wire_value(m.request_type.item, api, tricky=True) if m.request_type.item else 1
        body = {"k": entry, "ü/&": entry} if entry is not None else {}
        ours["body"] = body
        theirs["body"] = body
    elif m.request:
        body = {}
        for f in m.body_fields:
            value = wire_value(f.type, api, tricky=True)
            if value is not None:
                body[f.name] = value
                ours[f.py_name] = value
        theirs["body"] = body
    return ours, theirs, body


def _message(api: Api, name: str | None) -> Message:
    return next(m for m in api.messages if m.name == name)


def wire_value(t: TypeRef, api: Api, depth: int = 0, *, tricky: bool = False, read_only: bool = False) -> Any:
    """A JSON value of type ``t`` in its wire form (None: leave it out; messages stop at
    depth 3). ``read_only``: include read-only fields (a response)."""
    if t.kind == "string":
        return {
            "int64": _INT64,
            "uint64": _UINT64,
            "byte": _BYTES,
            "google-datetime": "2024-01-02T03:04:05.123Z",
            "date-time": "2024-01-02T03:04:05.123Z",
            "date": "2024-01-02",
            "google-duration": "3.5s",
            "google-fieldmask": "a,b.c",
        }.get(t.format or "", _TRICKY_BODY if tricky else "b")
    if t.kind == "integer":
        return -3 if t.format == "int32" else 3
    if t.kind == "number":
        return 0.5
    if t.kind == "boolean":
        return not tricky
    if t.kind == "any":
        return {"k": [1, "x", None, {"n": 0.25}]}
    if t.kind == "enum":
        enum = next(e for e in api.enums if e.name == t.name)
        return enum.values[-1].value
    if t.kind in ("array", "map"):
        assert t.item is not None
        item = wire_value(t.item, api, depth, tricky=tricky, read_only=read_only)
        if item is None:
            return None
        return [item, item] if t.kind == "array" else {"k": item, "ü/&": item}
    if t.kind == "message":
        if depth >= 3:
            return None
        values = {
            f.name: wire_value(f.type, api, depth + 1, tricky=tricky, read_only=read_only)
            for f in _message(api, t.name).fields
            if read_only or not f.read_only
        }
        return {k: v for k, v in values.items() if v is not None}
    raise AssertionError(t)


def response_value(m: Method, api: Api) -> Any:
    """A response of ``m`` built from its response schema (read-only fields included), in
    wire form; None when the method returns nothing or bytes."""
    if m.media_download or m.binary_response or m.empty_response or not m.response:
        return None
    t = m.response_type or TypeRef("message", name=m.response)
    return wire_value(t, api, read_only=True, tricky=True)


def plain(value: Any, adapter: Any = None) -> Any:
    """A typed result back in JSON form, to compare with the response it was decoded from."""
    from eerest._core.message import Message as RuntimeMessage

    if isinstance(value, RuntimeMessage):
        return value.to_dict()
    if adapter is not None and hasattr(adapter, "dump_python"):
        return adapter.dump_python(value, mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
