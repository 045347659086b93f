"""API change rules: a pure comparison of two Google API Discovery documents (rendered
by ``codegen.diff_report``; cut to the generated surface by ``codegen.surface``).

``diff(old, new)`` walks ``resources`` (nested), their ``methods`` and ``parameters``,
the global ``parameters`` and the ``schemas`` (properties, inline objects, ``items``,
``additionalProperties``, inline ``enum`` lists) and returns a :class:`Report` of
:class:`Change` records, each judged *breaking* or not for users of the generated SDK.

Breaking rules (``breaking=True``):

* removing anything: a resource, method, parameter, schema, field or enum value;
* a change of ``type``, ``format``, ``$ref``, repeatedness (``type: array`` /
  ``repeated: true`` vs not) or map-ness (``additionalProperties``) of a parameter,
  schema or field (nested ``items`` / ``additionalProperties`` included);
* a parameter becoming ``required``, or a new parameter that is required;
* a parameter's ``location`` changing (path/query);
* a ``pattern`` change, unless the pattern was removed (adding or altering one may narrow
  what is accepted, so it is treated as narrowing);
* a method's ``httpMethod``, ``path`` or ``flatPath`` changing, its request ``$ref``
  changing (including gaining or losing a request body), its response ``$ref`` changing
  or being removed, or the relative order of its existing ``parameterOrder`` entries changing.

Not breaking: adding resources, methods, optional parameters, schemas, fields or enum
values (generated enums accept unknown values in responses); a response appearing where
there was none; a parameter no longer required; a pattern removed; ``deprecated`` set or
cleared (on anything, including enum values via ``enumDeprecated``); ``readOnly`` and
``default`` changes; ``rootUrl`` / ``servicePath`` / ``batchPath`` changes. Descriptions
are ignored. Requests and responses are judged alike.

Paths: resources and methods are dotted (``projects.image.computePixels``); parameters
are ``method(param)`` (``projects.assets.list(pageSize)``), global ones ``(global).alt``;
fields are ``Schema.field`` (inline objects add ``.sub``, map values ``{}``, nested
array items ``[]``); an enum value is ``<field or parameter path>=VALUE``
(``ComputePixelsRequest.fileFormat=NPY``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ADDED", "CHANGED", "GROUPS", "GROUP_OF", "REMOVED", "Change", "Report", "diff"]

ADDED, REMOVED, CHANGED = "added", "removed", "changed"

#: Report sections, in rendering order, and the ``Change.what`` kinds each one holds.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("methods", ("resource", "method")),
    ("parameters", ("parameter",)),
    ("schemas/fields", ("api", "schema", "field")),
    ("enum values", ("enum value",)),
)
GROUP_OF = {what: index for index, (_, whats) in enumerate(GROUPS) for what in whats}
_KIND_ORDER = {REMOVED: 0, CHANGED: 1, ADDED: 2}

Doc = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """One difference between two documents, e.g. a removed method or a field's new type."""

    kind: str  # added | removed | changed
    what: str  # resource | method | parameter | schema | field | enum value | api
    path: str
    detail: str = ""
    breaking: bool = False

    def sort_key(self) -> tuple[int, str, int, str]:
        """Stable order: report group, then path, then removed/changed/added, then detail."""
        return (
            GROUP_OF.get(self.what, len(GROUPS)),
            self.path,
            _KIND_ORDER[self.kind],
            self.detail,
        )


