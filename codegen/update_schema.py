"""``nox -s update_schema -- SOURCE [--version V] [--fail-on-breaking] [--root DIR]``.

Takes a new discovery document (path or URL) of any Google API, writes it normalised to
``schema/<name>.<version>.json`` (the file ``codegen/config.yaml`` generates from, when it
lists one for that API and version) and to the emulator's copy of it when the emulator serves
that API (``emulator/src/eerest_emulator/discovery/``: the emulator validates from its own copy,
kept equal here), regenerates the API packages (``src/eerest/v*``) through
``codegen.pipeline.generate_project``, prints the API change report against the previous
document and what it breaks outside the generated code (``codegen.impact``: overlay bindings,
``include_methods`` entries, hand-written call sites), and prepends the report to
``CHANGELOG.md``. Exit codes: 0 done, 1 breaking changes with ``--fail-on-breaking``
(everything is still written, for bots that open update PRs), 2 bad input or arguments,
3 regeneration failed (schema, emulator copy and changelog are rolled back).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diff import Report, diff
from .diff_report import render_markdown, render_text
from .normalize import dumps, load, normalize
from .surface import include_methods_for, surface

if TYPE_CHECKING:
    from .config import ApiTarget

__all__ = [
    "CHANGELOG_TITLE",
    "EMULATOR_COPIES",
    "UpdateError",
    "emulator_copy",
    "main",
    "prepend_changelog",
    "resolve_name",
    "resolve_version",
    "schema_path",
]

CHANGELOG_TITLE = "# Changelog"
#: The emulator's own copies of the discovery documents it serves (relative to the root).
EMULATOR_COPIES = Path("emulator", "src", "eerest_emulator", "discovery")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]*$")

Generate = Callable[[Path], Sequence[Path]]


class UpdateError(Exception):
    """A problem with the input that the user must fix (reported, exit code 2)."""


def schema_path(root: Path, name: str, version: str) -> Path:
    """Where the document of API ``name``, ``version`` lives: the schema ``codegen/config.yaml``
    generates from for them, else ``<root>/schema/<name>.<version>.json``."""
    for target in _config_targets(root):
        path = root / target.schema
        if path.exists():
            doc = load(path)
            if (doc.get("name"), doc.get("version")) == (name, version):
                return path
    return root / "schema" / f"{name}.{version}.json"


def emulator_copy(root: Path, target: Path) -> Path | None:
    """The emulator's copy of ``target`` (``schema/<name>.<version>.json``), if the emulator
    serves that API: it ships a document of the same name already."""
    copies = root / EMULATOR_COPIES
    api = target.name.split(".")[0]
    if not copies.is_dir() or not any(copies.glob(f"{api}.*.json")):
        return None
    return copies / target.name


def _config_targets(root: Path) -> tuple[ApiTarget, ...]:
    from .config import load_config
    from .pipeline import CONFIG_PATH

    path = root / CONFIG_PATH
    return load_config(path).apis if path.exists() else ()


def resolve_name(doc: dict[str, Any]) -> str:
    """The document's API name (``storage``, ``earthengine``...)."""
    name = doc.get("name")
    if not name:
        raise UpdateError("the document has no 'name' field: is it a Google API discovery document?")
    if not _VERSION_RE.match(str(name)) or "." in str(name):
        raise UpdateError(f"unusable API name {name!r} (letters, digits and '_' only)")
    return str(name)


def resolve_version(doc: dict[str, Any], requested: str | None) -> str:
    """The version to file the document under; ``--version`` must agree with the document."""
    declared = doc.get("version")
    if requested and declared and requested != declared:
        raise UpdateError(
            f"--version {requested} disagrees with the document's version {declared!r}; "
            "pass the matching document or drop --version"
        )
    version = requested or declared
    if not version:
        raise UpdateError("the document has no 'version' field; pass --version")
    if not _VERSION_RE.match(str(version)):
        raise UpdateError(f"unusable version {version!r} (letters, digits, '_' and '.' only)")
    return str(version)


def prepend_changelog(text: str, entry: str) -> str:
    """Insert ``entry`` newest-first: after the ``# Changelog`` title/intro, before older entries."""
    entry = entry.rstrip("\n") + "\n"
    if not text.strip():
        return f"{CHANGELOG_TITLE}\n\n{entry}"
    lines = text.splitlines(keepends=True)
    if not lines[0].startswith("# "):
        lines[:0] = [f"{CHANGELOG_TITLE}\n", "\n"]
    # First level-2 heading after the title is the newest existing entry.
    at = next((i for i, line in enumerate(lines) if i > 0 and line.startswith("## ")), len(lines))
    head = "".join(lines[:at]).rstrip("\n") + "\n\n"
    tail = "".join(lines[at:])
    return head + entry + ("\n" + tail if tail else "")


