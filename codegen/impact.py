"""What a new discovery document breaks outside the generated packages.

``update_schema`` calls :func:`find_breakage` with the previous and the new document of one
API the project generates. It names, one line each:

* ``codegen/config.yaml`` bindings that no longer attach: an overlay bound to a method the new
  document lacks (the generated method would silently lose it), an ``include_methods`` entry
  that matches nothing, an ``enum_names`` field that is gone;
* hand-written call sites, found by a static scan (``ast``) of the project's sources outside
  the generated packages: attribute calls of generated methods
  (``client.projects.assets.get(name=...)``) and their keywords, method ids in strings
  (``Fetch("projects.assets.get", {"name": ...})``) and the wire names in the dict literals
  beside them, and reads of message fields the new document removed (``asset.size_bytes``,
  ``body["sizeBytes"]``) when no message of the new document has a field of that name.

Only what worked with the previous document and does not with the new one is reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .discovery import Options, load_api
from .ir import Api, Resource

__all__ = ["Breakage", "find_breakage"]

#: Attributes between a resource and its method that are not part of the method's path.
_WRAPPERS = frozenset({"with_streaming_response", "with_raw_response"})


@dataclass(frozen=True, order=True)
class Breakage:
    """One place the new document breaks: ``where`` (a file, or ``codegen/config.yaml`` and the
    key), ``line`` (0 for the config) and why."""

    where: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.where}{f':{self.line}' if self.line else ''}: {self.what}"


@dataclass
class _Surface:
    """The names hand-written code can use of one generated API."""

    ids: dict[str, str] = field(default_factory=dict)  # short and full method id -> short id
    by_path: dict[tuple[str, ...], str] = field(default_factory=dict)  # python path -> short id
    keywords: dict[str, set[str]] = field(default_factory=dict)  # short id -> python keywords
    wire: dict[str, set[str]] = field(default_factory=dict)  # short id -> wire names of params and body
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # message -> wire name -> python name


def _surface(api: Api) -> _Surface:
    out = _Surface()
    messages = {m.name: m for m in api.messages}
    for message in api.messages:
        out.fields[message.name] = {f.name: f.py_name for f in message.fields}
    stack: list[tuple[Resource, tuple[str, ...]]] = [(r, (r.py_name,)) for r in api.resources]
    while stack:
        resource, path = stack.pop()
        stack.extend((child, (*path, child.py_name)) for child in resource.resources)
        for m in resource.methods:
            short = m.id[len(api.name) + 1 :] if m.id.startswith(api.name + ".") else m.id
            out.ids[short] = out.ids[m.id] = short
            key = (*path, m.py_name)
            out.by_path[key] = short
            keywords = {p.py_name for p in m.params} | {f.py_name for f in m.body_fields}
            keywords |= {extra[0] for extra in m.extra_params}
            out.keywords.setdefault(short, set()).update(keywords)
            wire = {p.name for p in m.params} | {f.name for f in m.body_fields}
            request = messages.get(m.request or "")
            wire |= {f.name for f in request.fields} if request else set()
            out.wire.setdefault(short, set()).update(wire)
    return out


def _chain(node: ast.expr) -> tuple[str, ...]:
    """``a.b.c`` -> ``("b", "c")`` (the attribute names, without the base or wrappers)."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        if node.attr not in _WRAPPERS:
            names.append(node.attr)
        node = node.value
    return tuple(reversed(names))


def _strings(node: ast.AST) -> Iterator[ast.Constant]:
    """String constants among a call's arguments, and among the arguments of calls nested there."""
    for arg in getattr(node, "args", ()):
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield arg
        elif isinstance(arg, ast.Call):
            yield from _strings(arg)