@dataclass(frozen=True)
class Report:
    """All changes from ``old`` to ``new`` plus the identity/revision of both documents."""

    name: str
    version: str
    old_revision: str | None
    new_revision: str | None
    changes: tuple[Change, ...] = ()
    new_version: bool = False  # there was no previous document for this version

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The breaking changes only."""
        return tuple(change for change in self.changes if change.breaking)

    @property
    def has_breaking(self) -> bool:
        """True if any change is breaking."""
        return any(change.breaking for change in self.changes)

    @property
    def revision_changed(self) -> bool:
        """True if the discovery ``revision`` differs between the two documents."""
        return self.old_revision != self.new_revision

    def counts(self) -> dict[str, int]:
        """Number of changes by kind, plus ``breaking`` and ``total``."""
        kinds = Counter(change.kind for change in self.changes)
        return {
            ADDED: kinds[ADDED],
            REMOVED: kinds[REMOVED],
            CHANGED: kinds[CHANGED],
            "breaking": len(self.breaking),
            "total": len(self.changes),
        }


# --------------------------------------------------------------------------- comparison


def diff(old: Doc | None, new: Doc) -> Report:
    """Compare two discovery documents; ``old=None`` means a brand-new API version."""
    changes: list[Change] = []
    if old is None:
        changes.extend(_added_resource_tree("", {"resources": new.get("resources", {})}, top=True))
        for name in new.get("schemas", {}):
            changes.append(Change(ADDED, "schema", name, _type_summary(new["schemas"][name])))
    else:
        changes.extend(_diff_api(old, new))
        changes.extend(
            _diff_parameters("(global)", old.get("parameters", {}), new.get("parameters", {}), ".")
        )
        changes.extend(_diff_resources("", old, new))
        changes.extend(_diff_schemas(old.get("schemas", {}), new.get("schemas", {})))
    return Report(
        name=str(new.get("name", "") or (old or {}).get("name", "")),
        version=str(new.get("version", "") or (old or {}).get("version", "")),
        old_revision=None if old is None else _opt_str(old.get("revision")),
        new_revision=_opt_str(new.get("revision")),
        changes=tuple(sorted(changes, key=Change.sort_key)),
        new_version=old is None,
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _diff_api(old: Doc, new: Doc) -> Iterator[Change]:
    """Endpoint-level settings; informational (the SDK's base URL is configurable)."""
    for key in ("rootUrl", "servicePath", "batchPath"):
        if old.get(key) != new.get(key):
            yield Change(CHANGED, "api", key, f"{old.get(key)!r} → {new.get(key)!r}")


def _diff_resources(prefix: str, old: Doc, new: Doc) -> Iterator[Change]:
    """Methods of this level, then nested resources (added/removed/recursed)."""
    old_methods, new_methods = old.get("methods", {}), new.get("methods", {})
    for name in sorted(old_methods.keys() | new_methods.keys()):
        path = _join(prefix, name)
        if name not in new_methods:
            yield Change(REMOVED, "method", path, breaking=True)
        elif name not in old_methods:
            yield Change(ADDED, "method", path, _method_summary(new_methods[name]))
        else:
            yield from _diff_method(path, old_methods[name], new_methods[name])
    old_res, new_res = old.get("resources", {}), new.get("resources", {})
    for name in sorted(old_res.keys() | new_res.keys()):
        path = _join(prefix, name)
        if name not in new_res:
            yield from _removed_resource_tree(path, old_res[name])
        elif name not in old_res:
            yield from _added_resource_tree(path, new_res[name])
        else:
            yield from _diff_resources(path, old_res[name], new_res[name])


def _added_resource_tree(path: str, resource: Doc, top: bool = False) -> Iterator[Change]:
    """A new resource: one line for it and one per method inside (nested included)."""
    if not top:
        yield Change(ADDED, "resource", path)
    for name, method in resource.get("methods", {}).items():
        yield Change(ADDED, "method", _join(path, name), _method_summary(method))
    for name, sub in resource.get("resources", {}).items():
        yield from _added_resource_tree(_join(path, name), sub)


def _removed_resource_tree(path: str, resource: Doc) -> Iterator[Change]:
    """A removed resource: one line for it and one per method that disappears with it."""
    yield Change(REMOVED, "resource", path, breaking=True)
    for name in resource.get("methods", {}):
        yield Change(REMOVED, "method", _join(path, name), breaking=True)
    for name, sub in resource.get("resources", {}).items():
        yield from _removed_resource_tree(_join(path, name), sub)


def _method_summary(method: Doc) -> str:
    return f"{method.get('httpMethod', '?')} {method.get('path', '?')}"


def _ref(body: Any) -> str | None:
    return body.get("$ref") if isinstance(body, Mapping) else None


def _diff_method(path: str, old: Doc, new: Doc) -> Iterator[Change]:
    """HTTP binding, request/response bodies, deprecation, parameters and their order."""
    for key in ("httpMethod", "path", "flatPath"):
        if key == "flatPath" and old.get("path") != new.get("path"):
            continue  # same URL change as ``path``; one line is enough
        if old.get(key) != new.get(key):
            yield Change(CHANGED, "method", path, f"{key}: {old.get(key)} → {new.get(key)}", True)
    old_req, new_req = _ref(old.get("request")), _ref(new.get("request"))
    if old_req != new_req:
        yield Change(CHANGED, "method", path, f"request: {old_req} → {new_req}", True)
    old_resp, new_resp = _ref(old.get("response")), _ref(new.get("response"))
    if old_resp != new_resp:
        yield Change(
            CHANGED, "method", path, f"response: {old_resp} → {new_resp}", old_resp is not None
        )
    yield from _diff_deprecated("method", path, old, new)
    yield from _diff_parameters(path, old.get("parameters", {}), new.get("parameters", {}), "(")
    yield from _diff_parameter_order(
        path, old.get("parameterOrder", []), new.get("parameterOrder", [])
    )


def _diff_parameter_order(path: str, old: Sequence[str], new: Sequence[str]) -> Iterator[Change]:
    """Positional order matters to generated signatures: reordering kept names breaks."""
    kept_old = [name for name in old if name in new]
    kept_new = [name for name in new if name in old]
    if kept_old != kept_new:
        detail = f"parameterOrder: {', '.join(old)} → {', '.join(new)}"
        yield Change(CHANGED, "method", path, detail, True)


def _param_path(owner: str, name: str, style: str) -> str:
    return f"{owner}({name})" if style == "(" else f"{owner}.{name}"


def _diff_parameters(owner: str, old: Doc, new: Doc, style: str) -> Iterator[Change]:
    """Parameters of one method (or the global ones): added/removed, then attribute changes."""
    for name in sorted(old.keys() | new.keys()):
        path = _param_path(owner, name, style)
        if name not in new:
            yield Change(REMOVED, "parameter", path, breaking=True)
        elif name not in old:
            param = new[name]
            required = bool(param.get("required"))
            yield Change(ADDED, "parameter", path, _param_summary(param), required)
        else:
            yield from _diff_node("parameter", path, old[name], new[name])


def _param_summary(param: Doc) -> str:
    parts = [_type_summary(param)]
    if param.get("location"):
        parts.append(str(param["location"]))
    if param.get("required"):
        parts.append("required")
    return ", ".join(parts)


def _diff_schemas(old: Doc, new: Doc) -> Iterator[Change]:
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            yield Change(REMOVED, "schema", name, breaking=True)
        elif name not in old:
            yield Change(ADDED, "schema", name, _type_summary(new[name]))
        else:
            yield from _diff_node("schema", name, old[name], new[name])


# ----------------------------------------------------------------- schema/parameter nodes


def _is_array(node: Doc) -> bool:
    return node.get("type") == "array"


def _shape(node: Doc) -> dict[str, Any]:
    """The SDK-visible type of a node: repeatedness, and type/format/$ref of its element."""
    repeated = _is_array(node) or bool(node.get("repeated"))
    element = node.get("items", {}) if _is_array(node) else node
    return {
        "repeated": repeated,
        "type": element.get("type"),
        "format": element.get("format"),
        "$ref": element.get("$ref"),
        "map": "additionalProperties" in element,
    }


def _type_summary(node: Doc) -> str:
    """Short human type, e.g. ``string``, ``string:int64``, ``array of Image``, ``map of string``."""
    if not isinstance(node, Mapping):
        return "?"
    if "$ref" in node:
        return str(node["$ref"])
    if _is_array(node):
        return f"array of {_type_summary(node.get('items', {}))}"
    if isinstance(node.get("additionalProperties"), Mapping):
        return f"map of {_type_summary(node['additionalProperties'])}"
    text = str(node.get("type", "any"))
    if node.get("format"):
        text += f":{node['format']}"
    if node.get("repeated"):
        text = f"repeated {text}"
    return text


def _diff_deprecated(what: str, path: str, old: Doc, new: Doc) -> Iterator[Change]:
    was, now = bool(old.get("deprecated")), bool(new.get("deprecated"))
    if was != now:
        yield Change(CHANGED, what, path, "deprecated" if now else "no longer deprecated")


def _diff_node(what: str, path: str, old: Doc, new: Doc) -> Iterator[Change]:
    """Compare a parameter, schema or field node, then recurse into its element/members."""
    old_shape, new_shape = _shape(old), _shape(new)
    for key in ("repeated", "type", "format", "$ref"):
        if old_shape[key] != new_shape[key]:
            yield Change(CHANGED, what, path, f"{key}: {old_shape[key]} → {new_shape[key]}", True)
    if old_shape["map"] != new_shape["map"]:
        detail = "became a map" if new_shape["map"] else "no longer a map"
        yield Change(CHANGED, what, path, f"additionalProperties: {detail}", True)
    yield from _diff_flags(what, path, old, new)
    yield from _diff_deprecated(what, path, old, new)

    old_el = old.get("items", {}) if _is_array(old) else old
    new_el = new.get("items", {}) if _is_array(new) else new
    if old_el is not old and new_el is not new:
        # Deprecation/enum live on the element for arrays; flags on the array node itself.
        yield from _diff_deprecated(what, path, old_el, new_el)
    yield from _diff_enum(path, old_el, new_el)
    member = "field"
    if _is_array(old_el) and _is_array(new_el):
        yield from _diff_node(member, f"{path}[]", old_el, new_el)
    old_map, new_map = old_el.get("additionalProperties"), new_el.get("additionalProperties")
    if isinstance(old_map, Mapping) and isinstance(new_map, Mapping):
        yield from _diff_node(member, f"{path}{{}}", old_map, new_map)
    yield from _diff_properties(path, old_el.get("properties", {}), new_el.get("properties", {}))


def _diff_flags(what: str, path: str, old: Doc, new: Doc) -> Iterator[Change]:
    """required, location, pattern, readOnly and default."""
    was, now = bool(old.get("required")), bool(new.get("required"))
    if was != now:
        yield Change(CHANGED, what, path, "required" if now else "no longer required", now)
    if old.get("location") != new.get("location"):
        detail = f"location: {old.get('location')} → {new.get('location')}"
        yield Change(CHANGED, what, path, detail, True)
    old_pat, new_pat = old.get("pattern"), new.get("pattern")
    if old_pat != new_pat:
        detail = f"pattern: {old_pat} → {new_pat}"
        yield Change(CHANGED, what, path, detail, new_pat is not None)
    was, now = bool(old.get("readOnly")), bool(new.get("readOnly"))
    if was != now:
        yield Change(CHANGED, what, path, "readOnly" if now else "no longer readOnly")
    if old.get("default") != new.get("default"):
        yield Change(CHANGED, what, path, f"default: {old.get('default')} → {new.get('default')}")


def _diff_properties(owner: str, old: Doc, new: Doc) -> Iterator[Change]:
    for name in sorted(old.keys() | new.keys()):
        path = f"{owner}.{name}"
        if name not in new:
            yield Change(REMOVED, "field", path, breaking=True)
        elif name not in old:
            yield Change(ADDED, "field", path, _type_summary(new[name]))
        else:
            yield from _diff_node("field", path, old[name], new[name])


def _enum_values(node: Doc) -> dict[str, bool]:
    """Inline enum values mapped to their ``enumDeprecated`` flag."""
    values = node.get("enum") or []
    flags = node.get("enumDeprecated") or []
    return {str(v): bool(flags[i]) if i < len(flags) else False for i, v in enumerate(values)}


def _diff_enum(path: str, old: Doc, new: Doc) -> Iterator[Change]:
    old_values, new_values = _enum_values(old), _enum_values(new)
    if not old_values and not new_values:
        return
    for value in sorted(old_values.keys() | new_values.keys()):
        value_path = f"{path}={value}"
        if value not in new_values:
            yield Change(REMOVED, "enum value", value_path, breaking=True)
        elif value not in old_values:
            yield Change(ADDED, "enum value", value_path)
        elif old_values[value] != new_values[value]:
            detail = "deprecated" if new_values[value] else "no longer deprecated"
            yield Change(CHANGED, "enum value", value_path, detail)
