"""Benchmark: the time to ``import eerest`` (and to construct a client) against ``import ee``
and ``import httpx``, each in a fresh interpreter, interleaved round by round.

    python benchmarks/bench_import.py [--rounds 15] [--quick]

The time is measured inside the child, from just before the import statement to just after
(interpreter start-up excluded), so it is what ``python -X importtime`` sums up for the
same statement. See ``python -X importtime -c "import eerest"`` for where it goes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import _harness

SNIPPETS = {
    "import eerest": "import eerest",
    "import eerest + Client(...)": (
        "import eerest\n"
        "from google.oauth2.credentials import Credentials\n"
        "eerest.Client(project='my-project', credentials=Credentials(token='x'))"
    ),
    # Application Default Credentials, which a client looks up with its first request.
    "import eerest + Client('p')": "import eerest\neerest.Client('my-project')",
    "import ee": "import ee",
    "import httpx": "import httpx",
}
CHILD = """
import time
t0 = time.perf_counter()
exec(compile({code!r}, "<bench>", "exec"))
print('{{"seconds": %r}}' % (time.perf_counter() - t0))
"""


def main() -> None:
    args = _harness.parser(__doc__, tuple(SNIPPETS), rounds_=15, quick_rounds=3).parse_args()
    modes = [m for m in SNIPPETS if m in args.only.split(",")] if args.only != ",".join(SNIPPETS) else list(SNIPPETS)
    results: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    n = _harness.n_rounds(args)
    for r in range(n):
        for mode in modes[r % len(modes):] + modes[: r % len(modes)]:
            out = subprocess.run([sys.executable, "-c", CHILD.format(code=SNIPPETS[mode])],
                                 capture_output=True, text=True, check=True).stdout
            results[mode].append({**json.loads(out.strip().splitlines()[-1]), "round": r})
    print(f"{n} fresh interpreter(s) per statement; medians")
    print(_harness.table(results, [("seconds", "seconds", "{:.3f}".format)], "seconds", "import ee"))


if __name__ == "__main__":
    main()
