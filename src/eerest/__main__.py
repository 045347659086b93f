"""``python -m eerest``: the same command line as the ``eerest`` console script."""

import sys

from eerest._cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
