"""The project's source files, for tests that copy the repository (packaging builds, the
update workflow): what git knows of, or in an unpacked sdist everything but caches and builds."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Skipped when copying a non-git tree (an unpacked sdist): caches and build output.
_NOT_SOURCES = {
    ".git",
    ".nox",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "dist",
    "build",
    "out",
}


def source_files(root: Path = ROOT) -> list[str]:
    """Relative paths of the project's files: tracked and untracked-but-not-ignored in a git
    checkout, else (an unpacked sdist) everything except caches and build output."""
    if (root / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = {n for n in out.split("\0") if n}
    else:
        names = set()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in _NOT_SOURCES and not d.endswith(".egg-info")]
            for f in filenames:
                if not f.endswith((".pyc", ".pyo")):
                    names.add(Path(dirpath, f).relative_to(root).as_posix())
    return sorted(n for n in names if (root / n).is_file())  # drops deleted-but-tracked files


def copy_tree(dest: Path, root: Path = ROOT) -> Path:
    """A plain copy of the project's source files into ``dest`` (a scratch repository)."""
    for name in source_files(root):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    return dest
