"""The package's layers, read from its sources with ``ast``: dependencies point one way.

The core (HTTP, auth, retries, messages) knows nothing of the features built on it; the file
formats know nothing of clients; no two subpackages import each other. Every import counts, a
function's lazy one too, except those under ``if TYPE_CHECKING:`` (annotations only).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import eerest

ROOT = Path(eerest.__file__).parent

#: What each layer may import of eerest, besides itself (everything else is a violation).
ALLOWED = {
    "eerest._core": {"eerest.errors", "eerest._version", "eerest._ee"},
    "eerest._ee": set(),  # ee objects to Expressions, duck-typed: imports nothing
    "eerest._formats": {"eerest.errors", "eerest._extras"},
    "eerest.errors": set(),
    "eerest._extras": set(),
}
#: Features built on the core: the core and the generated packages must not import them.
FEATURES = {"eerest._area", "eerest._table", "eerest._tasks", "eerest.xarray", "eerest._cli"}


def _unit(module: str) -> str:
    """The subpackage (or top-level module) a module belongs to: ``eerest._core.client`` ->
    ``eerest._core``."""
    return ".".join(module.split(".")[:2])


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ["eerest", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """The eerest modules imported below ``node``, leaving out ``if TYPE_CHECKING:`` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imported(ast.Module(body=[other], type_ignores=[]), module, is_package)
        elif isinstance(child, ast.Import):
            yield from (a.name for a in child.names if a.name.split(".")[0] == "eerest")
        elif isinstance(child, ast.ImportFrom):
            if child.level:
                base = module.split(".")
                base = base[: len(base) - child.level + (1 if is_package else 0)]
                target = ".".join(base + ([child.module] if child.module else []))
            else:
                target = child.module or ""
            if target.split(".")[0] == "eerest":
                # `from eerest import tiling` imports the module eerest.tiling
                yield from (f"{target}.{a.name}" if target == "eerest" else target for a in child.names)
        else:
            yield from _imported(child, module, is_package)


def _graph() -> dict[str, set[str]]:
    """Subpackage -> the other subpackages (and top-level modules) it imports."""
    graph: dict[str, set[str]] = {}
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = {_unit(t) for t in _imported(tree, module, path.name == "__init__.py")}
        graph.setdefault(_unit(module), set()).update(t for t in targets if t not in {_unit(module), "eerest"})
    return graph


GRAPH = _graph()


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_import_only_what_they_are_allowed(layer: str) -> None:
    assert GRAPH.get(layer, set()) <= ALLOWED[layer], f"{layer} imports {sorted(GRAPH[layer] - ALLOWED[layer])}"


def test_the_core_and_formats_know_no_feature() -> None:
    for unit in ("eerest._core", "eerest._formats", "eerest._overlays", "eerest.pixels", "eerest.tiling"):
        assert not GRAPH.get(unit, set()) & FEATURES, unit


def test_no_two_subpackages_import_each_other() -> None:
    cycles = []
    for unit, targets in GRAPH.items():
        for target in targets:
            seen, stack = set(), [target]
            while stack:
                current = stack.pop()
                if current == unit:
                    cycles.append((unit, target))
                    break
                if current not in seen:
                    seen.add(current)
                    stack.extend(GRAPH.get(current, ()))
    assert not cycles, f"import cycles through: {sorted(cycles)}"


def test_the_package_does_not_scan_the_import_path() -> None:
    # One package directory: eerest.v1 etc. are ordinary subpackages, found without
    # extending __path__ (which breaks zipimport, PyInstaller and editable installs).
    assert "__path__" not in (ROOT / "__init__.py").read_text(encoding="utf-8")
