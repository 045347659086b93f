"""The ``eerest`` command line: ``eerest read-area``, ``read-table``, ``value``, ``tasks``,
``assets`` and ``emulator``.

It needs ``pip install 'eerest[cli]'`` (click, tqdm, tifffile). As with ``httpx[cli]``, the
console script is always installed and says what to install when the extra is missing.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["main"]

_MISSING = "the eerest command line needs click, tqdm and tifffile: pip install 'eerest[cli]'"


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    if importlib.util.find_spec("click") is None:
        print(f"Error: {_MISSING}", file=sys.stderr)
        return 1
    from . import assets, table, tasks, value  # noqa: F401  (register their commands on the group)
    from .commands import cli

    try:
        cli.main(args=argv, prog_name="eerest")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0
