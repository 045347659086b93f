"""What a generated method tells the runtime about itself: constant, immutable data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from eerest._core.message import Message
    from eerest._core.overlay import Overlay

__all__ = ["ApiInfo", "MethodSpec", "PageSpec", "ParamSpec"]


@dataclass(frozen=True)
class ParamSpec:
    name: str  # wire name
    location: Literal["path", "query"]
    required: bool = False
    pattern: str | None = None
    repeated: bool = False
    format: str | None = None
    defaults_to_project: bool = False


@dataclass(frozen=True)
class PageSpec:
    token_location: Literal["query", "body"]
    items_field: str  # wire name of the response field holding the items


@dataclass(frozen=True)
class MethodSpec:
    id: str
    http_method: str
    path: str
    params: tuple[ParamSpec, ...] = ()
    request: type[Message] | None = None
    response: type[Message] | None = None
    binary_response: bool = False
    pagination: PageSpec | None = None
    overlay: Overlay | None = None

    @property
    def accept(self) -> str:
        return "*/*" if self.binary_response else "application/json"


@dataclass(frozen=True)
class ApiInfo:
    """The API a generated client talks to."""

    id: str  # e.g. "earthengine:v1"
    version: str
    revision: str
    base_url: str
    service_path: str
    scopes: tuple[str, ...]
    fully_encode_reserved_expansion: bool = True
    specs: Any = None  # Mapping[str, MethodSpec] by method id, set by the generated module
