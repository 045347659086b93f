"""``python -m codegen {generate,check,diff}``; installed from ./codegen: ``eerest-codegen``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["diff"]:
        from .diff_report import main as diff_main

        return diff_main(argv[1:])
    prog = "python -m codegen" if __package__ == "codegen" else "eerest-codegen"
    parser = argparse.ArgumentParser(prog=prog, description="Typed Python clients from Google API discovery documents.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the API packages (src/eerest/v*) (or a standalone package with --schema)")
    gen.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    gen.add_argument("--schema", type=Path, help="any discovery document, for a standalone package")
    gen.add_argument("--out", type=Path, help="with --schema: the directory to write the package into")
    gen.add_argument("--package", help="with --schema: the package name (default: the API's name and version, e.g. storage_v1)")
    gen.add_argument(
        "--runtime",
        choices=("copy", "eerest"),
        default="copy",
        help="with --schema: copy the runtime into the package as <package>._runtime (default; it then needs only "
        "httpx, pydantic and google-auth), or import it from an installed eerest",
    )
    check = sub.add_parser("check", help="exit 1 if the generated API packages are not what generate would write")
    check.add_argument("--root", type=Path, default=Path("."))
    sub.add_parser("diff", help="API change report: diff OLD NEW [--json]")
    for command in (gen, check):
        command.add_argument("--traceback", action="store_true", help="on an error, the traceback too")
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except Exception as exc:  # one line and a status, never a traceback (unless asked)
        if getattr(args, "traceback", False):
            raise
        print(f"python -m codegen {args.command}: error: {error_line(exc)}", file=sys.stderr)
        return 2


def error_line(exc: BaseException) -> str:
    """An exception as one line: what the document or the generator got wrong."""
    from .discovery import DiscoveryError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (DiscoveryError, OSError)):
        return text
    if isinstance(exc, ValueError):  # unreadable JSON, YAML ...
        return f"{type(exc).__name__}: {text}"
    return f"{type(exc).__name__}: {text} (a generator bug? rerun with --traceback and report it)"


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import pipeline

    if args.command == "generate":
        if args.schema:
            if not args.out:
                parser.error("--schema needs --out (the directory to write the package into)")
            package = args.package or pipeline.default_package(args.schema)
            written = pipeline.generate_standalone(args.schema, args.out, package, vendor_runtime=args.runtime == "copy")
            print(f"wrote {len(written)} files: package {package} in {args.out} (put {args.out} on sys.path, then import {package})")
            return 0
        else:
            written = pipeline.generate_project(args.root)
        print(f"wrote {len(written)} files")
        return 0
    problems = pipeline.check_project(args.root)
    if problems:
        print("generated code is out of date; run `python -m codegen generate`:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("generated code is up to date")
    return 0
