"""Reading a Google API Discovery document into the intermediate representation.

Handles what real documents use: nested resources, ``{+name}`` and ``{name}`` path
parameters, repeated and dotted query parameters, ``additionalProperties`` maps,
``type: any``, recursive and non-object schemas, every ``format``, inline objects and
enums (hoisted into named types), ``enumDeprecated``, ``readOnly`` and ``deprecated``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from codegen.ir import (
    Api,
    EnumType,
    EnumValue,
    Field,
    Message,
    Method,
    Pagination,
    Param,
    Resource,
    TypeRef,
)
from codegen.naming import constant_name, pascal_case, safe_identifier, snake_case

__all__ = ["Options", "OverlayBinding", "load_api", "DiscoveryError"]

# Keyword arguments every generated method takes besides the API's own.
RESERVED_KWARGS = frozenset({"self", "timeout", "extra_headers", "extra_query", "extra_body"})
_PROJECT_PATTERN = "^projects/[^/]+$"


class DiscoveryError(ValueError):
    """The document is not a discovery document we can read; the message says where."""


def _typed_errors(load: Callable[..., Api]) -> Callable[..., Api]:
    """Any malformed document is a :class:`DiscoveryError` saying what was wrong, never a
    bare KeyError/TypeError from deep inside the reader."""

    @functools.wraps(load)
    def wrapped(doc: Mapping[str, Any], *args: Any, **kwargs: Any) -> Api:
        if not isinstance(doc, Mapping):
            raise DiscoveryError(f"a discovery document is a JSON object, not {type(doc).__name__}")
        try:
            return load(doc, *args, **kwargs)
        except DiscoveryError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError) as exc:
            raise DiscoveryError(f"malformed discovery document ({type(exc).__name__}: {exc})") from exc

    return wrapped


@dataclass(frozen=True)
class OverlayBinding:
    """A hand-written overlay attached to a method by the generator config."""

    overlay: str
    returns: str | None = None
    extra_params: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True)
class Options:
    """What the config asks of one document."""

    include_methods: frozenset[str] = frozenset()  # method ids without the API name; empty = all
    enum_names: Mapping[str, str] = field(default_factory=dict)  # name -> "Message.field"
    overlays: Mapping[str, OverlayBinding] = field(default_factory=dict)
    source: str = ""


@_typed_errors
def load_api(doc: Mapping[str, Any], options: Options = Options()) -> Api:
    """Build the IR for ``doc``, keeping only the methods asked for and what they reach."""
    if doc.get("kind") != "discovery#restDescription":
        raise DiscoveryError("not a discovery document: 'kind' is not 'discovery#restDescription'")
    schemas = _Schemas(doc.get("schemas") or {}, options.enum_names)
    api_name = doc["name"]
    resources = tuple(
        r
        for r in (
            _read_resource(name, body, (), api_name, schemas, options)
            for name, body in sorted((doc.get("resources") or {}).items())
        )
        if r is not None
    )
    # Methods at the top level (rare, but real) live on a resource named after the API.
    top_methods = _read_methods(doc.get("methods") or {}, (), api_name, schemas, options)
    if top_methods:
        resources = (Resource(api_name, "_api", "Api", top_methods, ()), *resources)

    roots: list[TypeRef] = []
    for resource in resources:
        for r in resource.walk():
            for m in r.methods:
                roots.extend(TypeRef("message", name=n) for n in (m.request, m.response) if n)
    messages, enums = schemas.reachable(roots)
    scopes = tuple(sorted(((doc.get("auth") or {}).get("oauth2") or {}).get("scopes") or {}))
    return Api(
        id=doc["id"],
        name=api_name,
        version=doc["version"],
        revision=str(doc.get("revision", "")),
        title=doc.get("title", api_name),
        description=_text(doc.get("description")),
        root_url=doc.get("rootUrl", ""),
        service_path=doc.get("servicePath", ""),
        base_url=doc.get("baseUrl", ""),
        batch_path=doc.get("batchPath", ""),
        fully_encode_reserved_expansion=bool(doc.get("fullyEncodeReservedExpansion", False)),
        scopes=scopes,
        resources=resources,
        messages=messages,
        enums=enums,
        source=options.source,
    )


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


class _Schemas:
    """The document's schemas plus the types hoisted out of them, by name."""

    def __init__(self, raw: Mapping[str, Any], enum_names: Mapping[str, str]) -> None:
        self.raw = raw
        self.messages: dict[str, Message] = {}
        self.enums: dict[str, EnumType] = {}
        self.aliases: dict[str, TypeRef] = {}  # non-object top-level schemas
        self._taken = set(raw)
        # Identical value lists found at a configured site share the configured name.
        self._enum_by_values: dict[tuple[str, ...], str] = {}
        for name, site in enum_names.items():
            owner, _, prop = site.partition(".")
            body = ((raw.get(owner) or {}).get("properties") or {}).get(prop) or {}
            body = body.get("items", body)
            if "enum" not in body:
                raise DiscoveryError(f"config enum_names: {name}: no enum at {site}")
            self._enum_by_values[tuple(str(v) for v in body["enum"])] = name
            self._taken.add(name)
        for name in sorted(raw):
            self._read_top(name, raw[name])

    def _read_top(self, name: str, schema: Mapping[str, Any]) -> None:
        if "enum" in schema:
            self._add_enum(name, schema)
        elif schema.get("type", "object") == "object" and "additionalProperties" not in schema:
            self._add_message(name, schema)
        else:
            self.aliases[name] = self.type_of(schema, name, "")

    def _fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}{n}"
        self._taken.add(name)
        return name

    def _add_message(self, name: str, schema: Mapping[str, Any]) -> None:
        fields = []
        used: set[str] = set()
        for prop, body in sorted((schema.get("properties") or {}).items()):
            py_name = _unique(safe_identifier(snake_case(prop) or "field", RESERVED_KWARGS), used)
            fields.append(
                Field(
                    name=prop,
                    py_name=py_name,
                    type=self.type_of(body, name, prop),
                    description=_text(body.get("description")),
                    read_only=bool(body.get("readOnly")),
                    deprecated=bool(body.get("deprecated")),
                )
            )
        self.messages[name] = Message(
            name=name,
            fields=tuple(fields),
            description=_text(schema.get("description")),
            deprecated=bool(schema.get("deprecated")),
        )

    def _add_enum(self, name: str, schema: Mapping[str, Any]) -> None:
        values = [str(v) for v in schema["enum"]]
        descriptions = list(schema.get("enumDescriptions") or [])
        deprecated = list(schema.get("enumDeprecated") or [])
        members: set[str] = set()
        self.enums[name] = EnumType(
            name=name,
            description=_text(schema.get("description")),
            values=tuple(
                EnumValue(
                    value=v,
                    member=_unique(constant_name(v), members),
                    description=_text(descriptions[i] if i < len(descriptions) else ""),
                    deprecated=bool(deprecated[i]) if i < len(deprecated) else False,
                )
                for i, v in enumerate(values)
            ),
        )
        self._taken.add(name)

    def type_of(self, schema: Mapping[str, Any], owner: str, prop: str) -> TypeRef:
        """The type of a property, hoisting inline enums and objects into named types."""
        if "$ref" in schema:
            return TypeRef("message", name=schema["$ref"])
        kind = schema.get("type", "any" if not schema.get("properties") else "object")
        if "enum" in schema:
            return TypeRef("enum", name=self._hoist_enum(schema, owner, prop))
        if kind == "array":
            items = schema.get("items")
            if items is None:
                raise DiscoveryError(f"{owner}.{prop}: array without 'items'")
            return TypeRef("array", item=self.type_of(items, owner, prop))
        if kind == "object":
            if "properties" in schema:
                name = self._fresh(owner + pascal_case(prop))
                self._add_message(name, schema)
                return TypeRef("message", name=name)
            extra = schema.get("additionalProperties")
            item = self.type_of(extra, owner, prop + "Value") if isinstance(extra, Mapping) else TypeRef("any")
            return TypeRef("map", item=item)
        if kind in ("string", "integer", "number", "boolean", "any"):
            return TypeRef(kind, format=schema.get("format"))
        raise DiscoveryError(f"{owner}.{prop}: unknown type {kind!r}")

    def _hoist_enum(self, schema: Mapping[str, Any], owner: str, prop: str) -> str:
        values = tuple(str(v) for v in schema["enum"])
        name = self._enum_by_values.get(values)
        if name is None:
            name = self._fresh(owner + pascal_case(prop))
        if name not in self.enums:
            self._add_enum(name, schema)
        return name

    def resolve(self, t: TypeRef) -> TypeRef:
        """Follow references to non-object schemas to the type they stand for."""
        if t.kind == "message" and t.name in self.aliases:
            return self.resolve(self.aliases[t.name])
        if t.kind == "message" and t.name not in self.messages and t.name not in self.enums:
            raise DiscoveryError(f"$ref to unknown schema {t.name!r}")
        if t.kind == "message" and t.name in self.enums:
            return TypeRef("enum", name=t.name)
        if t.item is not None:
            return TypeRef(t.kind, t.format, t.name, self.resolve(t.item))
        return t

    def reachable(self, roots: Iterable[TypeRef]) -> tuple[tuple[Message, ...], tuple[EnumType, ...]]:
        """Messages and enums reachable from ``roots``, sorted by name, references resolved."""
        seen_messages: dict[str, Message] = {}
        seen_enums: set[str] = set()
        stack = [self.resolve(t) for t in roots]
        while stack:
            t = stack.pop()
            if t.item is not None:
                stack.append(t.item)
            elif t.kind == "enum" and t.name:
                seen_enums.add(t.name)
            elif t.kind == "message" and t.name and t.name not in seen_messages:
                message = self.messages[t.name]
                fields = tuple(
                    Field(f.name, f.py_name, self.resolve(f.type), f.description, f.read_only, f.deprecated)
                    for f in message.fields
                )
                seen_messages[t.name] = Message(message.name, fields, message.description, message.deprecated)
                stack.extend(f.type for f in fields)
        return (
            tuple(seen_messages[n] for n in sorted(seen_messages)),
            tuple(self.enums[n] for n in sorted(seen_enums)),
        )


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}{n}"
    used.add(candidate)
    return candidate


