"""How hand-written overlays attach to generated methods.

An overlay is bound to a method in ``codegen/config.yaml``. Its hooks are pure or
generators, so one overlay serves both the sync and the async client: ``prepare`` yields
:class:`Fetch` requests for data it needs (the runtime performs them with the right I/O
and sends the answer back) and returns the call to send.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from eerest._core.call import Call

__all__ = ["Body", "Fetch", "Overlay", "Prepare"]


@dataclass(frozen=True)
class Fetch:
    """Ask the runtime to call another method of the same API version and send back its
    parsed result; with ``cache=True`` the client remembers the answer."""

    method: str  # method id without the API name, e.g. "projects.assets.get"
    args: Mapping[str, Any] = field(default_factory=dict)  # path/query parameters by wire name
    cache: bool = True


@dataclass(frozen=True)
class Body:
    """A binary response body, read whole into its final buffer."""

    content: bytearray
    content_type: str
    headers: Mapping[str, str]


Prepare = Generator[Fetch, Any, "Call"]

ResultT = TypeVar("ResultT")


class Overlay(Generic[ResultT]):
    """Base overlay: changes nothing but the result type. Subclass and override what you need."""

    def adapt_body(self, body: dict[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
        """Turn body arguments into forms the request message accepts (before validation)."""
        return body

    def prepare(self, call: Call) -> Prepare:
        """Check (and possibly amend) the call before it is sent; may ``yield Fetch(...)``."""
        return call
        yield  # pragma: no cover - makes this a generator

    def result(self, call: Call, body: Body) -> ResultT:
        """The method's return value for a binary response."""
        raise NotImplementedError
