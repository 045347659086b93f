"""What a generated method tells the runtime about itself: constant, immutable data."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from eerest._core.overlay import Overlay

__all__ = ["ApiInfo", "LazySpecs", "MediaUploadSpec", "MethodSpec", "PageSpec", "ParamSpec"]

#: What a method returns: a message class, ``bytes``, ``Pixels``, ``None`` ...
ResultT = TypeVar("ResultT")
#: What a list method's pager yields.
ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class ParamSpec:
    name: str  # wire name
    location: Literal["path", "query"]
    required: bool = False
    pattern: str | None = None
    repeated: bool = False
    format: str | None = None
    defaults_to_project: bool = False
    enum: tuple[str, ...] = ()  # the values the API accepts; empty: any


@dataclass(frozen=True)
class PageSpec(Generic[ItemT]):
    """How a list method pages; ``ItemT`` is the type of its items (for type checkers)."""

    token_location: Literal["query", "body"]
    items_field: str | None  # wire name of the response field holding the items; None: pages only


@dataclass(frozen=True)
class MediaUploadSpec:
    """A method that also takes media (``mediaUpload`` in the discovery document)."""

    path: str  # the simple/multipart upload path, e.g. "/upload/drive/v3/files"
    max_size: int | None = None  # bytes, from "maxSize"
    accept: tuple[str, ...] = ()  # accepted MIME patterns


@dataclass(frozen=True)
class MethodSpec(Generic[ResultT]):
    """One method; ``ResultT`` is what calling it returns (for type checkers)."""

    id: str
    http_method: str
    path: str
    params: tuple[ParamSpec, ...] = ()
    request: Any = None  # a Message class, or a pydantic TypeAdapter when the body is a map
    response: Any = None  # a Message class, or a pydantic-validatable type (a map schema)
    binary_response: bool = False
    pagination: PageSpec[Any] | None = None
    overlay: Overlay[ResultT] | None = None
    api_version: str | None = None  # sent as x-goog-api-version, as Google's clients do
    media_download: bool = False  # alt=media: the raw body instead of JSON
    media_upload: MediaUploadSpec | None = None

    @property
    def accept(self) -> str:
        return "*/*" if self.binary_response or self.media_download else "application/json"

    @property
    def raw_result(self) -> bool:
        """The result is the body itself (HttpBody, media download), not parsed JSON."""
        return self.binary_response or self.media_download


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
    data_wrapper: bool = False  # "features": ["dataWrapper"]: JSON bodies inside {"data": ...}
    resources: str | None = None  # the generated module whose SPECS are the API's methods

    @property
    def specs(self) -> Mapping[str, MethodSpec[Any]] | None:
        """The API's methods by id (``"projects.assets.get"``), imported on first use."""
        if self.resources is None:
            return None
        specs: Mapping[str, MethodSpec[Any]] = import_module(self.resources).SPECS
        return specs


class LazySpecs(Mapping[str, "MethodSpec[Any]"]):
    """A generated API's methods by id, each imported with its resource's module on first
    lookup: listing the ids loads nothing, so a call loads only its own resource."""

    def __init__(self, package: str, modules: Mapping[str, str]) -> None:
        self._package = package
        self._modules = dict(modules)  # method id -> its module, relative to ``package``
        self._loaded: dict[str, MethodSpec[Any]] = {}

    def __getitem__(self, method: str) -> MethodSpec[Any]:
        spec = self._loaded.get(method)
        if spec is None:
            module = self._modules[method]  # KeyError: no such method, as a dict would say
            spec = self._loaded[method] = import_module(module, self._package).SPECS[method]
        return spec

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __repr__(self) -> str:
        return f"LazySpecs({self._package!r}, {len(self)} methods, {len(self._loaded)} loaded)"