def _read_resource(
    name: str,
    body: Mapping[str, Any],
    parents: tuple[str, ...],
    api_name: str,
    schemas: _Schemas,
    options: Options,
) -> Resource | None:
    path = (*parents, name)
    methods = _read_methods(body.get("methods") or {}, path, api_name, schemas, options)
    children = tuple(
        r
        for r in (
            _read_resource(n, b, path, api_name, schemas, options)
            for n, b in sorted((body.get("resources") or {}).items())
        )
        if r is not None
    )
    if not methods and not children:
        return None
    reserved = {m.py_name for m in methods}
    return Resource(
        name=name,
        py_name=safe_identifier(snake_case(name), frozenset(reserved | {"with_streaming_response"})),
        class_name="".join(pascal_case(p) for p in path),
        methods=methods,
        resources=children,
    )


def _read_methods(
    raw: Mapping[str, Any],
    path: tuple[str, ...],
    api_name: str,
    schemas: _Schemas,
    options: Options,
) -> tuple[Method, ...]:
    methods = []
    for name, body in sorted(raw.items()):
        method_id = body.get("id") or ".".join((api_name, *path, name))
        short_id = method_id[len(api_name) + 1 :] if method_id.startswith(api_name + ".") else method_id
        if options.include_methods and short_id not in options.include_methods:
            continue
        methods.append(_read_method(name, body, method_id, schemas, options.overlays.get(short_id)))
    return tuple(methods)


