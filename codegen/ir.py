"""The generator's intermediate representation: what a discovery document means to us.

Everything is immutable and already named for Python; templates only read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Api",
    "MediaUpload",
    "EnumType",
    "EnumValue",
    "Field",
    "Message",
    "Method",
    "Pagination",
    "Param",
    "Resource",
    "TypeRef",
]

Kind = Literal["string", "integer", "number", "boolean", "any", "message", "enum", "array", "map"]


@dataclass(frozen=True)
class TypeRef:
    """A field or parameter type: a scalar with its ``format``, a named message or enum,
    or a list/map of another type."""

    kind: Kind
    format: str | None = None
    name: str | None = None  # message or enum name, for kind "message"/"enum"
    item: TypeRef | None = None  # element type, for kind "array"/"map"


@dataclass(frozen=True)
class EnumValue:
    value: str
    member: str  # Python member name
    description: str = ""
    deprecated: bool = False


@dataclass(frozen=True)
class EnumType:
    name: str
    values: tuple[EnumValue, ...]
    description: str = ""


@dataclass(frozen=True)
class Field:
    name: str  # wire name (camelCase)
    py_name: str  # keyword-argument name in method stubs
    type: TypeRef
    description: str = ""
    read_only: bool = False
    deprecated: bool = False


@dataclass(frozen=True)
class Message:
    name: str
    fields: tuple[Field, ...]
    description: str = ""
    deprecated: bool = False


@dataclass(frozen=True)
class Param:
    name: str  # wire name
    py_name: str
    location: Literal["path", "query"]
    type: TypeRef  # repeated parameters are arrays
    required: bool = False
    pattern: str | None = None
    description: str = ""
    deprecated: bool = False
    enum_values: tuple[str, ...] = ()
    defaults_to_project: bool = False


@dataclass(frozen=True)
class Pagination:
    """How a list method pages: the token's location and the repeated field of items
    (``None``: the pager yields whole pages, see ``eerest._core.pagination``)."""

    token_location: Literal["query", "body"]
    items_field: str | None  # wire name in the response
    item_type: TypeRef | None


@dataclass(frozen=True)
class MediaUpload:
    """A method that also accepts media (``mediaUpload``)."""

    path: str  # relative to the root URL, as google-api-python-client builds it
    max_size: int | None
    accept: tuple[str, ...]


@dataclass(frozen=True)
class Method:
    id: str
    name: str  # discovery name
    py_name: str
    http_method: str
    path: str
    flat_path: str | None
    description: str
    params: tuple[Param, ...]
    body_fields: tuple[Field, ...]  # request fields exposed as keyword arguments
    request: str | None  # schema name (inline schemas get a synthesised one, see discovery)
    response: str | None
    scopes: tuple[str, ...] = ()
    deprecated: bool = False
    binary_response: bool = False  # the response is the raw body (HttpBody)
    response_type: TypeRef | None = None  # when the response schema is not a message (e.g. a map)
    request_type: TypeRef | None = None  # when the request schema is not a message (a map): a ``body`` argument
    empty_response: bool = False  # the response is ``Empty`` (an object without fields): returns None
    pagination: Pagination | None = None
    api_version: str | None = None
    media_download: bool = False  # the ``_media`` twin of a supportsMediaDownload method: alt=media, bytes
    media_upload: MediaUpload | None = None
    overlay: str | None = None  # "module:attribute" of a hand-written overlay
    returns: str | None = None  # return annotation an overlay imposes
    extra_params: tuple[tuple[str, str, str, str], ...] = ()  # (name, annotation, default, doc)

    @property
    def spec_name(self) -> str:
        return "_" + re.sub(r"\W", "_", self.id).upper() + ("_MEDIA" if self.media_download else "")


@dataclass(frozen=True)
class Resource:
    name: str  # discovery name
    py_name: str  # attribute name on the parent
    class_name: str  # e.g. "ProjectsImageCollection"
    methods: tuple[Method, ...]
    resources: tuple[Resource, ...]

    def walk(self) -> list[Resource]:
        """This resource and all below it, parents first."""
        out = [self]
        for child in self.resources:
            out.extend(child.walk())
        return out


@dataclass(frozen=True)
class Api:
    id: str
    name: str
    version: str
    revision: str
    title: str
    description: str
    root_url: str
    service_path: str
    base_url: str
    batch_path: str
    fully_encode_reserved_expansion: bool
    scopes: tuple[str, ...]
    resources: tuple[Resource, ...]
    messages: tuple[Message, ...]
    enums: tuple[EnumType, ...]
    source: str = ""  # the document's path as named in headers
    data_wrapper: bool = False  # "features": ["dataWrapper"]
    extra: dict[str, str] = field(default_factory=dict)

    def all_resources(self) -> list[Resource]:
        return [r for top in self.resources for r in top.walk()]

    def all_methods(self) -> list[Method]:
        return [m for r in self.all_resources() for m in r.methods]
