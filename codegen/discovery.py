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
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .ir import (
    Api,
    EnumType,
    EnumValue,
    Field,
    MediaUpload,
    Message,
    Method,
    Pagination,
    Param,
    Resource,
    TypeRef,
)
from .naming import constant_name, field_name, pascal_case, python_name, safe_identifier, snake_case

__all__ = ["GLOBAL_PARAMS", "ROOT_RESOURCE", "DiscoveryError", "Options", "OverlayBinding", "load_api"]

# Keyword arguments every generated method takes besides the API's own.
RESERVED_KWARGS = frozenset({"self", "timeout", "extra_headers", "extra_query", "extra_body"})
#: A request-body field whose name a parameter or a per-call option already has gets this
#: prefix as its keyword argument (``body_name``, ``body_timeout``); see ``_body_field_name``.
BODY_FIELD_PREFIX = "body_"
#: ``google.protobuf.Empty`` as discovery documents name it: a method answering it returns
#: None (as Google's GAPIC clients do); other schemas without fields stay messages, since a
#: fieldless response may gain fields.
EMPTY_SCHEMAS = frozenset({"Empty", "GoogleProtobufEmpty"})
#: The keyword argument of a method whose whole request body is a map (``additionalProperties``).
BODY_ARGUMENT = "body"
_PROJECT_PATTERN = "^projects/[^/]+$"
# Global ("system") parameters every method accepts, exposed as typed keyword arguments.
# The rest are the transport's business (alt, uploadType, upload_protocol, callback,
# $.xgafv) or credentials, which never belong in a call (key, access_token, oauth_token).
GLOBAL_PARAMS = ("fields", "prettyPrint", "quotaUser")
# Attribute names a resource or client class already has.
_RESOURCE_ATTRIBUTES = frozenset({"with_streaming_response"})
_CLIENT_ATTRIBUTES = frozenset({"close", "project", "base_url", "timeout", "max_retries"})
#: The attribute of the client that holds methods declared at the top level of a document.
ROOT_RESOURCE = "root"
#: Names ``types.py`` needs for itself (imports, datamodel-code-generator's root model). A
#: schema named like one of them gets the suffix ``Model`` (gmail's ``Message`` is
#: ``types.MessageModel``), then a number if that is taken too.
RESERVED_TYPE_NAMES = frozenset(
    {
        "annotations", "Any", "AwareDatetime", "Base64Bytes", "BaseModel", "ConfigDict", "Date", "Dict", "Double",
        "Duration", "Enum", "Field", "FieldMask", "Int64", "List", "Literal", "Message", "Model", "OpenEnum",
        "Optional", "RootModel", "Timestamp", "UInt64", "Union",
    }
)
_MEDIA_SIZE_UNITS = {"KB": 10, "MB": 20, "GB": 30, "TB": 40}


class DiscoveryError(ValueError):
    """The document is not a discovery document we can read; the message says where."""


def _typed_errors(load: Callable[..., Api]) -> Callable[..., Api]:
    """Any malformed document is a :class:`DiscoveryError` saying what was wrong, never a
    bare KeyError/TypeError from deep inside the reader."""

    @functools.wraps(load)
    def wrapped(doc: Mapping[str, Any], *args: Any, **kwargs: Any) -> Api:
        options = kwargs.get("options", args[0] if args else None)
        source = options.source if isinstance(options, Options) else ""
        if not isinstance(doc, Mapping):
            raise DiscoveryError(_one_line(source, f"a discovery document is a JSON object, not {type(doc).__name__}"))
        try:
            return load(doc, *args, **kwargs)
        except DiscoveryError as exc:
            raise DiscoveryError(_one_line(source, str(exc))) from None
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError) as exc:
            raise DiscoveryError(
                _one_line(source, f"malformed discovery document ({type(exc).__name__}: {exc})")
            ) from exc

    return wrapped