def _read_method(
    name: str,
    body: Mapping[str, Any],
    method_id: str,
    schemas: _Schemas,
    overlay: OverlayBinding | None,
) -> Method:
    used: set[str] = set(RESERVED_KWARGS)
    raw_params = body.get("parameters") or {}
    order = list(body.get("parameterOrder") or [])
    names = order + sorted(p for p in raw_params if p not in order)
    params = tuple(_read_param(p, raw_params[p], used) for p in names if p in raw_params)
    for p in re.findall(r"{\+?([^}]+)}", body["path"]):
        if p not in raw_params:
            raise DiscoveryError(f"{method_id}: path parameter {{{p}}} is not declared")

    request = (body.get("request") or {}).get("$ref")
    response = (body.get("response") or {}).get("$ref")
    body_fields: tuple[Field, ...] = ()
    if request:
        req_type = schemas.resolve(TypeRef("message", name=request))
        if req_type.kind == "message" and req_type.name in schemas.messages:
            body_fields = tuple(
                Field(f.name, _unique(f.py_name, used), schemas.resolve(f.type), f.description, f.read_only, f.deprecated)
                for f in schemas.messages[req_type.name].fields
                if not f.read_only
            )
    if overlay:
        for extra in overlay.extra_params:
            if extra[0] in used:
                raise DiscoveryError(f"{method_id}: overlay parameter {extra[0]!r} clashes with the API's")
            used.add(extra[0])
    return Method(
        id=method_id,
        name=name,
        py_name=safe_identifier(snake_case(name), frozenset({"with_streaming_response"})),
        http_method=body.get("httpMethod", "GET"),
        path=body["path"],
        flat_path=body.get("flatPath"),
        description=_text(body.get("description")),
        params=params,
        body_fields=body_fields,
        request=request,
        response=response,
        scopes=tuple(body.get("scopes") or ()),
        deprecated=bool(body.get("deprecated")),
        binary_response=response == "HttpBody",
        pagination=_pagination(params, body_fields, response, schemas),
        overlay=overlay.overlay if overlay else None,
        returns=overlay.returns if overlay else None,
        extra_params=overlay.extra_params if overlay else (),
    )


