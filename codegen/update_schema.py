"""``nox -s update_schema -- SOURCE [--version V] [--fail-on-breaking] [--root DIR]``.

Takes a new discovery document (path or URL), writes it normalised to
``schema/earthengine.<version>.json``, regenerates the API packages (``src/eerest/v*``) through
``codegen.pipeline.generate_project``, prints the API change report against the previous
document and prepends it to ``CHANGELOG.md``. Exit codes: 0 done, 1 breaking changes with
``--fail-on-breaking`` (everything is still written, for bots that open update PRs),
2 bad input or arguments, 3 regeneration failed (schema and changelog are rolled back).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from codegen.diff import Report, diff
from codegen.diff_report import render_markdown, render_text
from codegen.normalize import dumps, load, normalize
from codegen.surface import include_methods_for, surface

__all__ = [
    "API_NAME",
    "CHANGELOG_TITLE",
    "UpdateError",
    "main",
    "prepend_changelog",
    "resolve_version",
    "schema_path",
]

API_NAME = "earthengine"
CHANGELOG_TITLE = "# Changelog"
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]*$")

Generate = Callable[[Path], Sequence[Path]]


class UpdateError(Exception):
    """A problem with the input that the user must fix (reported, exit code 2)."""


def schema_path(root: Path, version: str) -> Path:
    """Where the document for ``version`` lives: ``<root>/schema/earthengine.<version>.json``."""
    return root / "schema" / f"{API_NAME}.{version}.json"


def resolve_version(doc: dict[str, Any], requested: str | None) -> str:
    """The version to file the document under; ``--version`` must agree with the document."""
    name = doc.get("name")
    if name is not None and name != API_NAME:
        raise UpdateError(f"the document describes API {name!r}, not {API_NAME!r}")
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
        from codegen.pipeline import generate_project
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
        version = resolve_version(new_doc, args.version)
        generate = None if args.no_generate else _load_generate()
        target = schema_path(root, version)
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
    status = _apply(root, target, new_doc, report, generate)
    if status:
        return status
    return 1 if args.fail_on_breaking and report.has_breaking else 0


def _apply(
    root: Path, target: Path, doc: dict[str, Any], report: Report, generate: Generate | None
) -> int:
    """Write the schema and changelog, then regenerate; roll both back if generation fails."""
    changelog = root / "CHANGELOG.md"
    saved = {path: path.read_bytes() if path.exists() else None for path in (target, changelog)}
    unchanged = not report.changes and not report.revision_changed and not report.new_version
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(doc), encoding="utf-8")
    print(f"wrote {target.relative_to(root)}", file=sys.stderr)
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
            f"error: regeneration failed, schema and changelog restored: {exc!r}", file=sys.stderr
        )
        return 3
    print(f"regenerated the API packages ({len(list(written))} files)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
