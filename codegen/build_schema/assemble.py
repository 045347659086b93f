"""One version's discovery document from its pages (and the supplement and Google's types).

What the pages do not say, and how it is filled in (schema/README.md, "Inferred"):

- request and response messages a method page shows inline have no name on the page; they
  are named after the RPC as Google names them, ``<Rpc>Request``/``<Rpc>Response``, where
  ``<Rpc>`` is the one the page gives ("Response message for EarthEngineService.ListFeatures.")
  or else the method's verb and resource (`rpc_name`);
- a custom ``POST`` whose page says "The request body must be empty" takes a request without
  fields (``operations.cancel``: ``CancelOperationRequest``, as in Google's documents), and
  "the response body is empty" (not "an empty JSON object", which is ``Empty``) is a
  response message without fields;
- an update method's request that the page shows flattened (``asset.type``, ``asset.id``
  ...; AIP-134) holds the resource, of the type the method returns, under that first name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .catalogue import Catalogue, Google
from .http_rule import parse_route
from .model import FieldDef, MessageDef, MethodDef, Page, TypeExpr, TypeRef
from .properties import enum_property, scalar_property

__all__ = ["build_document", "rpc_name"]

#: Methods whose RPC the verb-and-resource rule does not name (see `rpc_name`).
RPC_NAMES = {"projects.image.importExternal": "ImportExternalImage"}
#: Fields of Google's shared types that the pages leave out, though Earth Engine has them
#: (the JavaScript client's ``SetIamPolicyRequest`` has ``updateMask`` too): Google's
#: definition is used, with them.
GOOGLE_FIELDS_THE_PAGES_OMIT = {"SetIamPolicyRequest": {"updateMask"}}
#: AIP standard methods whose REST verb is not the RPC's.
_STANDARD_VERBS = {"patch": "Update"}


def rpc_name(method_id: str) -> str:
    """The RPC behind a method, as Google names its request and response messages:
    ``projects.table.computeFeatures`` -> ``ComputeFeatures``, ``projects.assets.copy`` ->
    ``CopyAsset``, ``projects.operations.list`` -> ``ListOperations``,
    ``projects.assets.patch`` -> ``UpdateAsset``."""
    if method_id in RPC_NAMES:
        return RPC_NAMES[method_id]
    *resources, method = method_id.split(".")
    if method != method.lower():  # already verb and noun: getPixels, computeFeatures
        return method[0].upper() + method[1:]
    noun = resources[-1][0].upper() + resources[-1][1:]
    verb = _STANDARD_VERBS.get(method, method.capitalize())
    return verb + (noun if method == "list" else noun.removesuffix("s"))


def build_document(
    version: str,
    revision: str,
    service: Mapping[str, Any],
    pages: Mapping[str, Page],
    supplement: Mapping[str, Page],
    google: Mapping[str, dict[str, Any]],
    extra_fields: Mapping[str, Sequence[FieldDef]] | None = None,
) -> dict[str, Any]:
    """The discovery document (not yet normalised) for ``version``; ``extra_fields`` adds, by
    message, fields the pages omit (``supplement/fields.yaml``)."""
    builder = _Builder(version, Catalogue(version, pages, supplement, google), google, extra_fields or {})
    return builder.document(revision, service, pages)


class _Builder:
    def __init__(
        self,
        version: str,
        catalogue: Catalogue,
        google: Mapping[str, dict[str, Any]],
        extra_fields: Mapping[str, Sequence[FieldDef]],
    ) -> None:
        self.version = version
        self.catalogue = catalogue
        self.google = google
        self.extra_fields = extra_fields
        self.messages: dict[str, MessageDef] = {}  # page, supplement and inline messages by name
        self.google_used: set[str] = set()

    # -- the document ---------------------------------------------------------------------------
    def document(self, revision: str, service: Mapping[str, Any], pages: Mapping[str, Page]) -> dict[str, Any]:
        methods = sorted((p.method for p in pages.values() if p.method is not None), key=lambda m: m.id)
        _check_listings(pages, methods)
        for page in pages.values():
            for t in page.types:
                if isinstance(t, MessageDef):
                    self.add_message(t)
        resources = _nest(methods, {m.id: self.method(m) for m in methods})
        unused = sorted(set(self.extra_fields) - set(self.messages))
        if unused:
            raise ValueError(f"supplement/fields.yaml adds fields to {unused}, which the {self.version} pages do not have")
        schemas = self.schemas()
        dangling = sorted({ref for ref in _refs([resources, schemas]) if ref not in schemas})
        if dangling:
            raise ValueError(f"references to schemas the document lacks: {dangling}")
        scopes = sorted({s for m in methods for s in m.scopes})
        described = service["auth"]["oauth2"]["scopes"]
        missing = [s for s in scopes if s not in described]
        if missing:
            raise ValueError(f"schema/sources/service.json describes no scope {missing}")
        doc = {key: value for key, value in service.items() if key != "auth"}
        doc.update(
            id=f"{service['name']}:{self.version}",
            version=self.version,
            revision=revision,
            auth={"oauth2": {"scopes": {s: described[s] for s in scopes}}},
            resources=resources,
            schemas=schemas,
        )
        return doc

    # -- methods --------------------------------------------------------------------------------
    def method(self, m: MethodDef) -> dict[str, Any]:
        try:
            route = parse_route(self.version, m.url_template)
        except ValueError as exc:
            raise ValueError(f"{m.where}: {exc}") from None
        rows = {p.name: p for p in m.path_params}
        if sorted(rows) != sorted(p.field for p in route.params):
            raise ValueError(f"{m.where}: path parameters {sorted(rows)} but the rule binds {[p.field for p in route.params]}")
        parameters: dict[str, Any] = {}
        for param in route.params:
            spec = self.parameter(rows[param.field], "path")
            spec["required"] = True
            if param.pattern:
                spec["pattern"] = param.pattern
            parameters[param.name] = spec
        for row in m.query_params:
            if row.name in parameters:
                raise ValueError(f"{row.where}: {row.name} is both a path and a query parameter")
            parameters[row.name] = self.parameter(row, "query")
        out: dict[str, Any] = {
            "id": f"earthengine.{m.id}",
            "path": route.path,
            "flatPath": route.flat_path,
            "httpMethod": m.http_method,
            "parameters": parameters,
            "parameterOrder": [p.name for p in route.params],
            "scopes": sorted(m.scopes),
        }
        if m.description:
            out["description"] = m.description
        request = self.request(m)
        if request is not None:
            out["request"] = {"$ref": request}
        out["response"] = {"$ref": self.response(m)}
        return out

    def parameter(self, row: FieldDef, location: str) -> dict[str, Any]:
        t = row.type
        if t.kind == "enum":
            assert t.ref is not None
            spec = enum_property(self.catalogue.enum(t.ref))
        elif t.kind in ("message", "map", "object", "value"):
            raise ValueError(f"{row.where}: a {location} parameter of type {t.kind}")
        else:
            spec = _scalar(t, row.where)
        spec["location"] = location
        if row.repeated:
            spec["repeated"] = True
        if row.description:
            spec["description"] = row.description
        if row.deprecated:
            spec["deprecated"] = True
        return spec

    def request(self, m: MethodDef) -> str | None:
        body = m.request
        if body.kind == "ref":
            assert body.ref is not None
            return self.ref_name(body.ref)
        if body.kind == "inline":
            name = rpc_name(m.id) + "Request"
            fields = self.unflatten(m, body.fields)
            self.add_message(MessageDef(name, f"Request message for EarthEngineService.{rpc_name(m.id)}.", fields, m.where))
            return name
        if body.kind == "none":
            if m.http_method in ("GET", "DELETE"):
                return None
            name = rpc_name(m.id) + "Request"  # a custom POST without fields: body "*" of a fieldless message
            self.add_message(MessageDef(name, f"Request message for EarthEngineService.{rpc_name(m.id)}.", (), m.where))
            return name
        raise ValueError(f"{m.where}: a request body of kind {body.kind}")

    def response(self, m: MethodDef) -> str:
        body = m.response
        if body.kind == "ref":
            assert body.ref is not None
            return self.ref_name(body.ref)
        if body.kind == "empty_message":
            return self.use_google("Empty", m.where)
        if body.kind == "http":
            return self.use_google("HttpBody", m.where)
        rpc = body.rpc or rpc_name(m.id)
        if body.rpc and body.rpc != rpc_name(m.id):
            raise ValueError(f"{m.where}: the page names the RPC {body.rpc}, the naming rule {rpc_name(m.id)}")
        name = rpc + "Response"
        if body.kind == "fieldless":
            self.add_message(MessageDef(name, f"Response message for EarthEngineService.{rpc}.", (), m.where))
        elif body.kind == "inline":
            self.add_message(MessageDef(name, body.description, body.fields, m.where))
        else:
            raise ValueError(f"{m.where}: a response body of kind {body.kind}")
        return name

    def unflatten(self, m: MethodDef, fields: Sequence[FieldDef]) -> tuple[FieldDef, ...]:
        """Fields named ``asset.type`` ... (an update request shown flattened) as one field
        ``asset`` of the type the method returns (AIP-134)."""
        out: list[FieldDef] = []
        nested: dict[str, list[FieldDef]] = {}
        for f in fields:
            head, dot, leaf = f.name.partition(".")
            if not dot:
                out.append(f)
                continue
            if head not in nested:
                nested[head] = []
                if m.response.kind != "ref" or m.response.ref is None:
                    raise ValueError(f"{f.where}: a flattened field {f.name} in a method that returns no resource")
                out.append(FieldDef(head, TypeExpr("message", ref=m.response.ref), False, "", False, f.where))
            nested[head].append(FieldDef(leaf, f.type, f.repeated, f.description, f.deprecated, f.where))
        for head, subfields in nested.items():
            holder = next(f for f in out if f.name == head)
            assert holder.type.ref is not None
            target = self.catalogue.message(holder.type.ref)
            known = {f.name for f in target.fields} if isinstance(target, MessageDef) else set()
            unknown = [f.name for f in subfields if f.name not in known]
            if unknown:
                raise ValueError(f"{m.where}: {head}.{unknown} are not fields of {target.name}")
        return tuple(out)

    # -- schemas --------------------------------------------------------------------------------
    def add_message(self, message: MessageDef) -> None:
        if message.name in self.google:
            self.check_against_google(message)
            self.use_google(message.name, message.where)
            return
        known = self.messages.get(message.name)
        if known is None:
            message = self.with_extra_fields(message)
            self.messages[message.name] = message
            for f in message.fields:  # reach what it refers to
                self.prop(f)
        elif known is not message and self.message_schema(known) != self.message_schema(self.with_extra_fields(message)):
            raise ValueError(f"two different definitions of {message.name}: {known.where} and {message.where}")

    def with_extra_fields(self, message: MessageDef) -> MessageDef:
        extra = tuple(self.extra_fields.get(message.name, ()))
        shown = [f.name for f in extra if any(g.name == f.name for g in message.fields)]
        if shown:
            raise ValueError(f"{message.where}: the pages now show {message.name}.{shown}: delete them from "
                             "schema/sources/supplement/fields.yaml")
        return replace(message, fields=(*message.fields, *extra)) if extra else message

    def check_against_google(self, message: MessageDef) -> None:
        google = sorted(self.google[message.name].get("properties", {}))
        page = sorted({f.name for f in message.fields} | GOOGLE_FIELDS_THE_PAGES_OMIT.get(message.name, set()))
        if page != google:
            raise ValueError(f"{message.where}: {message.name} has fields {page}, Google's definition {google}")

    def use_google(self, name: str, where: str) -> str:
        if name not in self.google:
            raise ValueError(f"{where}: {name} is not among Google's shared types")
        if name not in self.google_used:
            self.google_used.add(name)
            for ref in _refs(self.google[name]):
                self.use_google(ref, f"{name} (Google's)")
        return name

    def ref_name(self, ref: TypeRef) -> str:
        found = self.catalogue.message(ref)
        if isinstance(found, Google):
            return self.use_google(found.name, ref.where)
        self.add_message(found)
        return found.name

    def schemas(self) -> dict[str, Any]:
        out = {name: self.message_schema(m) for name, m in self.messages.items()}
        for name in self.google_used:
            if name in out:
                raise ValueError(f"{name} is both one of Google's shared types and defined by {self.messages[name].where}")
            out[name] = self.google[name]
        return out

    def message_schema(self, message: MessageDef) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "id": message.name,
            "type": "object",
            "properties": {f.name: self.prop(f) for f in message.fields},
        }
        if message.description:
            schema["description"] = message.description
        return schema

    def prop(self, f: FieldDef) -> dict[str, Any]:
        spec = self.type_spec(f.type, f.where)
        if f.repeated:
            spec = {"type": "array", "items": spec}
        if f.description:
            spec["description"] = f.description
        if f.deprecated:
            spec["deprecated"] = True
        return spec

    def type_spec(self, t: TypeExpr, where: str) -> dict[str, Any]:
        if t.kind == "message":
            assert t.ref is not None
            return {"$ref": self.ref_name(t.ref)}
        if t.kind == "enum":
            assert t.ref is not None
            return enum_property(self.catalogue.enum(t.ref))
        if t.kind == "map":
            assert t.value is not None
            return {"type": "object", "additionalProperties": self.type_spec(t.value, where)}
        return _scalar(t, where)


def _scalar(t: TypeExpr, where: str) -> dict[str, Any]:
    try:
        return scalar_property(t)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _refs(schema: Any) -> list[str]:
    """Every ``$ref`` inside a schema."""
    if isinstance(schema, dict):
        found = [schema["$ref"]] if isinstance(schema.get("$ref"), str) else []
        return found + [r for value in schema.values() for r in _refs(value)]
    if isinstance(schema, list):
        return [r for value in schema for r in _refs(value)]
    return []


def _nest(methods: Sequence[MethodDef], specs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """``resources`` of the document: ``projects.assets.get`` under projects > assets."""
    resources: dict[str, Any] = {}
    for m in methods:
        *path, name = m.id.split(".")
        node: dict[str, Any] = {"resources": resources}
        for part in path:
            node = node["resources"].setdefault(part, {})
            if part != path[-1]:
                node.setdefault("resources", {})
        node.setdefault("methods", {})[name] = specs[m.id]
    return resources


def _check_listings(pages: Mapping[str, Page], methods: Sequence[MethodDef]) -> None:
    """Every method a resource page lists has a page, and every method page is listed."""
    listed = {m for page in pages.values() for m in page.listed_methods}
    documented = {m.id for m in methods}
    if listed != documented:
        raise ValueError(
            f"resource pages list methods without a page: {sorted(listed - documented)}; "
            f"method pages no resource page lists: {sorted(documented - listed)}"
        )
