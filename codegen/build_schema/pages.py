"""One reference page read into the model: the method a method page documents, the types
any page defines, the methods a resource page lists.

Three kinds of page (``README.md`` of the reference snapshot):

- ``projects.<resource>/<method>.md`` (title ``Method: projects.assets.get``): HTTP request,
  path and query parameters, request and response body, OAuth scopes, then the types that
  page defines;
- ``projects.<resource>.md`` (title ``REST Resource: projects.assets``): the resource's type
  (``## Resource: EarthEngineAsset``) and the types under it, then the method list;
- ``<Type>.md`` (title ``PixelGrid``): a type, then the types under it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from . import text as texts
from .markdown import Line, PageError, Section, is_boilerplate, read_sections, split_table
from .model import Body, EnumDef, EnumValue, FieldDef, MessageDef, MethodDef, Page, TypeRef
from .typeexpr import parse_type, split_type

__all__ = ["read_page"]

_METHOD_TITLE = re.compile(r"^Method: (?P<id>projects(?:\.\w+)*)$")
_RESOURCE_TITLE = re.compile(r"^REST Resource: (?P<id>projects(?:\.\w+)*)$")
_TYPE_TITLE = re.compile(r"^(?:Resource: )?(?P<name>[A-Z]\w*)$")
_HTTP = re.compile(
    r"^`(?P<verb>GET|POST|PUT|PATCH|DELETE) https://earthengine\.googleapis\.com/(?P<version>\w+)/(?P<template>\S+)`$"
)
_GRPC_NOTE = "The URL uses [gRPC Transcoding](https://google.aip.dev/127) syntax."
_INSTANCE = re.compile(
    r"^(?:If successful, the response body|The request body) contains (?:a newly created |an )instance of "
    r"`(?P<name>[A-Za-z_]\w*)(?:\[\]\((?P<url>[^)\s]*)\))?`\.$"
)
_RPC = re.compile(r"^Response message for EarthEngineService\.(?P<rpc>\w+)\.$")
_SCOPES_INTRO = ("Requires one of the following OAuth scopes:", "Requires the following OAuth scope:")
_SCOPE = re.compile(r"^\s*\* `\s*(?P<scope>https://www\.googleapis\.com/auth/[\w.-]+)`\s*$")
_SCOPES_OUTRO = re.compile(r"^For more information, see the \[OAuth 2\.0 Overview\]\([^)]*\)\.\s*$")
_LISTED = re.compile(r"^`(?P<name>\w+(?:\[\w*\])?\w*)\((?P<url>[^)\s]*)\)`$")
_NO_FIELDS = "This type has no fields."
_METHOD_SECTIONS = (
    "HTTP request",
    "Path parameters",
    "Query parameters",
    "Request body",
    "Response body",
    "Authorization scopes",
)


def read_page(folder: Path, relative: str) -> Page:
    """Read ``folder/relative``; a `PageError` (file and line) for anything unexpected."""
    path = folder / relative
    sections = read_sections(path)
    head = sections[0]
    if head.level != 1:
        raise PageError(path, head.line, "the first heading must be the page's title (#)")
    reader = _Reader(path)
    if match := _METHOD_TITLE.match(head.title):
        return reader.method_page(relative, match.group("id"), head, sections[1:])
    if match := _RESOURCE_TITLE.match(head.title):
        return reader.resource_page(relative, match.group("id"), head, sections[1:])
    if match := _TYPE_TITLE.match(head.title):
        page = Page(relative, head.title)
        page.types.append(reader.type_def(match.group("name"), head))
        page.types.extend(reader.type_defs(sections[1:]))
        return page
    raise PageError(path, head.line, f"not a method, resource or type page: {head.title!r}")


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"

    def fail(self, line: int, message: str) -> PageError:
        return PageError(self.path, line, message)

    # -- pages ------------------------------------------------------------------------------
    def method_page(self, relative: str, method_id: str, head: Section, rest: Sequence[Section]) -> Page:
        expected = relative.removesuffix(".md").replace("/", ".")
        if method_id != expected:
            raise self.fail(head.line, f"the page documents {method_id}, its file name says {expected}")
        parts = {s.title: s for s in rest if s.level == 3 and s.title in _METHOD_SECTIONS}
        for required in ("HTTP request", "Path parameters", "Request body", "Response body", "Authorization scopes"):
            if required not in parts:
                raise self.fail(head.line, f"method page without a '{required}' section")
        verb, template = self.http_rule(parts["HTTP request"])
        query = parts.get("Query parameters")
        method = MethodDef(
            id=method_id,
            description=self.description(head.body),
            http_method=verb,
            url_template=template,
            path_params=tuple(self.table_fields(parts["Path parameters"].body, "Parameters")),
            query_params=tuple(self.table_fields(query.body, "Parameters")) if query else (),
            request=self.request_body(parts["Request body"]),
            response=self.response_body(parts["Response body"]),
            scopes=self.scopes(parts["Authorization scopes"]),
            where=self.where(head.line),
        )
        page = Page(relative, head.title, method=method)
        page.types.extend(self.type_defs([s for s in rest if s.title not in parts]))
        return page

    def resource_page(self, relative: str, resource_id: str, head: Section, rest: Sequence[Section]) -> Page:
        if resource_id != relative.removesuffix(".md"):
            raise self.fail(head.line, f"the page documents {resource_id}, its file name says {relative}")
        page = Page(relative, head.title)
        self.description(head.body)  # navigation only; checks that nothing else is there
        in_methods = False
        types: list[Section] = []
        for section in rest:
            if section.level == 2 and section.title == "Methods":
                in_methods = True
            elif in_methods:
                listed = _LISTED.match(section.title)
                if section.level != 3 or listed is None:
                    raise self.fail(section.line, f"expected a method of the list, got {section.title!r}")
                page.listed_methods.append(f"{resource_id}.{listed.group('name').replace('[', '').replace(']', '')}")
            elif section.level == 2 and section.title == "Resource":
                text = self.description(section.body)
                if text != "There is no persistent data associated with this resource.":
                    raise self.fail(section.line, f"a resource without a type, but with {text!r}")
            else:
                types.append(section)
        page.types.extend(self.type_defs(types))
        return page

    # -- types ------------------------------------------------------------------------------
    def type_defs(self, sections: Sequence[Section]) -> list[MessageDef | EnumDef]:
        out: list[MessageDef | EnumDef] = []
        for section in sections:
            match = _TYPE_TITLE.match(section.title)
            if section.level == 1 or match is None:
                raise self.fail(section.line, f"expected a type's heading, got {section.title!r}")
            out.append(self.type_def(match.group("name"), section))
        return out

    def type_def(self, name: str, section: Section) -> MessageDef | EnumDef:
        lines = section.body
        where = self.where(section.line)
        described: list[str] = []
        i = 0
        no_fields = False
        while i < len(lines):
            stripped = lines[i].text.strip()
            if stripped in ("JSON representation", "Fields", "Enums"):
                break
            if stripped == _NO_FIELDS:
                no_fields = True
            elif not is_boilerplate(lines[i].text):
                described.append(lines[i].text)
            i += 1
        description, _ = texts.clean(described)
        if no_fields:
            if i < len(lines):
                raise self.fail(lines[i].number, f"{name} has no fields, yet a {lines[i].text.strip()!r} follows")
            return MessageDef(name, description, (), where)
        if i == len(lines):
            raise self.fail(section.line, f"type {name} has neither fields nor enum values")
        if lines[i].text.strip() == "JSON representation":
            i = self.skip_json(lines, i)
        header = lines[i].text.strip()
        if header == "Enums":
            return EnumDef(name, description, tuple(self.enum_values(lines, i)), where)
        if header == "Fields":
            return MessageDef(name, description, tuple(self.fields(lines, i)), where)
        raise self.fail(lines[i].number, f"expected 'Fields' or 'Enums' in type {name}, got {header!r}")

    def skip_json(self, lines: Sequence[Line], i: int) -> int:
        """Past the ``JSON representation`` block starting at ``lines[i]``: the index of the
        next non-blank line (the Fields table)."""
        if i + 2 >= len(lines) or lines[i + 1].text.strip() != "---" or lines[i + 2].text.strip() != "```":
            raise self.fail(lines[i].number, "'JSON representation' must be followed by '---' and a ``` block")
        j = i + 3
        while j < len(lines) and lines[j].text.strip() != "```":
            j += 1
        if j == len(lines):
            raise self.fail(lines[i].number, "the JSON representation block is never closed")
        j += 1
        while j < len(lines) and not lines[j].text.strip():
            j += 1
        if j == len(lines):
            raise self.fail(lines[i].number, "a JSON representation without a Fields table")
        return j

    def fields(self, lines: Sequence[Line], start: int) -> list[FieldDef]:
        return [self.field(row.name, row.deprecated, row.text, row.line) for row in split_table(self.path, lines, start)]

    def table_fields(self, lines: Sequence[Line], header: str) -> list[FieldDef]:
        start = next((i for i, line in enumerate(lines) if line.text.strip()), None)
        if start is None or lines[start].text.strip() != header:
            raise self.fail(lines[0].number if lines else 0, f"expected a '{header}' table")
        return self.fields(lines, start)

    def field(self, raw_name: str, deprecated: bool, text: Sequence[str], line: int) -> FieldDef:
        where = self.where(line)
        try:
            raw_type, first = split_type(text[0])
            type_expr = parse_type(raw_type, where)
        except ValueError as exc:
            raise self.fail(line, f"field {raw_name}: {exc}") from None
        well_known = {"map": "map", "object": "Any"}.get(type_expr.kind, type_expr.fmt)
        try:
            description, banner = texts.clean([first, *text[1:]], well_known=well_known)
        except ValueError as exc:
            raise self.fail(line, f"field {raw_name}: {exc}") from None
        if banner and not deprecated:
            raise self.fail(line, f"field {raw_name} says it is deprecated but is not marked so")
        repeated = raw_name.endswith("[]")
        return FieldDef(raw_name.removesuffix("[]"), type_expr, repeated, description, deprecated, where)

    def enum_values(self, lines: Sequence[Line], start: int) -> list[EnumValue]:
        values = []
        for row in split_table(self.path, lines, start):
            if row.name.endswith("[]") or not re.fullmatch(r"[A-Z][A-Z0-9_]*", row.name):
                raise self.fail(row.line, f"not an enum value: {row.name!r}")
            description, banner = texts.clean(row.text)
            values.append(EnumValue(row.name, description, row.deprecated or banner))
        return values

    # -- method parts -----------------------------------------------------------------------
    def description(self, lines: Sequence[Line]) -> str:
        text, _ = texts.clean([line.text for line in lines if not is_boilerplate(line.text)])
        return text

    def http_rule(self, section: Section) -> tuple[str, str]:
        content = [line for line in section.body if line.text.strip()]
        if len(content) != 2 or content[1].text.strip() != _GRPC_NOTE:
            raise self.fail(section.line, "the HTTP request section must hold the rule and the gRPC Transcoding note")
        match = _HTTP.match(content[0].text.strip())
        if match is None:
            raise self.fail(content[0].number, f"not an HTTP rule: {content[0].text!r}")
        version = self.path.parent.name if self.path.parent.name.startswith("v") else self.path.parent.parent.name
        if match.group("version") != version:
            raise self.fail(content[0].number, f"a {match.group('version')} URL on a {version} page")
        return match.group("verb"), match.group("template")

    def request_body(self, section: Section) -> Body:
        lines = [line for line in section.body if not is_boilerplate(line.text)]
        if not lines:
            raise self.fail(section.line, "empty request body section")
        first = lines[0].text.strip()
        if first == "The request body must be empty." and len(lines) == 1:
            return Body("none")
        if (instance := _INSTANCE.match(first)) and len(lines) == 1:
            return Body("ref", ref=TypeRef(instance.group("name"), instance.group("url"), self.where(lines[0].number)))
        if first == "The request body contains data with the following structure:":
            body = list(section.body)
            at = next(i for i, line in enumerate(body) if line.text.strip() == "JSON representation")
            return Body("inline", fields=tuple(self.fields(body, self.skip_json(body, at))))
        raise self.fail(lines[0].number, f"a request body this parser does not know: {first!r}")

    def response_body(self, section: Section) -> Body:
        lines = [line for line in section.body if not is_boilerplate(line.text)]
        if not lines:
            raise self.fail(section.line, "empty response body section")
        first = lines[0].text.strip()
        fixed = {
            "If successful, the response body is an empty JSON object.": "empty_message",
            "If successful, the response body is empty.": "fieldless",
            "If successful, the response is a generic HTTP response whose format is defined by the method.": "http",
        }
        if first in fixed and len(lines) == 1:
            return Body(fixed[first])
        if (instance := _INSTANCE.match(first)) and len(lines) == 1:
            return Body("ref", ref=TypeRef(instance.group("name"), instance.group("url"), self.where(lines[0].number)))
        structure = "If successful, the response body contains data with the following structure:"
        at = next((i for i, line in enumerate(lines) if line.text.strip() == structure), None)
        if at is None:
            raise self.fail(lines[0].number, f"a response body this parser does not know: {first!r}")
        description, _ = texts.clean([line.text for line in lines[:at]])
        rpc = _RPC.match(description)
        body = list(section.body)
        json_at = next(i for i, line in enumerate(body) if line.text.strip() == "JSON representation")
        return Body(
            "inline",
            fields=tuple(self.fields(body, self.skip_json(body, json_at))),
            description=description,
            rpc=rpc.group("rpc") if rpc else None,
        )

    def scopes(self, section: Section) -> tuple[str, ...]:
        lines = [line for line in section.body if line.text.strip() and not is_boilerplate(line.text)]
        if not lines or lines[0].text.strip() not in _SCOPES_INTRO:
            raise self.fail(section.line, "the scopes section must start with 'Requires ... OAuth scope(s):'")
        scopes = []
        for line in lines[1:]:
            if match := _SCOPE.match(line.text):
                scopes.append(match.group("scope"))
            elif not _SCOPES_OUTRO.match(line.text.strip()):
                raise self.fail(line.number, f"unexpected line in the scopes section: {line.text!r}")
        if not scopes:
            raise self.fail(section.line, "a method without OAuth scopes")
        return tuple(scopes)
