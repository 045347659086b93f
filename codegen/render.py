"""Rendering the IR into the files of one generated package (jinja2 + datamodel-code-generator)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from .discovery import BODY_ARGUMENT, BODY_FIELD_PREFIX
from .formatting import format_source, format_sources
from .ir import Api, Method, Param, Resource, TypeRef
from .models import message_module_source
from .naming import safe_identifier, snake_case
from .split_types import split_messages

__all__ = ["render_package"]

_TEMPLATES = Path(__file__).parent / "templates"

_STRING_ANNOTATIONS = {
    "int64": "int",
    "uint64": "int",
    "byte": "bytes",
    "google-datetime": "datetime.datetime | str",
    "date-time": "datetime.datetime | str",
    "date": "datetime.date | str",
    "google-duration": "datetime.timedelta | str",
}
_SCALARS = {"integer": "int", "number": "float", "boolean": "bool", "any": "Any"}


def _field_annotation(t: TypeRef, enums: Mapping[str, Sequence[str]] | None = None) -> str:
    """What a method argument for a body field accepts: the class or its dict form; an enum
    member or its wire value (``enums``: each enum's values)."""
    if t.kind == "message":
        return f"types.{t.name} | Mapping[str, Any]"
    if t.kind == "enum":  # the enum or its wire values, as query enums (requests are strict at run time)
        values = (enums or {}).get(t.name or "")
        return f"types.{t.name} | " + (_literal(values) if values else "str")
    if t.kind == "array":
        assert t.item is not None
        return f"Sequence[{_field_annotation(t.item, enums)}]"
    if t.kind == "map":
        assert t.item is not None
        return f"Mapping[str, {_field_annotation(t.item, enums)}]"
    if t.kind == "string":
        return _STRING_ANNOTATIONS.get(t.format or "", "str")
    return _SCALARS[t.kind]


def _literal(values: Sequence[str]) -> str:
    return "Literal[" + ", ".join(repr(v) for v in values) + "]"


def _param_annotation(p: Param) -> str:
    if p.enum_values:
        scalar = _literal(p.enum_values)
    else:
        scalar = _field_annotation(p.type.item if p.type.kind == "array" and p.type.item else p.type)
    return f"Sequence[{scalar}]" if p.type.kind == "array" else scalar


def _docstring(text: str, indent: int) -> str:
    """A triple-quoted docstring, wrapped to 88 columns, safe for any text."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    pad = " " * indent
    paragraphs = text.split("\n\n")
    lines: list[str] = []
    for i, para in enumerate(paragraphs):
        if i:
            lines.append("")
        for raw in para.split("\n"):
            body = raw.lstrip()
            extra = " " * (len(raw) - len(body))
            lines.extend(
                textwrap.wrap(
                    body,
                    width=88 - indent - len(extra),
                    initial_indent=extra,
                    subsequent_indent=extra + ("    " if extra else ""),
                )
                or [""]
            )
    if lines[-1].endswith('"'):  # would merge with the closing quotes
        lines[-1] += " "
    if len(lines) == 1 and len(lines[0]) + indent + 6 <= 88:
        return f'"""{lines[0]}"""'
    return '"""' + lines[0] + "\n" + "\n".join((pad + line) if line else "" for line in lines[1:]) + "\n" + pad + '"""'


def _method_docstring(m: Method) -> str:
    parts = [m.description or f"Calls ``{m.id}``."]
    if m.deprecated:
        parts.append("Deprecated.")
    args: list[str] = []
    for p in m.params:
        desc = p.description or ("Path parameter." if p.location == "path" else "Query parameter.")
        if p.defaults_to_project:
            desc += " Defaults to the client's project."
        args.append(f"    {p.py_name}: {desc}")
    for f in m.body_fields:
        desc = f.description or f"Request field {f.name}."
        if f.py_name.startswith(BODY_FIELD_PREFIX) and not f.name.startswith(BODY_FIELD_PREFIX):
            desc = f"The request body's ``{f.name}`` (prefixed: a parameter or option has that name). {desc}"
        args.append(f"    {f.py_name}: {desc}")
    if m.request_type is not None:
        args.append(f"    {BODY_ARGUMENT}: The request body (``{m.request}``), sent as JSON.")
    for name, _annotation, _default, doc in m.extra_params:
        args.append(f"    {name}: {doc}")
    if m.media_upload:
        args.append(
            "    media_body: Media to upload with the call: bytes or a binary file or stream (read whole); "
            "sent as a simple (media only) or multipart (with the other fields) upload."
        )
        args.append("    media_mime_type: The media's MIME type; default application/octet-stream.")
    args.append("    timeout: Overrides the client's timeout for this call.")
    args.append("    extra_headers, extra_query, extra_body: Sent in addition to the above.")
    parts.append("Args:\n" + "\n".join(args))
    return "\n\n".join(parts)


_VALUE_STRINGS = {
    "int64": "int",
    "uint64": "int",
    "byte": "bytes",
    "google-datetime": "datetime.datetime",
    "date-time": "datetime.datetime",
    "date": "datetime.date",
    "google-duration": "datetime.timedelta",
}


def _value_annotation(t: TypeRef) -> str:
    """The type of a parsed response value (what the message classes hold)."""
    if t.kind in ("message", "enum"):
        return f"types.{t.name}"
    if t.kind == "array":
        assert t.item is not None
        return f"list[{_value_annotation(t.item)}]"
    if t.kind == "map":
        assert t.item is not None
        return f"dict[str, {_value_annotation(t.item)}]"
    if t.kind == "string":
        return _VALUE_STRINGS.get(t.format or "", "str")
    return _SCALARS[t.kind]


def _result_annotation(m: Method) -> str:
    """What one call returns (for a list method: one page)."""
    if m.media_download or (m.binary_response and not m.returns):
        return "bytes"
    if m.returns:
        return m.returns.rpartition(":")[2]
    if m.empty_response:
        return "None"
    if m.response_type is not None:
        return _value_annotation(m.response_type)
    if m.response:
        return f"types.{m.response}"
    return "None"


def _item_annotation(m: Method) -> str:
    assert m.pagination is not None
    item = m.pagination.item_type
    return _result_annotation(m) if item is None else _value_annotation(item)


def _return_annotation(m: Method, is_async: bool) -> str:
    if m.pagination:
        pager = "AsyncPager" if is_async else "SyncPager"
        return f"{pager}[{_result_annotation(m)}, {_item_annotation(m)}]"
    return _result_annotation(m)


def _response_adapter(t: TypeRef) -> str:
    """A pydantic-validatable response type that is not a message: a TypeAdapter."""
    return f"TypeAdapter({_value_annotation(t)})"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    env.filters["docstring"] = _docstring
    return env


def _format(source: str) -> str:
    return format_source(source)


def render_package(
    api: Api,
    package: str,
    discovery: Mapping[str, Any],
    *,
    scopes: Sequence[str] | None = None,
    type_imports: Sequence[str] = (),
    mixins: tuple[Sequence[str], Sequence[str]] = ((), ()),
) -> dict[str, str]:
    """The files of the package ``package`` for ``api``: relative path -> source.
    ``mixins`` are the (sync, async) hand-written classes its clients inherit, "module:Class"."""
    env = _environment()
    resources: list[Resource] = api.all_resources()
    methods = api.all_methods()
    resource_paths = {}
    for top in api.resources:
        stack = [(top, top.name)]
        while stack:
            r, path = stack.pop()
            resource_paths[r.class_name] = path
            stack.extend((c, f"{path}.{c.name}") for c in r.resources)

    module_names = _module_names(resources)
    method_modules = {m.id: module_names[r.class_name] for r in resources for m in r.methods}
    overlay_imports, overlay_names = [], {}
    for m in methods:
        if m.overlay:
            module, _, attr = m.overlay.partition(":")
            alias = "_overlay_" + m.py_name
            overlay_imports.append(f"from {module} import {attr} as {alias}")
            overlay_names[m.id] = alias
    overlay_imports = sorted(set(overlay_imports))
    return_imports = sorted(
        {f"from {m.returns.partition(':')[0]} import {m.returns.partition(':')[2]}" for m in methods if m.returns}
    )
    mixin_modules: dict[str, set[str]] = {}
    for ref in (*mixins[0], *mixins[1]):
        module, _, name = ref.partition(":")
        mixin_modules.setdefault(module, set()).add(name)
    mixin_imports = [f"from {mod} import {', '.join(sorted(names))}" for mod, names in sorted(mixin_modules.items())]
    enum_values = {e.name: [v.value for v in e.values] for e in api.enums}
    context: dict[str, Any] = {
        "api": api,
        "mixin_imports": mixin_imports,
        "sync_bases": ", ".join([ref.partition(":")[2] for ref in mixins[0]] + ["SyncClientBase"]),
        "async_bases": ", ".join([ref.partition(":")[2] for ref in mixins[1]] + ["AsyncClientBase"]),
        "package": package,
        "resources": resources,
        "methods": methods,
        "resource_paths": resource_paths,
        "module_names": module_names,
        "method_modules": method_modules,
        "overlay_imports": overlay_imports,
        "overlay_names": overlay_names,
        "type_imports": [*return_imports, *type_imports],
        "param_annotation": _param_annotation,
        "field_annotation": lambda t: _field_annotation(t, enum_values),
        "return_annotation": _return_annotation,
        "result_annotation": _result_annotation,
        "item_annotation": _item_annotation,
        "response_adapter": _response_adapter,
        "method_docstring": _method_docstring,
        "short_id": lambda m: m.id[len(api.name) + 1 :] if m.id.startswith(api.name + ".") else m.id,
        "params_dict": lambda m: "{" + ", ".join(f"{p.name!r}: {p.py_name}" for p in m.params) + "}",
        "body_dict": lambda m: (
            BODY_ARGUMENT
            if m.request_type is not None
            else "{" + ", ".join(f"{f.name!r}: {f.py_name}" for f in m.body_fields) + "}"
            if m.request
            else "None"
        ),
        "body_argument": BODY_ARGUMENT,
        "extras_dict": lambda m: "{" + ", ".join(f"{e[0]!r}: {e[0]}" for e in m.extra_params) + "}",
        "streamable": lambda r: any(not m.pagination for m in r.methods),
        "has_response_adapter": any(m.response_type is not None or m.request_type is not None for m in methods),
        "base_url": api.root_url.rstrip("/"),
        "scopes": tuple(scopes) if scopes else api.scopes,
        "discovery_json": json.dumps(discovery, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
    }
    header = env.get_template("header.j2").render(**context).rstrip("\n")
    files = {
        name: _format(env.get_template(name + ".j2").render(**context))
        for name in ("__init__.py", "_enums.py", "_client.py", "_discovery.py")
    }
    files["_resources/__init__.py"] = format_source(
        env.get_template("_resources_init.py.j2").render(**context), sort_imports=True
    )
    resource_template = env.get_template("_resource.py.j2")
    files.update(
        format_sources(
            {
                f"_resources/{module_names[r.class_name]}.py": resource_template.render(
                    **{**context, "r": r, "methods": list(r.methods)}
                )
                for r in resources
            },
            drop_unused_imports=True,
        )
    )
    files.update(_types_files(api, package, header, env, context))
    return files


def _module_names(resources: Sequence[Resource]) -> dict[str, str]:
    """Each resource's module in ``_resources`` (by class name): its class name in snake case."""
    names: dict[str, str] = {}
    taken = {"__init__"}
    for r in resources:
        base = safe_identifier(snake_case(r.class_name) or "resource")
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names[r.class_name] = name
    return names


def _types_files(api: Api, package: str, header: str, env: jinja2.Environment, context: Mapping[str, Any]) -> dict[str, str]:
    """``types.py``, which imports each message on first use, and the ``_types`` modules that
    define them (one per group of messages referring to each other, see ``split_types``)."""
    body = message_module_source(api, f"{package}._enums")
    modules = split_messages(api, body, f"{package}._types")
    doc = f'"""Messages of {api.title} {api.version}; import them from ``{package}.types``."""'
    files = format_sources(
        {f"_types/{m.name}.py": f"{header}\n{doc}\n\n{m.source}" for m in modules}, drop_unused_imports=True
    )
    if modules:
        files["_types/__init__.py"] = format_source(
            f'{header}\n"""The modules of ``{package}.types``: one per group of messages that refer to each other."""\n'
        )
    where = {name: f"._types.{m.name}" for m in modules for name in m.classes}
    where.update({e.name: "._enums" for e in api.enums})
    files["types.py"] = format_source(
        env.get_template("types.py.j2").render(**context, where=dict(sorted(where.items()))), sort_imports=True
    )
    return files
