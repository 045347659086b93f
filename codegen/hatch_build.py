"""Ship eerest's generic runtime with eerest-codegen (see runtime.py): the same files as
src/eerest of this checkout (or, building from an sdist, its _runtime_src/ copy of them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The runtime, relative to src/eerest: the package _core and two modules.
FILES = ("_core", "errors.py", "_version.py")


class RuntimeSources(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for source in (root.parent / "src" / "eerest", root / "_runtime_src"):
            if (source / "_core" / "client.py").is_file():
                break
        else:
            raise FileNotFoundError(
                f"eerest-codegen: no runtime sources at {root.parent / 'src' / 'eerest'} or {root / '_runtime_src'}"
            )
        prefix = "_runtime_src"  # the wheel's sources mapping puts it under eerest_codegen/
        for name in FILES:
            path = source / name
            files = sorted(path.glob("*.py")) if path.is_dir() else [path]
            for file in files:
                build_data["force_include"][str(file)] = f"{prefix}/{file.relative_to(source).as_posix()}"
