"""Formatting generated source with ruff (pinned in requirements/codegen.txt): black's
style at a hundred times black's speed, which is what lets the generator take every
real Google API in minutes."""

from __future__ import annotations

import subprocess
import tempfile
from functools import cache
from pathlib import Path

__all__ = ["format_source", "format_sources"]

# No configuration file is read, and ruff runs in an empty directory: nothing around the
# checkout can change the output (import sections would otherwise depend on what
# directories the working directory holds).
_COMMON = ("--isolated", "--target-version", "py310", "--stdin-filename", "generated.py", "-")
_FILES = ("--isolated", "--target-version", "py310", "--no-cache")
_SECTIONS = ("--config", "lint.isort.known-first-party = ['eerest']")


@cache
def _ruff() -> str:
    from ruff.__main__ import find_ruff_bin

    return str(find_ruff_bin())


def _run(args: tuple[str, ...], source: str) -> str:
    with tempfile.TemporaryDirectory(prefix="eerest-codegen-") as empty:
        done = subprocess.run(
            (_ruff(), *args), input=source, capture_output=True, text=True, encoding="utf-8", check=False, cwd=empty
        )
    if done.returncode != 0:
        raise RuntimeError(f"ruff {args[0]} failed on generated code: {done.stderr.strip()}")
    return done.stdout


def format_source(source: str, *, sort_imports: bool = False) -> str:
    """``source`` in black style (line length 88); with ``sort_imports``, imports sorted as isort would."""
    if sort_imports:
        source = _run(("check", "--select", "I", "--fix", "--exit-zero", "--quiet", *_SECTIONS, *_COMMON), source)
    return _run(("format", "--line-length", "88", *_COMMON), source)


def format_sources(sources: dict[str, str], *, drop_unused_imports: bool = False) -> dict[str, str]:
    """Many modules (name -> source) at once, as :func:`format_source` with ``sort_imports``
    formats one (two ruff runs in all, not two per module); with ``drop_unused_imports``,
    imports a module does not use are removed first (generated modules share one import block)."""
    if not sources:
        return {}
    rules = "I,F401" if drop_unused_imports else "I"
    files = {name: f"m{i}.py" for i, name in enumerate(sorted(sources))}
    with tempfile.TemporaryDirectory(prefix="eerest-codegen-") as work:
        for name, file in files.items():
            Path(work, file).write_text(sources[name], encoding="utf-8", newline="\n")
        targets = sorted(files.values())
        for args in (
            ("check", "--select", rules, "--fix", "--exit-zero", "--quiet", *_SECTIONS, *_FILES),
            ("format", "--line-length", "88", *_FILES),
        ):
            done = subprocess.run(
                (_ruff(), *args, *targets), capture_output=True, text=True, encoding="utf-8", check=False, cwd=work
            )
            if done.returncode != 0:
                raise RuntimeError(f"ruff {args[0]} failed on generated code: {done.stderr.strip()}")
        return {name: Path(work, file).read_text(encoding="utf-8") for name, file in files.items()}
