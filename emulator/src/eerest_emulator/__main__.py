"""`python -m eerest_emulator [--data DIR] [--host 127.0.0.1] [--port 0] [--storage DIR]
[--task-seconds S] [--max-running-tasks N] [--max-queued-tasks N]`: serve until stopped.

The first line of output is the base URL.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from ._server import Emulator
from ._version import __version__


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eerest_emulator", description="A local Earth Engine REST emulator.")
    ap.add_argument("--data", default=None, help="data directory, changed by asset writes, exports and imports (default: a temporary copy of the bundled sample)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    ap.add_argument("--no-auth", action="store_true", help="accept requests without a bearer token")
    ap.add_argument("--storage", default=None,
                    help="where exports write (gcs/BUCKET/..., drive/FOLDER/...) and imports read gs:// URIs "
                         "(default: the data directory)")
    ap.add_argument("--task-seconds", type=float, default=None,
                    help="run time of each batch task (export, import), in seconds (default 2; 0: done at once)")
    ap.add_argument("--max-running-tasks", type=int, default=None, help="tasks running at once per project (default 4)")
    ap.add_argument("--max-queued-tasks", type=int, default=None,
                    help="unfinished tasks per project before submissions get 429 RESOURCE_EXHAUSTED (default 3000)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--version", action="version", version=f"eerest-emulator {__version__}")
    args = ap.parse_args(argv)
    emu = Emulator(
        args.data, args.host, args.port, require_auth=not args.no_auth, verbose=args.verbose, storage_dir=args.storage,
        task_seconds=args.task_seconds, max_running_tasks=args.max_running_tasks, max_queued_tasks=args.max_queued_tasks,
    ).bind()
    print(emu.url, flush=True)
    print(f"serving {emu.store.root} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        emu.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
