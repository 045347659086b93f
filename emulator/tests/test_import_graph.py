"""The package's import graph, read from its sources with `ast`: no import cycle among its
modules (the algorithms package above all), and the algorithm families import only the
framework and the shared helpers, never one another.

Every import counts, a function's lazy one too, except those under ``if TYPE_CHECKING:``.
An edge goes to the module named (``from .x import y`` to ``x``, or to ``x.y`` when that is a
module); the import of a package's ``__init__`` that Python makes before any of its
submodules is not an edge (else every package importing its own submodules would be a cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import eerest_emulator
import pytest

PACKAGE = "eerest_emulator"
ALGORITHMS = f"{PACKAGE}._algorithms"
#: The algorithm package's modules that are no family: what the families may import.
FRAMEWORK = {ALGORITHMS, *(f"{ALGORITHMS}.{m}" for m in ("framework", "coerce", "bands", "placement"))}

Graph = dict[str, set[str]]


def modules(root: Path, package: str) -> dict[str, Path]:
    """Module name -> source file, for every module of the package below `root`."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements below `node`, leaving out the bodies of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _imports(child)


def _from_module(node: ast.ImportFrom, name: str, path: Path) -> str:
    """The absolute name of the module a `from ... import` in module `name` reads from."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    if not node.level:
        return node.module or ""
    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{anchor}.{node.module}" if node.module else anchor


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that module `name` (source `path`) imports."""
    out = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _from_module(node, name, path)
            # `from m import x`: the module m.x if there is one, else m (x is a name in it)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        out |= {t for t in targets if t in known}
    return out


def import_graph(root: Path, package: str) -> Graph:
    found = modules(root, package)
    return {name: imported(name, path, set(found)) for name, path in found.items()}


Cycle = tuple[list[str], list[str]]  # a path that ends where it starts, and every module of its circle


def cycles(graph: Graph) -> list[Cycle]:
    """Per strongly connected component with a cycle (Tarjan's algorithm), a shortest cycle
    through its first module and all its modules; sorted, so a failure reads the same every run."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for component in components:
        start = min(component)
        if len(component) > 1 or start in graph.get(start, ()):
            out.append((_cycle_through(start, component, graph), sorted(component)))
    return sorted(out)


def _cycle_through(start: str, component: set[str], graph: Graph) -> list[str]:
    """A shortest path from `start` back to itself inside its component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component has one


def describe(found: list[Cycle]) -> str:
    lines = ["import cycles:"]
    for cycle, circle in found:
        lines.append("  " + " -> ".join(cycle))
        if len(circle) > len(cycle) - 1:
            lines.append(f"    (one cycle of a circle of {len(circle)} modules: {', '.join(circle)})")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(Path(eerest_emulator.__file__).parent, PACKAGE)


def test_the_graph_sees_the_algorithm_modules(graph: Graph) -> None:
    assert {f"{ALGORITHMS}.core", f"{ALGORITHMS}.framework", f"{ALGORITHMS}.regions"} <= set(graph)
    assert f"{ALGORITHMS}.regions" in graph[ALGORITHMS]  # the loader imports the families
    assert graph[f"{ALGORITHMS}.regions"] >= {f"{ALGORITHMS}.placement", f"{ALGORITHMS}.framework", f"{PACKAGE}._grid"}
    assert f"{PACKAGE}._grid" not in graph[f"{PACKAGE}._reproject"]  # only under TYPE_CHECKING there


def test_no_import_cycle_among_the_algorithm_modules(graph: Graph) -> None:
    algorithms = {m: {i for i in imports if i.startswith(ALGORITHMS)} for m, imports in graph.items() if m.startswith(ALGORITHMS)}
    found = cycles(algorithms)
    assert not found, describe(found)


def test_no_import_cycle_in_the_package(graph: Graph) -> None:
    found = cycles(graph)
    assert not found, describe(found)


def test_algorithm_families_import_no_other_family(graph: Graph) -> None:
    families = {m for m in graph if m.startswith(f"{ALGORITHMS}.")} - FRAMEWORK
    assert len(families) >= 9
    wrong = {f: sorted(graph[f] & families) for f in sorted(families) if graph[f] & families}
    assert not wrong, f"families importing families (move what they share to a helper module): {wrong}"
    helpers = FRAMEWORK - {ALGORITHMS}
    assert not [h for h in helpers if graph[h] & families], "the framework and helpers import no family"


def test_no_module_imports_another_ones_private_names() -> None:
    """What modules share is public in the module that defines it (the modules themselves
    are private to the package: `from .. import _reducers` is fine)."""
    found = modules(Path(eerest_emulator.__file__).parent, PACKAGE)
    private = [
        f"{name}:{node.lineno} imports {base}.{alias.name}"
        for name, path in found.items()
        for node in _imports(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (base := _from_module(node, name, path)).startswith(PACKAGE)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__") and f"{base}.{alias.name}" not in found
    ]
    assert not private, private


def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    """The checks above would fail, naming the cycle: through a lazy import too, and not
    through one under TYPE_CHECKING."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "a.py").write_text("from . import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from .c import x\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\nfrom .a import y\nif TYPE_CHECKING:\n    from . import d\n")
    (tmp_path / "d.py").write_text("import pkg.c\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": {"pkg.a"}, "pkg.d": {"pkg.c"}}
    found = cycles(graph)
    assert found == [(["pkg.a", "pkg.b", "pkg.c", "pkg.a"], ["pkg.a", "pkg.b", "pkg.c"])]
    assert describe(found) == "import cycles:\n  pkg.a -> pkg.b -> pkg.c -> pkg.a"
    graph["pkg.b"].add("pkg.d")  # a second way round: the circle is named whole
    assert describe(cycles(graph)) == (
        "import cycles:\n  pkg.a -> pkg.b -> pkg.c -> pkg.a\n"
        "    (one cycle of a circle of 4 modules: pkg.a, pkg.b, pkg.c, pkg.d)"
    )
