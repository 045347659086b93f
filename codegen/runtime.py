"""The runtime a standalone package ships inside itself: eerest's generic runtime, copied.

A package generated for any Google API (``generate --schema``) needs the hand-written runtime
its code calls: HTTP, auth, retries, paths, paging, streaming, messages (``eerest._core``, with
``eerest.errors`` and ``eerest._version``). There is one copy of that runtime, eerest's own
sources; nothing here re-implements it. At generation time those modules are copied into the
package as ``<package>._runtime`` with their imports of ``eerest`` rewritten, so the package
imports neither eerest nor anything of Earth Engine's: it needs only httpx, pydantic and
google-auth.

The sources come from the eerest-codegen distribution (which ships them, ``_runtime_src/``, built
from ``src/eerest`` of the same checkout), or in a checkout from ``src/eerest`` itself. The one
Earth Engine hook of the runtime, ``eerest._ee`` (``ee.Image`` objects as request values),
is replaced by a pass-through: a standalone package has no earthengine-api interop. A runtime
module importing any other part of eerest stops generation (it would not be standalone).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

__all__ = ["RUNTIME_PACKAGE", "StandaloneError", "check_standalone", "runtime_files", "runtime_sources", "use_runtime"]

#: The subpackage of a standalone package that holds the copied runtime.
RUNTIME_PACKAGE = "_runtime"

#: eerest modules the runtime is made of: module -> its file under the sources' root.
_MODULES = {"eerest._core": "_core", "eerest.errors": "errors.py", "eerest._version": "_version.py"}

#: The Earth Engine hook, replaced: module -> (names the runtime may import of it, replacement).
_PASS_THROUGH = {
    "eerest._ee": (
        {"to_expression", "is_ee_object"},
        '''"""No earthengine-api interop in a standalone package: request values are sent as given."""

from __future__ import annotations

from typing import Any

__all__ = ["is_ee_object", "to_expression"]


def is_ee_object(value: Any) -> bool:
    """Never: a standalone package knows nothing of ``ee`` objects."""
    return False


def to_expression(value: Any) -> Any:
    """``value`` unchanged."""
    return value
''',
    )
}
_REPLACEMENT_NAME = {"eerest._ee": "_passthrough"}

_EEREST_MODULE = re.compile(r"\beerest\.(_core|errors|_version|_ee)\b")


class StandaloneError(Exception):
    """The runtime cannot be copied into a standalone package."""


def runtime_sources() -> Path:
    """The directory holding ``_core/``, ``errors.py`` and ``_version.py``: the distribution's
    copy, else the checkout's ``src/eerest``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_runtime_src", here.parent / "src" / "eerest"):
        if (candidate / "_core" / "client.py").is_file():
            return candidate
    raise StandaloneError(
        f"no runtime sources next to {here} (_runtime_src/ or ../src/eerest): reinstall eerest-codegen, "
        "or pass --runtime eerest to use the installed eerest's runtime"
    )


def _rename(package: str) -> dict[str, str]:
    base = f"{package}.{RUNTIME_PACKAGE}"
    return {
        "eerest._core": base,
        "eerest.errors": f"{base}.errors",
        "eerest._version": f"{base}._version",
        "eerest._ee": f"{base}.{_REPLACEMENT_NAME['eerest._ee']}",
    }


def use_runtime(source: str, package: str) -> str:
    """``source`` with its references to eerest's runtime pointed at ``<package>._runtime``."""
    rename = _rename(package)
    return _EEREST_MODULE.sub(lambda m: rename[m.group(0)], source)


def _check_imports(name: str, source: str) -> None:
    """Fail if a copied module still imports eerest, or more of the Earth Engine hook than the
    pass-through has."""
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            for hook, (names, _) in _PASS_THROUGH.items():
                if node.module == hook and not {a.name for a in node.names} <= names:
                    raise StandaloneError(
                        f"{name} imports {sorted(a.name for a in node.names)} of {hook}, more than a standalone runtime passes through"
                    )
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        for module in modules:
            if module == "eerest" or (
                module.startswith("eerest.")
                and not any(module == known or module.startswith(known + ".") for known in (*_MODULES, *_PASS_THROUGH))
            ):
                raise StandaloneError(
                    f"{name} imports {module}, which is not part of the runtime a standalone package ships "
                    "(only eerest._core, eerest.errors and eerest._version are)"
                )


def runtime_files(package: str) -> dict[str, str]:
    """The files of ``<package>._runtime``, relative to the package's directory."""
    root = runtime_sources()
    version = re.search(r'__version__\s*=\s*"([^"]+)"', (root / "_version.py").read_text(encoding="utf-8"))
    header = (
        f"# Copied by eerest codegen from eerest {version.group(1) if version else ''} ({{}}).\n"
        "# DO NOT EDIT: regenerate the package instead.\n"
    )
    files: dict[str, str] = {}
    sources: list[tuple[str, Path]] = []
    for module, relative in _MODULES.items():
        path = root / relative
        if path.is_dir():
            sources.extend(
                (f"{module}.{p.stem}" if p.stem != "__init__" else module, p) for p in sorted(path.glob("*.py"))
            )
        else:
            sources.append((module, path))
    for module, path in sources:
        text = path.read_text(encoding="utf-8")
        _check_imports(module, text)
        target = use_runtime(module, package)[len(package) + 1 :]
        parts = target.split(".")
        name = "/".join(parts) + ".py" if module != "eerest._core" else f"{RUNTIME_PACKAGE}/__init__.py"
        files[name] = header.format(module) + use_runtime(text, package)
    files["errors.py"] = (
        header.format("eerest.errors")
        + '"""The exceptions this package raises (its runtime\'s ``errors``)."""\n\n'
        + f"from .{RUNTIME_PACKAGE}.errors import *  # noqa: F403\n"
        + f"from .{RUNTIME_PACKAGE}.errors import __all__ as __all__\n"
    )
    for hook, (_, replacement) in _PASS_THROUGH.items():
        files[f"{RUNTIME_PACKAGE}/{_REPLACEMENT_NAME[hook]}.py"] = header.format(f"in place of {hook}") + replacement
    return dict(sorted(files.items()))


def check_standalone(files: dict[str, str]) -> None:
    """Fail if a file of a standalone package imports eerest (or ``ee``)."""
    for name, source in files.items():
        if not name.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(source, name)):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for module in modules:
                if module.split(".")[0] in ("eerest", "ee"):
                    raise StandaloneError(f"{name} imports {module}: a standalone package must not (what imports it?)")
