"""A method's HTTP rule, as the pages show it, turned into discovery's ``path``, ``flatPath``
and path-parameter ``pattern``s.

The pages give the rule in gRPC Transcoding syntax (https://google.aip.dev/127), e.g.
``{name=projects/*/assets/**}:getPixels``. Google's discovery documents write it as:

- ``path``: each ``{field=pattern}`` becomes ``{+param}`` (reserved expansion: the value
  may hold slashes), a plain ``{field}`` stays; ``param`` is the field's last component
  (``asset.name`` binds the parameter ``name``);
- ``flatPath``: each pattern spelled out, every ``*`` or ``**`` segment named after the
  literal segment before it (``projects/*`` -> ``projects/{projectsId}``);
- ``pattern``: the anchored regular expression of the pattern: ``*`` -> ``[^/]+``,
  ``**`` -> ``.*`` (``^projects/[^/]+/assets/.*$``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PathParam", "Route", "parse_route"]

_VARIABLE = re.compile(r"\{(?P<field>[A-Za-z_][\w.]*)(?:=(?P<pattern>[^{}]*))?\}")
_LITERAL = re.compile(r"^[A-Za-z][\w-]*$")


@dataclass(frozen=True)
class PathParam:
    field: str  # as the rule names it: "asset.name"
    name: str  # the discovery parameter: "name"
    pattern: str | None  # "^projects/[^/]+$", or None for a plain {field}


@dataclass(frozen=True)
class Route:
    path: str
    flat_path: str
    params: tuple[PathParam, ...]  # in the order they appear in the path


def parse_route(version: str, template: str) -> Route:
    """The route of ``template`` (the rule after ``https://host/<version>/``)."""
    path: list[str] = []
    flat: list[str] = []
    params: list[PathParam] = []
    at = 0
    for match in _VARIABLE.finditer(template):
        literal = template[at : match.start()]
        _check_literal(literal, template)
        path.append(literal)
        flat.append(literal)
        field, pattern = match.group("field"), match.group("pattern")
        name = field.rsplit(".", 1)[-1]
        if any(p.name == name for p in params):
            raise ValueError(f"{template}: two path variables bind {name!r}")
        if pattern is None:
            path.append("{" + name + "}")
            flat.append("{" + name + "}")
            params.append(PathParam(field, name, None))
        else:
            path.append("{+" + name + "}")
            flat.append(_flat(pattern, template))
            params.append(PathParam(field, name, "^" + _regex(pattern, template) + "$"))
        at = match.end()
    tail = template[at:]
    _check_literal(tail, template)
    path.append(tail)
    flat.append(tail)
    flat_path = f"{version}/" + "".join(flat)
    if len(set(re.findall(r"\{(\w+)\}", flat_path))) != len(re.findall(r"\{(\w+)\}", flat_path)):
        raise ValueError(f"{template}: flatPath {flat_path} would name two segments alike")
    return Route(f"{version}/" + "".join(path), flat_path, tuple(params))


def _segments(pattern: str, template: str) -> list[str]:
    segments = pattern.split("/")
    for i, segment in enumerate(segments):
        if segment in ("*", "**"):
            if i == 0 or segments[i - 1] in ("*", "**"):
                raise ValueError(f"{template}: a wildcard segment must follow a literal one")
            if segment == "**" and i != len(segments) - 1:
                raise ValueError(f"{template}: '**' must be the last segment")
        elif not _LITERAL.match(segment):
            raise ValueError(f"{template}: unexpected segment {segment!r}")
    return segments


def _flat(pattern: str, template: str) -> str:
    segments = _segments(pattern, template)
    return "/".join(
        "{" + segments[i - 1] + "Id}" if segment in ("*", "**") else segment for i, segment in enumerate(segments)
    )


def _regex(pattern: str, template: str) -> str:
    wildcard = {"*": "[^/]+", "**": ".*"}
    return "/".join(wildcard.get(segment, segment) for segment in _segments(pattern, template))


def _check_literal(text: str, template: str) -> None:
    """What lies between variables: slash-separated literals, and a ``:verb`` at the end."""
    body, _, verb = text.partition(":")
    if verb and not re.fullmatch(r"[A-Za-z]\w*", verb):
        raise ValueError(f"{template}: unexpected custom verb {verb!r}")
    if not re.fullmatch(r"(/?[A-Za-z][\w-]*)*/?", body):
        raise ValueError(f"{template}: unexpected literal {text!r}")
