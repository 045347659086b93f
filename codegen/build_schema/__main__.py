"""``python -m codegen.build_schema [--check] [--root DIR]``: write schema/*.json from
schema/sources/, or with ``--check`` exit 1 if the files differ from what it would write."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import build_all, sources
from .markdown import PageError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.build_schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a file would change")
    parser.add_argument("--root", type=Path, default=sources.ROOT, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        outputs = build_all(args.root.resolve())
    except (PageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = [path for path, text in outputs.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path} is not what `python -m codegen.build_schema` writes", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(outputs[path], encoding="utf-8")
        print(f"wrote {path}")
    if not stale:
        print("schema/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
