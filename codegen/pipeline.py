"""Writing and checking generated code: the whole pipeline for a project or one document."""

from __future__ import annotations

import json
import keyword
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import ApiTarget, Config, load_config
from .discovery import DiscoveryError, Options, load_api
from .render import render_package

__all__ = [
    "CONFIG_PATH",
    "check_project",
    "default_package",
    "expected_files",
    "generate_project",
    "generate_standalone",
    "owned_dirs",
    "read_document",
]

CONFIG_PATH = Path("codegen") / "config.yaml"


def _package_files(root: Path, config: Config, target: ApiTarget) -> dict[Path, str]:
    doc = read_document(root / target.schema, target.schema)
    api = load_api(doc, config.options_for(target))
    files = render_package(
        api,
        target.package,
        doc,
        scopes=config.scopes,
        type_imports=config.type_imports,
        mixins=(config.sync_mixins, config.async_mixins),
    )
    base = Path(config.output, *target.package.split("."))
    return {base / name: source for name, source in files.items()}


def read_document(path: Path, name: str | None = None) -> dict[str, Any]:
    """The JSON of a discovery document; a file that is not one is a :class:`DiscoveryError`
    naming it (a missing file stays an ``OSError``, which names it too)."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise DiscoveryError(f"{name or path}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise DiscoveryError(f"{name or path}: a discovery document is a JSON object, not {type(doc).__name__}")
    return doc


def expected_files(root: Path) -> dict[Path, str]:
    """Every file the generator owns under the output directory, relative to ``root``."""
    config = load_config(root / CONFIG_PATH)
    files: dict[Path, str] = {}
    for target in config.apis:
        files.update(_package_files(root, config, target))
    return files


def owned_dirs(config: Config) -> list[Path]:
    """The package directories the generator owns whole (relative to the project root): each
    API version's package, e.g. ``src/eerest/v1``; hand-written code lives beside them."""
    return [Path(config.output, *target.package.split(".")) for target in config.apis]


def _owned_files(root: Path, config: Config) -> list[Path]:
    return sorted(f for d in owned_dirs(config) if (root / d).exists() for f in (root / d).rglob("*.py"))


def _write(root: Path, files: Mapping[Path, str], config: Config) -> list[Path]:
    for stale in _owned_files(root, config):
        if stale.relative_to(root) not in files:
            stale.unlink()
    for path, source in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8", newline="\n")
    return sorted(files)


def generate_project(root: Path) -> list[Path]:
    """Regenerate the API packages from ``schema/`` + ``codegen/``; returns the files written."""
    config = load_config(root / CONFIG_PATH)
    files = expected_files(root)
    return _write(root, files, config)


def check_project(root: Path) -> list[str]:
    """The generated files that differ from what the generator would write (or should not exist)."""
    config = load_config(root / CONFIG_PATH)
    files = expected_files(root)
    problems = []
    for path, source in sorted(files.items()):
        actual = root / path
        if not actual.exists():
            problems.append(f"{path}: missing")
        elif actual.read_text(encoding="utf-8") != source:
            problems.append(f"{path}: differs from the generator's output (stale or hand-edited)")
    for extra in _owned_files(root, config):
        if extra.relative_to(root) not in files:
            problems.append(f"{extra.relative_to(root)}: not written by the generator")
    return problems


def generate_standalone(
    schema: Path,
    out: Path,
    package: str,
    include_methods: frozenset[str] = frozenset(),
    *,
    vendor_runtime: bool = False,
) -> list[Path]:
    """A package for any discovery document (every method unless ``include_methods``).

    ``vendor_runtime``: the package holds its own copy of the runtime (``<package>._runtime``,
    see ``codegen.runtime``) and imports nothing of eerest; else it imports ``eerest._core``
    (eerest must be installed)."""
    if not all(part.isidentifier() and not keyword.iskeyword(part) for part in package.split(".")):
        raise DiscoveryError(f"--package {package!r}: not a dotted Python name (such as 'myapi.v1')")
    doc = read_document(schema)
    api = load_api(doc, Options(include_methods=include_methods, source=schema.name))
    files = render_package(api, package, doc)
    if vendor_runtime:
        from .runtime import check_standalone, runtime_files, use_runtime

        files = {name: use_runtime(source, package) for name, source in files.items()}
        files.update(runtime_files(package))
        check_standalone(files)
    base = out.joinpath(*package.split("."))
    written = []
    for name, source in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def default_package(schema: Path) -> str:
    """A package name for a document: ``storage.v1.json`` -> ``storage_v1`` (its name and version)."""
    doc = read_document(schema)
    from .naming import snake_case

    name = f"{doc.get('name') or schema.name.split('.')[0]}_{doc.get('version') or ''}".strip("_")
    return snake_case(name.replace(".", "_").replace("-", "_"))
