"""Where the built documents (the reference pages) and the two other machine-readable
descriptions of the API disagree.

- **js**: the API client generated into ``@google/earthengine`` (``js_client.py``): method
  ids, HTTP methods, paths and path patterns, response classes, every message's field
  names, which fields are messages, lists, maps and enums, and enum values. It is one
  client for every version, so each version's document is compared with it.
- **fixture**: the v1alpha discovery document earthengine-api tests with (2020): method
  ids, HTTP methods, paths, parameters.

Each disagreement is one line (``Disagreement.line``) naming the source, what differs and
the versions it is seen in; ``schema/sources/crosscheck_allowlist.yaml`` lists those that
are expected, each with the reason, and the test fails on any other (and on an entry
that no longer matches anything).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import sources

__all__ = ["ALLOWLIST", "Disagreement", "disagreements", "load_allowlist"]

ALLOWLIST = sources.SOURCES / "crosscheck_allowlist.yaml"


@dataclass(frozen=True, order=True)
class Disagreement:
    source: str  # "js" or "fixture"
    what: str  # "method projects.assets.getLinked: only in js"
    versions: tuple[str, ...]

    @property
    def line(self) -> str:
        return f"{self.source}: {self.what}"


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, str]:
    """Allowed disagreement line -> the reason it is allowed."""
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("allowed") or []
    out: dict[str, str] = {}
    for entry in entries:
        line, reason = entry.get("disagreement"), entry.get("reason")
        if not line or not reason:
            raise ValueError(f"{path}: every entry needs a disagreement and a reason: {entry!r}")
        if line in out:
            raise ValueError(f"{path}: listed twice: {line}")
        out[line] = str(reason)
    return out


def disagreements(
    documents: Mapping[str, dict[str, Any]],
    js: Mapping[str, Any] | None = None,
    fixture: Mapping[str, Any] | None = None,
) -> list[Disagreement]:
    """Every disagreement between ``documents`` (version -> built document) and the sources."""
    if js is None:
        js = json.loads(sources.JS_EXTRACT.read_text(encoding="utf-8"))
    if fixture is None:
        fixture = json.loads(sources.FIXTURE.read_text(encoding="utf-8"))
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for version, doc in documents.items():
        for what in _against_js(doc, js):
            seen["js", what].append(version)
        if version == fixture.get("version"):
            for what in _against_fixture(doc, fixture):
                seen["fixture", what].append(version)
    for what in _js_against_fixture(js, fixture):
        seen["js-fixture", what].append(str(fixture.get("version")))
    return sorted(Disagreement(source, what, tuple(versions)) for (source, what), versions in seen.items())


# -- documents ----------------------------------------------------------------------------------
def _methods(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(resource: Mapping[str, Any]) -> None:
        for spec in resource.get("methods", {}).values():
            out[spec["id"].removeprefix("earthengine.")] = spec
        for child in resource.get("resources", {}).values():
            walk(child)

    walk(doc)
    return out


def _unversioned(path: str) -> str:
    return re.sub(r"^v\w+/", "", path)


def _enum_of(prop: Mapping[str, Any]) -> list[str] | None:
    for spec in (prop, prop.get("items", {}), prop.get("additionalProperties", {})):
        if isinstance(spec, Mapping) and "enum" in spec:
            return list(spec["enum"])
    return None


# -- pages vs the JavaScript client -------------------------------------------------------------
def _against_js(doc: Mapping[str, Any], js: Mapping[str, Any]) -> Iterator[str]:
    ours = _methods(doc)
    theirs = {k.removeprefix("earthengine."): v for k, v in js["methods"].items()}
    for mid in sorted(set(ours) - set(theirs)):
        yield f"method {mid}: only in the pages"
    for mid in sorted(set(theirs) - set(ours)):
        yield f"method {mid}: only in js"
    for mid in sorted(set(ours) & set(theirs)):
        yield from _method_against_js(mid, ours[mid], theirs[mid])
    query = set(js["queryParameters"])
    for mid, spec in sorted(ours.items()):
        for name, param in sorted(spec.get("parameters", {}).items()):
            if param.get("location") == "query" and name not in query:
                yield f"query parameter {mid}({name}): unknown to js"
    yield from _query_enums_against_js(ours, js)
    schemas = doc["schemas"]
    for name in sorted(schemas):
        cls = js["classes"].get(name)
        if cls is None:
            yield f"schema {name}: not a js class"
        else:
            yield from _schema_against_js(name, schemas[name], cls, js["enums"])


def _method_against_js(mid: str, ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> Iterator[str]:
    if ours["httpMethod"] != theirs["httpMethod"]:
        yield f"method {mid}: httpMethod {ours['httpMethod']} in the pages, {theirs['httpMethod']} in js"
    if _unversioned(ours["path"]) != theirs["path"]:
        yield f"method {mid}: path {_unversioned(ours['path'])} in the pages, {theirs['path']} in js"
    params = ours.get("parameters", {})
    for name, pattern in sorted(theirs["patterns"].items()):
        if params.get(name, {}).get("pattern") != pattern:
            yield f"method {mid}: pattern of {name} {params.get(name, {}).get('pattern')} in the pages, {pattern} in js"
    response = ours.get("response", {}).get("$ref")
    if response != theirs["response"]:
        yield f"method {mid}: response {response} in the pages, {theirs['response']} in js"
    if ("request" in ours) != theirs["request"]:
        yield f"method {mid}: request body {'yes' if 'request' in ours else 'no'} in the pages, " + (
            "yes in js" if theirs["request"] else "no in js"
        )


def _query_enums_against_js(ours: Mapping[str, Mapping[str, Any]], js: Mapping[str, Any]) -> Iterator[str]:
    """``ProjectsAssetsApiClientViewEnum`` holds the values of ``view`` in projects.assets.*."""
    for mid, spec in sorted(ours.items()):
        resource = "".join(part[0].upper() + part[1:] for part in mid.split(".")[:-1])
        for name, param in sorted(spec.get("parameters", {}).items()):
            values = _enum_of(param)
            if param.get("location") != "query" or values is None:
                continue
            enum = f"{resource}ApiClient{name[0].upper()}{name[1:]}Enum"
            if enum not in js["enums"]:
                yield f"query parameter {mid}({name}): js has no {enum}"
                continue
            theirs = js["enums"][enum]
            for value in [v for v in values if v not in theirs]:
                yield f"enum value {mid}({name})={value}: only in the pages"
            for value in [v for v in theirs if v not in values]:
                yield f"enum value {mid}({name})={value}: only in js"


def _schema_against_js(
    name: str, schema: Mapping[str, Any], cls: Mapping[str, Any], enums: Mapping[str, list[str]]
) -> Iterator[str]:
    props = schema.get("properties", {})
    keys = set(cls["keys"])
    for field in sorted(set(props) - keys):
        yield f"field {name}.{field}: only in the pages"
    for field in sorted(keys - set(props)):
        yield f"field {name}.{field}: only in js"
    for field in sorted(keys & set(props)):
        prop = props[field]
        kind = _kind(prop)
        if field in cls.get("objects", {}):
            expected = ("message", cls["objects"][field])
        elif field in cls.get("arrays", {}):
            expected = ("array", cls["arrays"][field])
        elif field in cls.get("objectMaps", {}):
            expected = ("map", cls["objectMaps"][field])
        else:
            expected = ("plain", None)
        if kind != expected:
            yield f"field {name}.{field}: {_show(kind)} in the pages, {_show(expected)} in js"
        if field in cls.get("enums", {}):
            values = _enum_of(prop) or []
            theirs = enums.get(cls["enums"][field], [])
            for value in [v for v in values if v not in theirs]:
                yield f"enum value {name}.{field}={value}: only in the pages"
            for value in [v for v in theirs if v not in values]:
                yield f"enum value {name}.{field}={value}: only in js"
        elif _enum_of(prop) is not None:
            yield f"field {name}.{field}: an enum in the pages, not in js"


def _kind(prop: Mapping[str, Any]) -> tuple[str, str | None]:
    """A property as the JavaScript client's metadata sorts fields: a message, a list of
    messages, a map (of messages, or of anything: ``None``), or anything else."""
    if "$ref" in prop:
        return ("message", prop["$ref"])
    if prop.get("type") == "array" and "$ref" in prop.get("items", {}):
        return ("array", prop["items"]["$ref"])
    extra = prop.get("additionalProperties")
    if prop.get("type") == "object" and isinstance(extra, Mapping):
        return ("map", extra.get("$ref"))
    if prop.get("type") == "array" and isinstance(prop.get("items", {}).get("additionalProperties"), Mapping):
        return ("map", prop["items"]["additionalProperties"].get("$ref"))  # a list of Any
    return ("plain", None)


def _show(kind: tuple[str, str | None]) -> str:
    return kind[0] if kind[1] is None else f"{kind[0]} of {kind[1]}"


# -- pages vs earthengine-api's fixture --------------------------------------------------------
_PARAM_KEYS = ("location", "type", "format", "pattern", "required", "repeated", "enum")


def _against_fixture(doc: Mapping[str, Any], fixture: Mapping[str, Any]) -> Iterator[str]:
    ours, theirs = _methods(doc), _methods(fixture)
    for mid in sorted(set(ours) - set(theirs)):
        yield f"method {mid}: only in the pages"
    for mid in sorted(set(theirs) - set(ours)):
        yield f"method {mid}: only in the fixture"
    for mid in sorted(set(ours) & set(theirs)):
        a, b = ours[mid], theirs[mid]
        for key in ("httpMethod", "path", "flatPath", "parameterOrder"):
            if a.get(key) != b.get(key):
                yield f"method {mid}: {key} {a.get(key)} in the pages, {b.get(key)} in the fixture"
        pa, pb = a.get("parameters", {}), b.get("parameters", {})
        for name in sorted(set(pa) - set(pb)):
            yield f"parameter {mid}({name}): only in the pages"
        for name in sorted(set(pb) - set(pa)):
            yield f"parameter {mid}({name}): only in the fixture"
        for name in sorted(set(pa) & set(pb)):
            for key in _PARAM_KEYS:
                if pa[name].get(key) != pb[name].get(key):
                    yield (
                        f"parameter {mid}({name}): {key} {pa[name].get(key)} in the pages, "
                        f"{pb[name].get(key)} in the fixture"
                    )
    if sorted(doc.get("parameters", {})) != sorted(fixture.get("parameters", {})):
        yield "the API's standard parameters differ"


def _js_against_fixture(js: Mapping[str, Any], fixture: Mapping[str, Any]) -> Iterator[str]:
    theirs = _methods(fixture)
    for mid, spec in sorted(js["methods"].items()):
        other = theirs.get(mid.removeprefix("earthengine."))
        if other is None:
            continue
        if spec["httpMethod"] != other["httpMethod"]:
            yield f"method {mid}: httpMethod {spec['httpMethod']} in js, {other['httpMethod']} in the fixture"
        if spec["path"] != _unversioned(other["path"]):
            yield f"method {mid}: path {spec['path']} in js, {_unversioned(other['path'])} in the fixture"
