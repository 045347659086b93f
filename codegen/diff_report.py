"""Rendering an API change report (text, JSON, CHANGELOG markdown) and the
``python -m codegen diff`` command, which judges the generated surface by default."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

from .diff import ADDED, CHANGED, GROUP_OF, GROUPS, REMOVED, Change, Report, diff
from .surface import include_methods_for, surface

__all__ = ["main", "render_json", "render_markdown", "render_text"]


def _title(report: Report) -> str:
    return f"{report.name} {report.version}".strip() or "API"


def _revision_line(report: Report) -> str:
    if report.new_version:
        return f"{_title(report)}: new API version, revision {report.new_revision}"
    if report.revision_changed:
        return f"{_title(report)}: revision {report.old_revision} → {report.new_revision}"
    return f"{_title(report)}: revision {report.new_revision} (unchanged)"


def _line(change: Change) -> str:
    prefix = f"BREAKING {change.kind}" if change.breaking else change.kind
    text = f"{prefix} {change.what} {change.path}"
    if change.detail:
        text += f": {change.detail}" if change.kind == CHANGED else f" ({change.detail})"
    return text


def _grouped(report: Report) -> Iterator[tuple[str, list[Change]]]:
    for index, (title, _) in enumerate(GROUPS):
        members = [c for c in report.changes if GROUP_OF.get(c.what) == index]
        if members:
            yield title, members


def _summary(report: Report) -> str:
    n = report.counts()
    return (
        f"{n['total']} change{'s' if n['total'] != 1 else ''} "
        f"({n[ADDED]} added, {n[REMOVED]} removed, {n[CHANGED]} changed), {n['breaking']} breaking"
    )


def render_text(report: Report) -> str:
    """Plain text: revision line, one line per change grouped by section, a summary line."""
    lines = [_revision_line(report)]
    for title, members in _grouped(report):
        lines.append(f"{title}:")
        lines.extend(f"  {_line(change)}" for change in members)
    if not report.changes:
        lines.append("no API changes")
    lines.append(f"summary: {_summary(report)}")
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    """Stable JSON: sorted keys, changes in report order, counts included."""
    payload = {
        "name": report.name,
        "version": report.version,
        "old_revision": report.old_revision,
        "new_revision": report.new_revision,
        "new_version": report.new_version,
        "counts": report.counts(),
        "changes": [asdict(change) for change in report.changes],
    }
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_markdown(report: Report, revision: str | None = None) -> str:
    """A CHANGELOG.md entry: ``## <name> <version> — revision <rev>`` then bullet lines."""
    revision = revision if revision is not None else report.new_revision
    lines = [f"## {_title(report)} — revision {revision}", ""]
    if report.new_version:
        lines.append(f"New API version: {_summary(report)}.")
    elif report.revision_changed:
        lines.append(f"Revision {report.old_revision} → {report.new_revision}: {_summary(report)}.")
    else:
        lines.append(f"{_summary(report).capitalize()}.")
    lines.append("")
    if report.changes:
        for title, members in _grouped(report):
            lines.append(f"### {title.capitalize()}")
            lines.append("")
            lines.extend(_markdown_line(change) for change in members)
            lines.append("")
    else:
        lines.extend(["- No API surface changes.", ""])
    return "\n".join(lines)


def _markdown_line(change: Change) -> str:
    prefix = f"**BREAKING** {change.kind}" if change.breaking else change.kind
    text = f"- {prefix} {change.what} `{change.path}`"
    if change.detail:
        text += f": {change.detail}" if change.kind == CHANGED else f" ({change.detail})"
    return text


# ----------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m codegen diff OLD NEW [--json] [--all]``: print the change report; exit 0.

    For an API that ``codegen/config.yaml`` generates, only the methods it selects and the
    schemas they reach are compared (``--all``: the whole documents)."""
    from .normalize import load

    parser = argparse.ArgumentParser(
        prog="python -m codegen diff",
        description="Report API changes between two discovery documents (paths or URLs).",
    )
    parser.add_argument("old", help="previous discovery document")
    parser.add_argument("new", help="new discovery document")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")
    parser.add_argument("--all", action="store_true", help="compare whole documents, not the generated surface")
    parser.add_argument("--root", type=Path, default=Path("."), help="project root holding codegen/config.yaml")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse error or --help: return instead of exiting
        return int(exc.code or 0)
    try:
        old, new = load(args.old), load(args.new)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    selected = frozenset() if args.all else include_methods_for(new, args.root)
    report = diff(None if old is None else surface(old, selected), surface(new, selected))
    sys.stdout.write(render_json(report) if args.json else render_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