def _read_param(name: str, body: Mapping[str, Any], used: set[str]) -> Param:
    kind = body.get("type", "string")
    scalar = TypeRef(kind if kind in ("string", "integer", "number", "boolean") else "any", format=body.get("format"))
    pattern = body.get("pattern")
    return Param(
        name=name,
        py_name=_unique(safe_identifier(snake_case(name) or "param", frozenset(used)), used),
        location="path" if body.get("location") == "path" else "query",
        type=TypeRef("array", item=scalar) if body.get("repeated") else scalar,
        required=bool(body.get("required")),
        pattern=pattern,
        description=_text(body.get("description")),
        deprecated=bool(body.get("deprecated")),
        enum_values=tuple(str(v) for v in body.get("enum") or ()),
        defaults_to_project=body.get("location") == "path" and pattern == _PROJECT_PATTERN,
    )


def _pagination(
    params: tuple[Param, ...], body_fields: tuple[Field, ...], response: str | None, schemas: _Schemas
) -> Pagination | None:
    """Google's list convention: a ``pageToken`` in, a ``nextPageToken`` and one repeated field out."""
    if not response or response not in schemas.messages:
        return None
    location: Literal["query", "body"]
    if any(p.name == "pageToken" for p in params):
        location = "query"
    elif any(f.name == "pageToken" for f in body_fields):
        location = "body"
    else:
        return None
    fields = schemas.messages[response].fields
    if not any(f.name == "nextPageToken" for f in fields):
        return None
    repeated = [f for f in fields if schemas.resolve(f.type).kind == "array"]
    if len(repeated) != 1:
        return None
    item = schemas.resolve(repeated[0].type).item
    assert item is not None
    return Pagination(location, repeated[0].name, item)