class _Scanner:
    def __init__(self, old: _Surface, new: _Surface, label: str) -> None:
        self.old, self.new, self.label = old, new, label
        # Fields removed (or renamed) from a message both documents have, under a name no
        # message of the new document has: any use of that name is a use of the removed field.
        gone = {
            (wire, py)
            for name, fields in old.fields.items()
            if name in new.fields
            for wire, py in fields.items()
            if wire not in new.fields[name]
        }
        new_wire = {w for fields in new.fields.values() for w in fields}
        new_py = {p for fields in new.fields.values() for p in fields.values()}
        self.gone_fields_wire = {wire for wire, _ in gone} - new_wire
        self.gone_fields_py = {py for _, py in gone} - new_py
        self.found: set[Breakage] = set()
        self.file = ""

    def add(self, line: int, what: str) -> None:
        self.found.add(Breakage(self.file, line, what))

    def scan(self, path: Path, shown: str) -> None:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (SyntaxError, UnicodeDecodeError, OSError):
            return
        self.file = shown
        for node in ast.walk(tree):
            where = int(getattr(node, "lineno", 0))
            if isinstance(node, ast.Call):
                self._attribute_call(node, where)
                self._id_call(node, where)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self._id_string(node.value, where)
                if node.value in self.gone_fields_wire:
                    self.add(
                        where, f"uses the field name {node.value!r}, which no message of {self.label} has any more"
                    )
            elif isinstance(node, ast.Attribute) and node.attr in self.gone_fields_py:
                self.add(where, f"reads .{node.attr}, a field no message of {self.label} has any more")

    def _method_for(self, chain: tuple[str, ...]) -> str | None:
        for size in range(len(chain), 1, -1):
            short = self.old.by_path.get(chain[-size:])
            if short is not None:
                return short
        return None

    def _attribute_call(self, node: ast.Call, where: int) -> None:
        chain = _chain(node.func)
        short = self._method_for(chain)
        if short is None:
            return
        shown = ".".join(chain[-len(short.split(".")) :]) if chain else short
        if short not in self.new.ids:
            self.add(where, f"calls {shown}() ({short}), which {self.label} no longer has")
            return
        gone = self.old.keywords.get(short, set()) - self.new.keywords.get(short, set())
        for keyword in node.keywords:
            if keyword.arg in gone:
                self.add(
                    where, f"passes {keyword.arg}= to {shown}() ({short}), which no longer takes it in {self.label}"
                )

    def _id_string(self, value: str, where: int) -> None:
        short = self.old.ids.get(value)
        if short is not None and short not in self.new.ids:
            self.add(where, f"names the method {short}, which {self.label} no longer has")

    def _id_call(self, node: ast.Call, where: int) -> None:
        shorts = [self.old.ids[s.value] for s in _strings(node) if s.value in self.old.ids]
        if len(shorts) != 1 or shorts[0] not in self.new.ids:
            return
        short = shorts[0]
        gone = self.old.wire.get(short, set()) - self.new.wire.get(short, set())
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                for key in arg.keys:
                    if isinstance(key, ast.Constant) and key.value in gone:
                        self.add(where, f"sends {key.value!r} to {short}, which no longer takes it in {self.label}")


def _config_breakage(
    config: Config, old: _Surface, new: _Surface, new_doc: Mapping[str, Any], label: str
) -> Iterator[Breakage]:
    where = "codegen/config.yaml"
    for method, binding in sorted(config.options.overlays.items()):
        if method in old.ids and method not in new.ids:
            yield Breakage(
                f"{where} overlays.{method}",
                0,
                f"the overlay {binding.overlay} is bound to {method}, which {label} no longer has: "
                "the generated method would lose it (rebind or remove the overlay)",
            )
    for method in sorted(config.options.include_methods):
        if method in old.ids and method not in new.ids:
            yield Breakage(
                f"{where} include_methods", 0, f"{method} matches no method of {label} (remove or rename the entry)"
            )
    schemas = new_doc.get("schemas") or {}
    for name, site in sorted(config.options.enum_names.items()):
        message, _, prop = site.partition(".")
        spec = ((schemas.get(message) or {}).get("properties") or {}).get(prop) or {}
        if "enum" not in spec and "enum" not in (spec.get("items") or {}):
            yield Breakage(
                f"{where} enum_names.{name}",
                0,
                f"{site} has no enum in {label}: generation fails until the entry is changed",
            )


def find_breakage(
    root: Path, config: Config, old_doc: Mapping[str, Any], new_doc: Mapping[str, Any], sources: Path | None = None
) -> list[Breakage]:
    """What ``new_doc`` breaks that worked with ``old_doc``: config bindings and the call sites
    in ``sources`` (default: the config's output directory), leaving out the generated packages."""
    options = Options(include_methods=config.options.include_methods)
    old_api = load_api(old_doc, options)
    new_api = load_api(new_doc, options)
    old, new = _surface(old_api), _surface(new_api)
    label = f"{new_doc.get('name')} {new_doc.get('version')}"
    found = set(_config_breakage(config, old, new, new_doc, label))
    scanner = _Scanner(old, new, label)
    base = sources or root / config.output
    generated = [root / config.output / Path(*t.package.split(".")) for t in config.apis]
    for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
        if any(path.is_relative_to(g) for g in generated):
            continue
        scanner.scan(path, path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path))
    return sorted(found | scanner.found)