def _one_line(source: str, message: str) -> str:
    """``source: message`` on one line (the document named once)."""
    message = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    return message if not source or message.startswith(source + ":") else f"{source}: {message}"


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
    """Build the IR for ``doc``, keeping only the methods asked for and what they reach.

    Python names that would collide are renamed deterministically (see ``_Reader``), and
    every method the document declares (and ``include_methods`` selects) must be
    reachable on the client, or generation fails (``check_reachable``).
    """
    if doc.get("kind") != "discovery#restDescription":
        raise DiscoveryError("not a discovery document: 'kind' is not 'discovery#restDescription'")
    doc = _rename_reserved_schemas(doc)
    schemas = _Schemas(doc.get("schemas") or {}, options.enum_names)
    reader = _Reader(doc, schemas, options)
    resources = reader.resources()
    roots: list[TypeRef] = []
    for resource in resources:
        for r in resource.walk():
            for m in r.methods:
                roots.extend(TypeRef("message", name=n) for n in (m.request, m.response) if n)
    messages, enums = schemas.reachable(roots)
    scopes = tuple(sorted(((doc.get("auth") or {}).get("oauth2") or {}).get("scopes") or {}))
    api = Api(
        id=doc["id"],
        name=doc["name"],
        version=doc["version"],
        revision=str(doc.get("revision", "")),
        title=doc.get("title", doc["name"]),
        description=_text(doc.get("description")),
        root_url=doc.get("rootUrl", ""),
        service_path=doc.get("servicePath", ""),
        base_url=doc.get("baseUrl", ""),
        batch_path=doc.get("batchPath", ""),
        fully_encode_reserved_expansion=bool(doc.get("fullyEncodeReservedExpansion", False)),
        data_wrapper="dataWrapper" in (doc.get("features") or ()),
        scopes=scopes,
        resources=resources,
        messages=messages,
        enums=enums,
        source=options.source,
    )
    check_reachable(api, reader.expected_ids)
    return api


