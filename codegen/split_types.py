"""Splitting the message classes datamodel-code-generator writes into one module per group of
messages that refer to each other (a strongly connected component of the reference graph),
so that ``types`` can import a message with only the messages it reaches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from codegen.ir import Api, TypeRef
from codegen.naming import safe_identifier, snake_case

__all__ = ["MessageModule", "split_messages"]

_CLASS = re.compile(r"^class (\w+)\(", re.MULTILINE)
_ALIAS = re.compile(r"^(\w+) = (\w+)$")


@dataclass(frozen=True)
class MessageModule:
    name: str  # the module's name in the ``_types`` package
    classes: tuple[str, ...]  # the names it defines (aliases included), in source order
    source: str  # its body: imports, the classes (without header or docstring)


def _refs(t: TypeRef) -> Iterable[str]:
    if t.kind == "message":
        yield t.name
    elif t.item is not None:
        yield from _refs(t.item)


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
    for start, end in zip(starts, starts[1:], strict=False):
        lines = rest[start:end].rstrip("\n").split("\n")
        name = _CLASS.match(lines[0])
        assert name is not None
        kept = []
        for line in lines:
            alias = _ALIAS.match(line)
            if alias:
                aliases.setdefault(alias.group(2), []).append(line)
            else:
                kept.append(line)
        blocks[name.group(1)] = "\n".join(kept).rstrip("\n")
    # datamodel-code-generator drops "_" from some class names (see models._alias_renamed).
    class_of = {m.name: m.name if m.name in blocks else m.name.replace("_", "") for m in api.messages}
    unknown = sorted(set(class_of.values()) - set(blocks)) + sorted(set(blocks) - set(class_of.values()))
    if unknown:
        raise RuntimeError(f"datamodel-code-generator's classes and the schema's messages differ: {unknown}")
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
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names.update(dict.fromkeys(members, name))
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
            f"from {types_package}.{dep} import {', '.join(sorted(classes))}" for dep, classes in sorted(imports.items())
        ]
        defined: list[str] = []
        parts = []
        for cls in sorted(mine, key=order.index):
            parts.append(blocks[cls])
            defined.append(cls)
            for alias in aliases.get(cls, ()):
                parts.append(alias)
                defined.append(alias.partition(" = ")[0])
        source = preamble.rstrip("\n") + "\n" + "\n".join(lines) + "\n\n\n" + "\n\n\n".join(parts) + "\n"
        source += f"\n__all__ = {sorted(defined)!r}\n"
        modules.append(MessageModule(module, tuple(defined), source))
    return modules
