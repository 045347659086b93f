#!/usr/bin/env python3
"""Write the Earth Engine algorithm catalogue the emulator lists, from an installed earthengine-api.

earthengine-api (Apache-2.0) ships the real service's `projects.algorithms.list` answer as
`ee/tests/algorithms.json`. The emulator lists every one of these algorithms with its real
signature, so the official client builds all its methods, and answers a call of one it does
not implement with a clear "not implemented in the eerest emulator" error.

The output is gzipped JSON with sorted keys and no timestamp, so running this twice gives
identical bytes. Usage: `python emulator/tools/make_emulator_catalogue.py [OUT_FILE]`.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "eerest_emulator" / "algorithms.json.gz"


def main(argv: list[str]) -> int:
    import ee

    src = Path(ee.__file__).with_name("tests") / "algorithms.json"
    algorithms = json.loads(src.read_text())["algorithms"]
    algorithms.sort(key=lambda a: a["name"])
    out = Path(argv[0]) if argv else DEFAULT_OUT
    raw = json.dumps({"algorithms": algorithms}, sort_keys=True, separators=(",", ":")).encode()
    out.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"{out}: {len(algorithms)} algorithms (earthengine-api {ee.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