def _rename_reserved_schemas(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """``doc`` with schemas named in ``RESERVED_TYPE_NAMES`` renamed, ``$ref``s included."""
    raw = doc.get("schemas") or {}
    taken = set(raw) | RESERVED_TYPE_NAMES
    renamed = {name: _unique(name + "Model", taken) for name in sorted(raw) if name in RESERVED_TYPE_NAMES}
    if not renamed:
        return doc

    def rewrite(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: (renamed.get(v, v) if k == "$ref" and isinstance(v, str) else rewrite(v)) for k, v in value.items()
            }
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        return value

    out = dict(rewrite(doc))
    out["schemas"] = {renamed.get(k, k): v for k, v in out["schemas"].items()}
    return out


def check_reachable(api: Api, expected_ids: Iterable[str]) -> None:
    """Fail if a method of the document would not be reachable on the generated client:
    missing from the IR, or hidden by another attribute or class of the same name."""
    problems: list[str] = []
    found = {m.id for m in api.all_methods() if not m.media_download}
    problems.extend(f"{i}: not generated" for i in sorted(set(expected_ids) - found))
    classes: dict[str, str] = {}
    spec_names: dict[str, str] = {}

    def attributes(owner: str, names: list[tuple[str, str]], reserved: frozenset[str]) -> None:
        seen: dict[str, str] = {}
        for py_name, what in names:
            if py_name in reserved or py_name in seen or not py_name.isidentifier():
                problems.append(f"{owner}.{py_name}: {what} is hidden by {seen.get(py_name, 'a built-in attribute')}")
            seen[py_name] = what

    attributes("Client", [(r.py_name, r.name) for r in api.resources], _CLIENT_ATTRIBUTES)
    for r in api.all_resources():
        if r.class_name in classes:
            problems.append(f"class {r.class_name}Resource: both {classes[r.class_name]} and {r.name}")
        classes[r.class_name] = r.name
        names = [(m.py_name, m.id) for m in r.methods] + [(c.py_name, c.name) for c in r.resources]
        attributes(r.class_name + "Resource", names, _RESOURCE_ATTRIBUTES)
        for m in r.methods:
            if m.spec_name in spec_names:
                problems.append(f"{m.spec_name}: both {spec_names[m.spec_name]} and {m.id}")
            spec_names[m.spec_name] = m.id
    if problems:
        raise DiscoveryError("methods would be unreachable on the client:\n  " + "\n  ".join(problems))


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
        elif "$ref" in schema:  # another name for a schema
            self.aliases[name] = self.type_of(schema, name, "")
        elif schema.get("type", "object") == "object" and "additionalProperties" not in schema:
            self._add_message(name, schema)
        else:
            self.aliases[name] = self.type_of(schema, name, "")

    def inline(self, base: str, schema: Mapping[str, Any], where: str) -> str:
        """A method's inline ``request``/``response`` schema as a new top-level schema named
        ``base`` (or ``base2`` ...): an object is a message, anything else (a map, a list)
        an alias, as if the document had declared it under ``schemas``."""
        if "type" not in schema and not {"properties", "additionalProperties", "enum", "items"} & set(schema):
            raise DiscoveryError(f"{where}: an inline schema without a type")
        name = self._fresh(base)
        self._read_top(name, schema)
        return name

    def _fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}{n}"
        self._taken.add(name)
        return name

    def _add_message(self, name: str, schema: Mapping[str, Any]) -> None:
        fields = []
        properties = schema.get("properties") or {}
        used: set[str] = set()
        for prop, body in sorted(properties.items()):
            py_name = field_name(prop, used | (set(properties) - {prop}) | set(self.raw))
            used.add(py_name)
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
                raise DiscoveryError(f"schemas.{owner}.properties.{prop}: an array without 'items'")
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
        raise DiscoveryError(f"schemas.{owner}.properties.{prop}: unknown type {kind!r}")

    def _hoist_enum(self, schema: Mapping[str, Any], owner: str, prop: str) -> str:
        values = tuple(str(v) for v in schema["enum"])
        name = self._enum_by_values.get(values)
        if name is None:
            name = self._fresh(owner + pascal_case(prop))
        if name not in self.enums:
            self._add_enum(name, schema)
        return name

    def resolve(self, t: TypeRef, chain: tuple[str, ...] = ()) -> TypeRef:
        """Follow references to non-object schemas to the type they stand for. A chain of
        such references that comes back to itself (``A`` is a list of ``B``, ``B`` is
        ``A``) stands for no type and is refused, naming the schemas."""
        if t.kind == "message" and t.name in self.aliases:
            if t.name in chain:
                loop = " -> ".join((*chain[chain.index(t.name) :], t.name))
                raise DiscoveryError(
                    f"schemas.{t.name}: the $ref cycle {loop} passes through no object schema, so no type stands for it"
                )
            return self.resolve(self.aliases[t.name], (*chain, t.name))
        if t.kind == "message" and t.name not in self.messages and t.name not in self.enums:
            where = f"schemas.{chain[-1]}" if chain else "a $ref"
            raise DiscoveryError(f"{where}: $ref to unknown schema {t.name!r}")
        if t.kind == "message" and t.name in self.enums:
            return TypeRef("enum", name=t.name)
        if t.item is not None:
            return TypeRef(t.kind, t.format, t.name, self.resolve(t.item, chain))
        return t

    def _resolve_at(self, t: TypeRef, owner: str, prop: str) -> TypeRef:
        """``resolve``, an unknown ``$ref`` named by where it is (``schemas.A.properties.b``)."""
        try:
            return self.resolve(t)
        except DiscoveryError as exc:
            text = str(exc)
            if not text.startswith("a $ref"):
                raise
            raise DiscoveryError(f"schemas.{owner}.properties.{prop}{text[len('a $ref') :]}") from None

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
                    Field(
                        f.name,
                        f.py_name,
                        self._resolve_at(f.type, message.name, f.name),
                        f.description,
                        f.read_only,
                        f.deprecated,
                    )
                    for f in message.fields
                )
                seen_messages[t.name] = Message(message.name, fields, message.description, message.deprecated)
                stack.extend(f.type for f in fields)
        return (
            tuple(seen_messages[n] for n in sorted(seen_messages)),
            tuple(self.enums[n] for n in sorted(seen_enums)),
        )


def _unique(name: str, used: set[str], suffix: str = "") -> str:
    """``name``, or with ``suffix`` (default: a number from 2) appended until unused."""
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = candidate + suffix if suffix else f"{name}{n}"
    used.add(candidate)
    return candidate


