"""What the reference pages say, before it becomes a discovery document.

Every item keeps the place it was read from (``where``: ``file:line``), so that a later step
that cannot use it can say which page to look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "EnumDef",
    "EnumValue",
    "FieldDef",
    "MessageDef",
    "MethodDef",
    "Body",
    "Page",
    "TypeExpr",
    "TypeRef",
]


@dataclass(frozen=True)
class TypeRef:
    """A named type a field or body points to: its name as shown and the link, if the page gave one."""

    name: str
    url: str | None
    where: str


@dataclass(frozen=True)
class TypeExpr:
    """A field's type as the pages write it.

    ``kind`` is one of ``string``, ``integer``, ``number``, ``boolean``, ``object`` (free-form,
    e.g. ``google.protobuf.Any``), ``value`` (``google.protobuf.Value``), ``message``, ``enum``,
    ``map``. ``fmt`` is the page's format name (``int64``, ``Timestamp``, ``Struct`` ...);
    ``ref`` the referenced type of ``message``/``enum``; ``value`` the value type of ``map``.
    """

    kind: str
    fmt: str | None = None
    ref: TypeRef | None = None
    value: TypeExpr | None = None


@dataclass(frozen=True)
class FieldDef:
    """One row of a Fields or Parameters table."""

    name: str
    type: TypeExpr
    repeated: bool
    description: str
    deprecated: bool
    where: str


@dataclass(frozen=True)
class EnumValue:
    name: str
    description: str
    deprecated: bool


@dataclass(frozen=True)
class EnumDef:
    name: str
    description: str
    values: tuple[EnumValue, ...]
    where: str


@dataclass(frozen=True)
class MessageDef:
    name: str
    description: str
    fields: tuple[FieldDef, ...]
    where: str


@dataclass(frozen=True)
class Body:
    """A request or response body.

    ``kind``: ``none`` (no body), ``empty_message`` (``google.protobuf.Empty``), ``fieldless``
    (a message of the method's own without fields), ``http`` (``google.api.HttpBody``),
    ``ref`` (an instance of a named type), ``inline`` (fields listed on the method's page).
    """

    kind: str
    ref: TypeRef | None = None
    fields: tuple[FieldDef, ...] = ()
    description: str = ""
    rpc: str | None = None  # "ComputeFeatures" when the page says "Response message for EarthEngineService.ComputeFeatures."


@dataclass(frozen=True)
class MethodDef:
    """One method page."""

    id: str  # "projects.assets.get"
    description: str
    http_method: str
    url_template: str  # after the version: "{name=projects/*/assets/**}:getPixels"
    path_params: tuple[FieldDef, ...]
    query_params: tuple[FieldDef, ...]
    request: Body
    response: Body
    scopes: tuple[str, ...]
    where: str


@dataclass
class Page:
    """One reference page: the method it documents (method pages), the types it defines in
    page order (``types``, enums and messages; the main type of resource and type pages
    first), and the methods a resource page lists."""

    path: str  # relative to the version's folder, e.g. "projects.assets.md"
    title: str
    method: MethodDef | None = None
    types: list[MessageDef | EnumDef] = field(default_factory=list)
    listed_methods: list[str] = field(default_factory=list)
