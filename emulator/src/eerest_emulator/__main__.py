"""`python -m eerest_emulator [--data DIR] [--host 127.0.0.1] [--port 0]`: serve until stopped.

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
    ap.add_argument("--data", default=None, help="data directory (default: the bundled sample)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    ap.add_argument("--no-auth", action="store_true", help="accept requests without a bearer token")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--version", action="version", version=f"eerest-emulator {__version__}")
    args = ap.parse_args(argv)
    emu = Emulator(args.data, args.host, args.port, require_auth=not args.no_auth, verbose=args.verbose).bind()
    print(emu.url, flush=True)
    print(f"serving {emu.store.root} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        emu.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