def check_pattern(pattern: Any, where: str) -> None:
    """Refuse a ``pattern`` Python's ``re`` cannot compile: every call giving that parameter
    would fail (google-api-python-client's too)."""
    if pattern is None:
        return
    if not isinstance(pattern, str):
        raise DiscoveryError(f"{where}: not a string but {type(pattern).__name__}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise DiscoveryError(f"{where}: {pattern!r} is not a valid regular expression ({exc})") from None


def _free(name: str, used: set[str]) -> str:
    """``name``, with a trailing ``_`` appended while it is in ``used`` (then added to it)."""
    while name in used:
        name += "_"
    used.add(name)
    return name


def _media_size(value: str) -> int | None:
    """``"10GB"`` -> bytes, as google-api-python-client reads ``maxSize``; None: no limit."""
    value = value.strip()
    if len(value) < 2:
        return None
    shift = _MEDIA_SIZE_UNITS.get(value[-2:].upper())
    size = int(value[:-2]) << shift if shift is not None else int(value)
    return size or None


class _Reader:
    """The resource tree of one document, named for Python.

    Renaming, in document order (names sorted), so the same document always gives the
    same names: within a class, methods are named first, then their ``_media`` twins, then
    child resources; a name already taken (or a built-in attribute) gets a trailing ``_``
    until it is free (``accounts`` -> ``accounts_``). Resource classes are named by their
    path (``projects.locations`` -> ``ProjectsLocations``); a class name already taken
    gets a number (``ProjectsLocations2``). Methods declared at the top of the document
    live on ``client.root``.
    """

    def __init__(self, doc: Mapping[str, Any], schemas: _Schemas, options: Options) -> None:
        self.doc = doc
        self.api_name: str = doc["name"]
        self.schemas = schemas
        self.options = options
        self.classes: set[str] = set()
        self.expected_ids: list[str] = []
        raw_globals = doc.get("parameters") or {}
        self.global_params = {name: raw_globals[name] for name in GLOBAL_PARAMS if name in raw_globals}

    def resources(self) -> tuple[Resource, ...]:
        used = set(_CLIENT_ATTRIBUTES)
        found = []
        if self.doc.get("methods"):
            found.append(self._resource(ROOT_RESOURCE, {"methods": self.doc["methods"]}, (), used))
        for name, body in sorted((self.doc.get("resources") or {}).items()):
            found.append(self._resource(name, body, (name,), used))
        return tuple(r for r in found if r is not None)

    def _resource(
        self, name: str, body: Mapping[str, Any], path: tuple[str, ...], used: set[str]
    ) -> Resource | None:
        methods = self._methods(body.get("methods") or {}, path)
        taken = set(_RESOURCE_ATTRIBUTES)
        methods = tuple(replace(m, py_name=_unique(m.py_name, taken, "_")) for m in methods)
        children = []
        for child_name, child_body in sorted((body.get("resources") or {}).items()):
            child = self._resource(child_name, child_body, (*path, child_name), taken)
            if child is not None:
                children.append(child)
        if not methods and not children:
            return None
        class_name = _unique("".join(pascal_case(p) for p in path) or "Root", self.classes)
        return Resource(
            name=name,
            py_name=_unique(safe_identifier(snake_case(name)), used, "_"),
            class_name=class_name,
            methods=methods,
            resources=tuple(children),
        )

    def _methods(self, raw: Mapping[str, Any], path: tuple[str, ...]) -> tuple[Method, ...]:
        methods: list[Method] = []
        twins: list[Method] = []
        for name, body in sorted(raw.items()):
            method_id = body.get("id") or ".".join((self.api_name, *path, name))
            short_id = method_id[len(self.api_name) + 1 :] if method_id.startswith(self.api_name + ".") else method_id
            if self.options.include_methods and short_id not in self.options.include_methods:
                continue
            self.expected_ids.append(method_id)
            where = "".join(f"resources.{part}." for part in path) + f"methods.{name}"
            where = f"{self.options.source or self.api_name}: {where}"  # for errors: where in the document
            method = self._method(name, body, method_id, self.options.overlays.get(short_id), where)
            methods.append(method)
            if body.get("supportsMediaDownload") and not method.binary_response:
                twins.append(
                    replace(
                        method,
                        py_name=method.py_name + "_media",
                        media_download=True,
                        pagination=None,
                        media_upload=None,
                        description=f"{method.description} Returns the media (``alt=media``) as bytes.".strip(),
                    )
                )
        return (*methods, *twins)

    def _method(
        self,
        name: str,
        body: Mapping[str, Any],
        method_id: str,
        overlay: OverlayBinding | None,
        where: str = "",
    ) -> Method:
        schemas = self.schemas
        used: set[str] = set(RESERVED_KWARGS)
        raw_params = body.get("parameters") or {}
        self._check_params(body, raw_params, where or method_id)
        base = "".join(pascal_case(part) for part in method_id.split(".")[1:]) or pascal_case(name)
        request = self._schema_name(body, "request", base + "Request", method_id, where)
        response = self._schema_name(body, "response", base + "Response", method_id, where)
        req_type = schemas.resolve(TypeRef("message", name=request)) if request else None
        if req_type is not None and req_type.kind == "message":
            request = req_type.name  # a schema that is another's name: the class it names
        request_type = None
        if req_type is not None and req_type.kind == "map":  # the whole body is a map: one ``body`` argument
            used.add(BODY_ARGUMENT)
            request_type = req_type
        elif req_type is not None and not (req_type.kind == "message" and req_type.name in schemas.messages):
            # never seen in a real document; refuse rather than drop the body
            raise DiscoveryError(f"{where or method_id}.request: {request!r} is neither an object nor a map schema")
        media_upload = None
        if body.get("mediaUpload"):
            upload = body["mediaUpload"]
            media_upload = MediaUpload(
                path="upload/" + self.doc.get("servicePath", "") + body["path"],
                max_size=_media_size(str(upload.get("maxSize", ""))),
                accept=tuple(upload.get("accept") or ()),
            )
            used.update(("media_body", "media_mime_type"))
        # The method's own arguments are reserved first, then its parameters are named, then
        # the global parameters, then the body's fields: a body field never takes a
        # parameter's name (see BODY_FIELD_PREFIX).
        order = list(body.get("parameterOrder") or [])
        names = order + sorted(p for p in raw_params if p not in order)
        params = [_read_param(p, raw_params[p], used) for p in names if p in raw_params]
        own = {p.name for p in params}
        global_params = [
            _read_param(g, self.global_params[g], used)
            for g in GLOBAL_PARAMS
            if g in self.global_params and g not in own
        ]
        body_fields: tuple[Field, ...] = ()
        if req_type is not None and req_type.kind == "message" and req_type.name in schemas.messages:
            body_fields = tuple(
                Field(
                    f.name,
                    _body_field_name(f.py_name, used),
                    schemas.resolve(f.type),
                    f.description,
                    f.read_only,
                    f.deprecated,
                )
                for f in schemas.messages[req_type.name].fields
                if not f.read_only
            )
        if overlay:
            for extra in overlay.extra_params:
                if extra[0] in used:
                    raise DiscoveryError(f"{method_id}: overlay parameter {extra[0]!r} clashes with the API's")
                used.add(extra[0])
        params.extend(global_params)

        response_type = None
        empty_response = False
        if response:
            resolved = schemas.resolve(TypeRef("message", name=response))
            if resolved.kind == "message":
                response = resolved.name
            if not (resolved.kind == "message" and resolved.name in schemas.messages):
                response_type = resolved
            elif response in EMPTY_SCHEMAS and not schemas.messages[response].fields:
                empty_response = True  # google.protobuf.Empty: nothing to return
        return Method(
            id=method_id,
            name=name,
            py_name=safe_identifier(snake_case(name) or "call"),
            http_method=body.get("httpMethod", "GET"),
            path=body["path"],
            flat_path=body.get("flatPath"),
            description=_text(body.get("description")),
            params=tuple(params),
            body_fields=body_fields,
            request=request,
            response=response,
            scopes=tuple(body.get("scopes") or ()),
            deprecated=bool(body.get("deprecated")),
            binary_response=response == "HttpBody",
            response_type=response_type,
            request_type=request_type,
            empty_response=empty_response,
            pagination=_pagination(tuple(params), body_fields, response, schemas),
            overlay=overlay.overlay if overlay else None,
            returns=overlay.returns if overlay else None,
            extra_params=overlay.extra_params if overlay else (),
            api_version=body.get("apiVersion") or None,
            media_upload=media_upload,
        )

    def _check_params(self, body: Mapping[str, Any], raw_params: Mapping[str, Any], where: str) -> None:
        """Refuse what would generate code that fails at call time: a path placeholder without
        a path parameter (or declared as a query parameter), a path parameter the path does
        not use, a location other than path or query, a pattern Python cannot compile."""
        placeholders = re.findall(r"{\+?([^}]*)}", body["path"])
        for p in placeholders:
            if p not in raw_params:
                raise DiscoveryError(f"{where}.path: the placeholder {{{p}}} is not a declared parameter")
            if raw_params[p].get("location") != "path":
                raise DiscoveryError(
                    f"{where}.parameters.{p}: the path has {{{p}}}, but the parameter's location is "
                    f"{raw_params[p].get('location')!r}, not 'path'"
                )
        for p, spec in raw_params.items():
            if not isinstance(spec, Mapping):
                raise DiscoveryError(f"{where}.parameters.{p}: not an object but {type(spec).__name__}")
            location = spec.get("location")
            if location not in ("path", "query"):
                raise DiscoveryError(f"{where}.parameters.{p}: location {location!r} (only 'path' and 'query' exist)")
            if location == "path" and p not in placeholders:
                raise DiscoveryError(
                    f"{where}.parameters.{p}: a path parameter that the path {body['path']!r} does not use"
                )
            check_pattern(spec.get("pattern"), f"{where}.parameters.{p}.pattern")

    def _schema_name(self, body: Mapping[str, Any], key: str, synthesised: str, method_id: str, where: str) -> str | None:
        """The schema name of a method's ``request`` or ``response``: its ``$ref``, or for an
        inline schema a new top-level schema named ``synthesised`` (made unique), so that
        no method loses its body or result. Anything else is refused, naming the place."""
        spec = body.get(key)
        if spec is None:
            return None
        if not isinstance(spec, Mapping):
            raise DiscoveryError(f"{where or method_id}.{key}: not a schema but {type(spec).__name__}")
        if "$ref" in spec:
            return str(spec["$ref"])
        if not spec:
            raise DiscoveryError(f"{where or method_id}.{key}: an empty schema (no $ref, no type)")
        return self.schemas.inline(synthesised, spec, f"{where or method_id}.{key}")


def _body_field_name(attribute: str, used: set[str]) -> str:
    """The keyword argument of a request-body field: the message attribute's name (see
    ``codegen.naming.field_name``), or, when a path or query parameter or a per-call option
    (``timeout``, ``extra_body``, ``self`` ...) already has that name, the name with
    ``BODY_FIELD_PREFIX`` (``projects.updateConfig``'s body ``name`` is ``body_name``;
    ``operations.wait``'s body ``timeout`` is ``body_timeout``); then a trailing ``_``
    while even that is taken."""
    return _free(BODY_FIELD_PREFIX + attribute if attribute in used else attribute, used)


def _read_param(name: str, body: Mapping[str, Any], used: set[str]) -> Param:
    kind = body.get("type", "string")
    scalar = TypeRef(kind if kind in ("string", "integer", "number", "boolean") else "any", format=body.get("format"))
    pattern = body.get("pattern")
    return Param(
        name=name,
        py_name=_free(python_name(name, "param"), used),
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
    """Google's list convention: a ``pageToken`` in, a ``nextPageToken`` out. The items are
    the one repeated field of the response, or its one repeated field of messages (beside
    lists of strings such as ``unreachable``); otherwise the pager yields whole pages."""
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
    if len(repeated) > 1:
        repeated = [f for f in repeated if (schemas.resolve(f.type).item or TypeRef("any")).kind == "message"]
    if len(repeated) != 1:
        return Pagination(location, None, None)
    item = schemas.resolve(repeated[0].type).item
    assert item is not None
    return Pagination(location, repeated[0].name, item)
