"""Expanding discovery path templates and checking path parameters, before sending."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from eerest.errors import InvalidRequestError

__all__ = ["expand_path", "check_enum", "check_pattern", "check_path_value", "check_header", "within"]

_VARIABLE = re.compile(r"{(\+?)([^}]+)}")
# Characters RFC 6570 reserved expansion may leave raw; '?' and '#' are always encoded
# so that no argument can change the query or fragment of the URL.
_RESERVED_SAFE = "/:@!$&'()*+,;=[]"


def expand_path(template: str, values: Mapping[str, str], *, fully_encode_reserved: bool = True) -> str:
    """``v1/{+name}:getPixels`` with ``name="projects/p/assets/a b"`` ->
    ``v1/projects/p/assets/a%20b:getPixels``. With ``fullyEncodeReservedExpansion`` (as
    Google's documents say), ``{+x}`` keeps only ``/`` and encodes every other reserved
    character; ``{x}`` encodes ``/`` too."""

    def substitute(match: re.Match[str]) -> str:
        reserved, name = match.groups()
        value = str(values[name])
        if not reserved:
            return quote(value, safe="")
        return quote(value, safe="/" if fully_encode_reserved else _RESERVED_SAFE)

    return _VARIABLE.sub(substitute, template)


def check_path_value(method_id: str, name: str, value: str) -> None:
    """Refuse values that could take the request out of the API's path once a client or
    server normalises the URL: ``.``/``..`` segments (also percent-encoded), backslashes,
    control characters and empty values."""
    bad = _dot_segment(value.replace("\\", "/"))
    problem = None
    if not value:
        problem = "is empty"
    elif bad is not None:
        problem = f"contains the path segment {bad!r}, which would leave the API's path"
    elif "\\" in value:
        problem = "contains a backslash"
    elif _CONTROL.search(value):
        problem = "contains a control character"
    elif not _utf8(value):
        problem = "is not valid Unicode text (a lone surrogate)"
    if problem:
        raise InvalidRequestError(
            f"{method_id}: the path parameter {name}={value[:200]!r} {problem}; pass a resource name such as "
            "'projects/my-project/assets/my-asset'"
        )


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def within(path: str, prefix: str) -> bool:
    """Whether the URL path ``path`` lies under ``prefix`` after dot-segment removal
    (the last line of defence: eerest never sends a request outside the API's path)."""
    return path.startswith(prefix) and _dot_segment(path) is None


def _dot_segment(path: str) -> str | None:
    """The first ``.``/``..`` segment of ``path`` (also percent-encoded), if any."""
    if "." not in path and "%" not in path:  # every dot segment has one of them
        return None
    return next((s for s in path.split("/") if s.lower() in _DOT_SEGMENTS), None)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DOT_SEGMENTS = frozenset({".", "..", "%2e", "%2e%2e", ".%2e", "%2e."})
# RFC 9110 token characters for header names; values: visible ASCII, space and tab.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")


def check_header(method_id: str, name: object, value: object) -> None:
    """Refuse header names and values that are not valid HTTP (no CR/LF injection, no
    non-ASCII), before anything is sent."""
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise InvalidRequestError(f"{method_id}: extra_headers has an invalid header name {name!r}")
    if not isinstance(value, str) or not _FIELD_VALUE.fullmatch(value):
        raise InvalidRequestError(
            f"{method_id}: the header {name!r} has a value that is not valid HTTP (only printable ASCII, "
            "no line breaks): pass a plain string"
        )


def check_pattern(method_id: str, name: str, value: str, pattern: str | None) -> None:
    """Raise :class:`InvalidRequestError` naming the parameter when ``value`` does not match
    its ``pattern`` from the start (``re.match``, as google-api-python-client checks it)."""
    if pattern and not re.match(pattern, value):
        raise InvalidRequestError(
            f"{method_id}: {name}={value!r} does not match the pattern {pattern!r} "
            "the API requires for this parameter"
        )


def check_enum(method_id: str, name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise :class:`InvalidRequestError` when a parameter with an ``enum`` gets another value
    (as google-api-python-client refuses it); a value newer than this SDK goes in ``extra_query``."""
    if allowed and value not in allowed:
        shown = ", ".join(map(repr, allowed[:20])) + (", ..." if len(allowed) > 20 else "")
        raise InvalidRequestError(
            f"{method_id}: {name}={value!r} is not one of the values the API declares ({shown}); "
            f"a value newer than this SDK can be sent with extra_query={{{name!r}: ...}}"
        )
