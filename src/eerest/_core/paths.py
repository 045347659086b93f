"""Expanding discovery path templates and checking path parameters, before sending."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from eerest.errors import InvalidRequestError

__all__ = ["expand_path", "check_pattern"]

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


def check_pattern(method_id: str, name: str, value: str, pattern: str | None) -> None:
    """Raise :class:`InvalidRequestError` naming the parameter when ``value`` does not match."""
    if pattern and not re.search(pattern, value):
        raise InvalidRequestError(
            f"{method_id}: {name}={value!r} does not match the pattern {pattern!r} "
            "the API requires for this parameter"
        )
