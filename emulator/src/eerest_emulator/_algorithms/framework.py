"""The algorithm framework: the registry, how an implementation registers, and its errors.

Signatures (argument names, types, optionality) follow Earth Engine's algorithm catalogue,
so that expressions built by `earthengine-api` or by hand evaluate here as on the service,
and `projects.algorithms.list` can describe them. The families (the other modules of this
package) register their implementations with `implements` (signature from the catalogue)
or `algorithm` (signature given); the package's `__init__` imports them all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .._catalogue import signature
from .._errors import ApiError
from .._image import Image, ImageCollection
from .._reducers import Reducer
from .._values import Date, DateRange, Geometry, Projection

__all__ = [
    "IMAGE_TYPE",
    "REGISTRY",
    "Algorithm",
    "AlgorithmError",
    "Arg",
    "ArgumentTypeError",
    "Context",
    "Filter",
    "algorithm",
    "implements",
    "type_name",
]


class AlgorithmError(ApiError):
    """A user error inside an algorithm; reported as `"<Algorithm>: <message>"` (HTTP 400).

    An ApiError of its own (400 INVALID_ARGUMENT): one raised while pixels are computed, after
    the expression was evaluated, is still the user's 400, never a 500 that clients retry."""

    def __init__(self, message: str) -> None:
        super().__init__(400, str(message), "INVALID_ARGUMENT")


class ArgumentTypeError(Exception):
    """An argument of the wrong type; reported in Earth Engine's "Invalid type" wording."""

    def __init__(self, arg: str, expected: str, actual: Any) -> None:
        super().__init__(arg)
        self.arg = arg
        self.expected = expected
        self.actual = type_name(actual)


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    optional: bool = False
    default: Any = None
    description: str = ""

    def to_json(self) -> dict:
        out: dict[str, Any] = {"argumentName": self.name, "type": self.type}
        if self.description:
            out["description"] = self.description
        if self.optional:
            out["optional"] = True
            out["defaultValue"] = self.default
        return out


@dataclass(frozen=True)
class Algorithm:
    name: str
    return_type: str
    args: tuple[Arg, ...]
    description: str
    fn: Callable[..., Any] = field(repr=False)

    def to_json(self) -> dict:
        """The `Algorithm` JSON object of projects.algorithms.list."""
        return {
            "name": f"algorithms/{self.name}",
            "description": self.description,
            "returnType": self.return_type,
            "arguments": [a.to_json() for a in self.args],
        }


@dataclass
class Filter:
    """A compiled filter: a predicate over images."""

    test: Callable[[Image], bool]


class Context:
    """What algorithms may use of the world: the asset store."""

    def __init__(self, store: Any) -> None:
        self.store = store


REGISTRY: dict[str, Algorithm] = {}
_F = TypeVar("_F", bound=Callable[..., Any])

#: The type the catalogue gives an Image argument or result.
IMAGE_TYPE = "Image<unknown bands>"


def _parse_args(spec: str) -> tuple[Arg, ...]:
    """`"input:Image, names:List<String>?=null"` -> Args (`?` optional, `=json` default)."""
    out = []
    for part in filter(None, (p.strip() for p in re.split(r",\s*(?![^<]*>)", spec))):
        name, rest = part.split(":", 1)
        optional = "?" in rest
        typ, _, default = rest.partition("?")
        dflt = json.loads(default[1:]) if default.startswith("=") else None
        typ = typ.strip().replace("Image", IMAGE_TYPE) if typ.strip() in ("Image", "List<Image>") else typ.strip()
        out.append(Arg(name.strip(), typ, optional, dflt))
    return tuple(out)


def algorithm(name: str, returns: str, args: str, description: str) -> Callable[[_F], _F]:
    """Register an implementation under `name` with the given signature."""

    def deco(fn: _F) -> _F:
        REGISTRY[name] = Algorithm(name, IMAGE_TYPE if returns == "Image" else returns, _parse_args(args), description, fn)
        return fn

    return deco


def _catalogue_args(entry: dict) -> tuple[Arg, ...]:
    out = []
    for a in entry.get("arguments", []):
        default = a.get("defaultValue")
        if isinstance(default, float) and default.is_integer() and a["type"] in ("Integer", "Long"):
            default = int(default)
        out.append(Arg(a["argumentName"], a["type"], bool(a.get("optional")), default))
    return tuple(out)


def implements(name: str) -> Callable[[_F], _F]:
    """Register an implementation of the real algorithm `name`, with its signature from the catalogue."""
    entry = signature(name)

    def deco(fn: _F) -> _F:
        REGISTRY[name] = Algorithm(name, entry["returnType"], _catalogue_args(entry), entry.get("description", ""), fn)
        return fn

    return deco


def type_name(v: Any) -> str:
    """How Earth Engine's messages name the type of a value: "Image<[red, nir]>", "Long", "Filter"."""
    if v is None:
        return "null"
    if isinstance(v, Image):
        return "Image<[" + ", ".join(v.band_names) + "]>"
    if isinstance(v, ImageCollection):
        return type(v).__name__
    if isinstance(v, Filter):
        return "Filter"
    if isinstance(v, Reducer):
        return "Reducer"
    if isinstance(v, (Date, DateRange, Geometry, Projection)):
        return type(v).__name__
    if isinstance(v, bool):
        return "Boolean"
    if isinstance(v, int):
        return "Long"
    if isinstance(v, float):
        return "Float"
    if isinstance(v, str):
        return "String"
    if isinstance(v, list):
        return "List"
    if isinstance(v, dict):
        return "Dictionary"
    if callable(v):
        return "Function"
    return type(v).__name__
