"""Splitting the message classes datamodel-code-generator writes into one module per group of
messages that refer to each other (a strongly connected component of the reference graph),
so that ``types`` can import a message with only the messages it reaches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from .ir import Api, TypeRef
from .naming import safe_identifier, snake_case

__all__ = ["MessageModule", "split_messages"]

_CLASS = re.compile(r"^class (\w+)\(", re.MULTILINE)
_ALIAS = re.compile(r"^(\w+) = (\w+)$")
_FIELD = re.compile(r"^    (\w+): (.+?) = (.*)$")
_WIRE_ALIAS = re.compile(r'\balias="([^"\\]+)"')
_OPTIONAL = ("None", "Field(None", "Field(default=None")

# What a constructor argument accepts for a discovery string format (as method arguments do).
_STRING_ARGUMENTS = {
    "int64": "int | str",
    "uint64": "int | str",
    "byte": "bytes | str",
    "google-datetime": "_datetime.datetime | str",
    "date-time": "_datetime.datetime | str",
    "date": "_datetime.date | str",
    "google-duration": "_datetime.timedelta | str",
}
_SCALAR_ARGUMENTS = {"integer": "int", "number": "float", "boolean": "bool", "any": "_Any"}
#: Imports the constructors' annotations may need (unused ones are dropped when formatting),
#: under private names: a field of the class (``datetime``, ``any``...) cannot shadow them.
_INIT_IMPORTS = (
    "import datetime as _datetime\n"
    "from collections.abc import Mapping as _Mapping\n"
    "from collections.abc import Sequence as _Sequence\n"
    "from typing import TYPE_CHECKING as _TYPE_CHECKING\n"
    "from typing import Any as _Any\n"
)


@dataclass(frozen=True)
class MessageModule:
    name: str  # the module's name in the ``_types`` package
    classes: tuple[str, ...]  # the names it defines (aliases included), in source order
    source: str  # its body: imports, the classes (without header or docstring)


def _refs(t: TypeRef) -> Iterable[str]:
    if t.kind == "message" and t.name is not None:
        yield t.name
    elif t.item is not None:
        yield from _refs(t.item)


def _argument(t: TypeRef, class_of: Mapping[str, str]) -> str:
    """What validation accepts for a field of type ``t``: a message or its dict form, an enum
    member or its string, ..."""
    if t.kind == "message":
        return f"{class_of.get(t.name or '', '_Any')} | _Mapping[str, _Any]"
    if t.kind == "enum":
        return f"{t.name} | str"
    if t.kind == "array":
        assert t.item is not None
        return f"_Sequence[{_argument(t.item, class_of)}]"
    if t.kind == "map":
        assert t.item is not None
        return f"_Mapping[str, {_argument(t.item, class_of)}]"
    if t.kind == "string":
        return _STRING_ARGUMENTS.get(t.format or "", "str")
    return _SCALAR_ARGUMENTS.get(t.kind, "_Any")


def _with_init(block: str, types_of: Mapping[str, TypeRef], class_of: Mapping[str, str]) -> str:
    """The class with a keyword-only ``__init__`` for type checkers only (``TYPE_CHECKING``):
    its fields by Python name, as mypy's pydantic plugin reads them. Without it, pyright takes a
    field's alias (its camelCase wire name) for the argument's name, and ``Field(None, ...)``
    for no default."""
    params = []
    for line in block.split("\n"):
        field = _FIELD.match(line)
        if field is None:
            continue
        name, _, rest = field.groups()
        alias = _WIRE_ALIAS.search(rest)
        t = types_of.get(alias.group(1) if alias else name)
        annotation = _argument(t, class_of) if t is not None else "_Any"
        params.append(f"{name}: {annotation} | None = None" if rest.startswith(_OPTIONAL) else f"{name}: {annotation}")
    # "_self" and "_extra": no field can be named so (pydantic fields never start with "_").
    args = ", ".join(["_self", *(["*", *params] if params else []), "**_extra: _Any"])
    return block + f"\n\n    if _TYPE_CHECKING:\n\n        def __init__({args}) -> None: ...\n"


def _components(nodes: Sequence[str], edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (documents can be large); each
    component comes after every component it refers to."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, ())
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work and work[-1][0] != node:  # back in the parent: carry the low link up
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                out.append(sorted(members))
    return out


def _head(preamble: str) -> str:
    """The module's imports: datamodel-code-generator's, then what the constructors need."""
    future = "from __future__ import annotations\n"
    rest = preamble.replace(future, "", 1).strip("\n")
    return future + _INIT_IMPORTS + rest + "\n"


def split_messages(api: Api, body: str, types_package: str) -> list[MessageModule]:
    """``body`` (the single module datamodel-code-generator wrote for ``api``'s messages) as
    modules of ``types_package``, one per component, each importing the ones it refers to."""
    first = _CLASS.search(body)
    if first is None:
        return []
    preamble, rest = body[: first.start()], body[first.start() :]
    starts = [m.start() for m in _CLASS.finditer(rest)] + [len(rest)]
    blocks: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}
    for start, end in pairwise(starts):
        lines = rest[start:end].rstrip("\n").split("\n")
        head = _CLASS.match(lines[0])
        assert head is not None
        kept = []
        for line in lines:
            alias = _ALIAS.match(line)
            if alias:
                aliases.setdefault(alias.group(2), []).append(line)
            else:
                kept.append(line)
        blocks[head.group(1)] = "\n".join(kept).rstrip("\n")
    # datamodel-code-generator drops "_" from some class names (see models._alias_renamed).
    class_of = {m.name: m.name if m.name in blocks else m.name.replace("_", "") for m in api.messages}
    unknown = sorted(set(class_of.values()) - set(blocks)) + sorted(set(blocks) - set(class_of.values()))
    if unknown:
        raise RuntimeError(f"datamodel-code-generator's classes and the schema's messages differ: {unknown}")
    for message in api.messages:
        types_of = {f.name: f.type for f in message.fields}
        blocks[class_of[message.name]] = _with_init(blocks[class_of[message.name]], types_of, class_of)
    edges: dict[str, list[str]] = {}
    for message in api.messages:
        targets = {class_of[r] for f in message.fields for r in _refs(f.type) if r in class_of}
        edges.setdefault(class_of[message.name], []).extend(sorted(targets))
    for node in edges:
        edges[node] = sorted(set(edges[node]))
    components = _components(sorted(blocks), edges)
    names: dict[str, str] = {}  # class -> module
    taken: set[str] = set()
    for members in sorted(components, key=lambda c: c[0]):
        base = safe_identifier(snake_case(members[0]) or "message")
        chosen, n = base, 1
        while chosen in taken:
            n += 1
            chosen = f"{base}_{n}"
        taken.add(chosen)
        names.update(dict.fromkeys(members, chosen))
    order = list(blocks)
    modules = []
    for members in sorted(components, key=lambda c: names[c[0]]):
        module = names[members[0]]
        mine = set(members)
        imports: dict[str, set[str]] = {}
        for member in members:
            for target in edges.get(member, ()):
                if target not in mine:
                    imports.setdefault(names[target], set()).add(target)
        lines = [
            f"from {types_package}.{dep} import {', '.join(sorted(classes))}"
            for dep, classes in sorted(imports.items())
        ]
        defined: list[str] = []
        parts = []
        for cls in sorted(mine, key=order.index):
            parts.append(blocks[cls])
            defined.append(cls)
            for alias_line in aliases.get(cls, ()):
                parts.append(alias_line)
                defined.append(alias_line.partition(" = ")[0])
        source = _head(preamble) + "\n".join(lines) + "\n\n\n" + "\n\n\n".join(parts) + "\n"
        source += f"\n__all__ = {sorted(defined)!r}\n"
        modules.append(MessageModule(module, tuple(defined), source))
    return modules