def _load_generate() -> Generate:
    """Import the generator lazily: the schema/changelog half works without it."""
    try:
        from .pipeline import generate_project
    except ImportError as exc:  # pragma: no cover - depends on the checkout
        raise UpdateError(
            f"cannot regenerate: codegen.pipeline unavailable ({exc})"
        ) from exc
    return generate_project


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox -s update_schema --",
        description="Update schema/ from a discovery document, regenerate, report API changes.",
    )
    parser.add_argument("source", help="path or http(s) URL of the new discovery document")
    parser.add_argument("--version", help="API version (default: the document's 'version')")
    parser.add_argument(
        "--fail-on-breaking", action="store_true", help="exit 1 if any change is breaking"
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="project root to operate on (default: cwd)"
    )
    parser.add_argument(
        "--no-generate", action="store_true", help="only update schema/ and CHANGELOG.md"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the update; see the module docstring for the exit codes."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    root = (args.root or Path.cwd()).resolve()
    try:
        new_doc = normalize(load(args.source))
        if new_doc.get("kind") != "discovery#restDescription":
            raise UpdateError("not a Google API discovery document: its 'kind' is not 'discovery#restDescription'")
        name = resolve_name(new_doc)
        version = resolve_version(new_doc, args.version)
        generate = None if args.no_generate else _load_generate()
        target = schema_path(root, name, version)
        old_doc = normalize(load(target)) if target.exists() else None
    except UpdateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: cannot load {exc}", file=sys.stderr)
        return 2

    selected = include_methods_for(new_doc, root)  # judge only what the generator emits
    report = diff(None if old_doc is None else surface(old_doc, selected), surface(new_doc, selected))
    sys.stdout.write(render_text(report))
    breakage = _report_breakage(root, target, old_doc, new_doc)
    status = _apply(root, target, new_doc, report, generate)
    if status:
        return status
    return 1 if args.fail_on_breaking and (report.has_breaking or breakage) else 0


def _report_breakage(root: Path, target: Path, old_doc: dict[str, Any] | None, new_doc: dict[str, Any]) -> int:
    """Print what the new document breaks outside the generated code; how many places."""
    from .config import load_config
    from .pipeline import CONFIG_PATH

    generated = [t for t in _config_targets(root) if (root / t.schema).resolve() == target.resolve()]
    if not generated:
        print(
            f"note: {target.relative_to(root)} is not one of codegen/config.yaml's apis: nothing is generated "
            f"from it (add it there, with a package name, to generate it)",
            file=sys.stderr,
        )
        return 0
    if old_doc is None:
        return 0
    from .discovery import DiscoveryError
    from .impact import find_breakage

    try:
        found = find_breakage(root, load_config(root / CONFIG_PATH), old_doc, new_doc)
    except DiscoveryError as exc:
        print(f"warning: cannot scan the hand-written code against the new document: {exc}", file=sys.stderr)
        return 0
    if found:
        print(f"\nbreaks outside the generated code ({len(found)}; fix these before committing):")
        for item in found:
            print(f"  BREAKS {item}")
    return len(found)


def _apply(
    root: Path, target: Path, doc: dict[str, Any], report: Report, generate: Generate | None
) -> int:
    """Write the schema (and the emulator's copy) and changelog, then regenerate; roll all
    back if generation fails."""
    changelog = root / "CHANGELOG.md"
    copy = emulator_copy(root, target)
    outputs = [p for p in (target, copy, changelog) if p is not None]
    saved = {path: path.read_bytes() if path.exists() else None for path in outputs}
    unchanged = not report.changes and not report.revision_changed and not report.new_version
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(doc), encoding="utf-8")
    print(f"wrote {target.relative_to(root)}", file=sys.stderr)
    if copy is not None:
        copy.write_bytes(target.read_bytes())
        print(f"wrote {copy.relative_to(root)} (the emulator's copy)", file=sys.stderr)
    if unchanged:
        print("schema unchanged: CHANGELOG.md left as is", file=sys.stderr)
    else:
        old_text = changelog.read_text(encoding="utf-8") if changelog.exists() else ""
        changelog.write_text(prepend_changelog(old_text, render_markdown(report)), encoding="utf-8")
        print("updated CHANGELOG.md", file=sys.stderr)
    if generate is None:
        return 0
    try:
        written = generate(root)
    except Exception as exc:
        for path, content in saved.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        print(
            f"error: regeneration failed, schema, emulator copy and changelog restored: {exc!r}", file=sys.stderr
        )
        return 3
    print(f"regenerated the API packages ({len(list(written))} files)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
