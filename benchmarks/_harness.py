"""What every benchmark shares: fresh child processes, interleaved rounds, peak memory.

A benchmark script is its own child: ``script --child MODE ...`` runs one client and prints
one JSON line; the parent runs every mode once per round, in a rotating order, so load on
the machine falls on all of them alike, and reports medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["parser", "rounds", "paired", "table", "tile_columns", "same_checks", "reset_peak", "peak", "rss", "emit", "time_fetches", "byte_compile"]


def parser(doc: str, modes: Sequence[str], rounds_: int, quick_rounds: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--rounds", type=int, default=None, help=f"fresh processes per client (default {rounds_})")
    p.add_argument("--quick", action="store_true", help=f"a smoke run: {quick_rounds} round(s), smaller repeats")
    p.add_argument("--only", default=",".join(modes), help="comma-separated clients")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.set_defaults(default_rounds=rounds_, quick_rounds=quick_rounds)
    return p


def n_rounds(args: argparse.Namespace) -> int:
    if args.rounds:
        return int(args.rounds)
    return int(args.quick_rounds if args.quick else args.default_rounds)


def rounds(script: str, modes: Sequence[str], n: int, extra: Sequence[str] = ()) -> dict[str, list[dict[str, Any]]]:
    """Run each mode ``n`` times, each in a fresh process, interleaved round by round."""
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    for r in range(n):
        order = list(modes[r % len(modes):]) + list(modes[: r % len(modes)])
        for mode in order:
            proc = subprocess.run(
                [sys.executable, script, "--child", mode, *extra], capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                print(f"{mode}: failed\n{proc.stderr[-3000:]}", file=sys.stderr)
                continue
            results[mode].append({**json.loads(proc.stdout.strip().splitlines()[-1]), "round": r})
    return results


def median(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results) if results else float("nan")


def paired(results: list[dict[str, Any]], reference: list[dict[str, Any]], key: str) -> float:
    """The median, over rounds, of ``key`` against the reference's in the same round: the two ran
    minutes apart at most, so load that comes and goes cancels better than in a ratio of medians."""
    ref = {r["round"]: r[key] for r in reference if "round" in r}
    ratios = [r[key] / ref[r["round"]] for r in results if r.get("round") in ref]
    return statistics.median(ratios) if ratios else float("nan")


def table(
    results: dict[str, list[dict[str, Any]]],
    columns: Sequence[tuple[str, str, Callable[[float], str]]],
    ratio_key: str,
    reference: str,
) -> str:
    """A text table: one row per mode, the median of each column, and ratio_key vs reference
    (the ratio of the medians, then the median of the rounds' own ratios, see :func:`paired`)."""
    ratio, per_round = f"× {reference}", "paired"
    width = max(16, len(ratio) + 2)
    widths = [max(14, len(title) + 2) for _, title, _ in columns]
    head = (f"{'client':<28}" + "".join(f"{title:>{w}}" for (_, title, _), w in zip(columns, widths, strict=True))
            + f"{ratio:>{width}}{per_round:>10}")
    lines = [head]
    ref = median(results.get(reference, []), ratio_key)
    for mode, rs in results.items():
        if not rs:
            continue
        cells = "".join(f"{fmt(median(rs, key)):>{w}}" for (key, _, fmt), w in zip(columns, widths, strict=True))
        pair = paired(rs, results.get(reference, []), ratio_key)
        lines.append(f"{mode:<28}{cells}{median(rs, ratio_key) / ref:>{width}.2f}{pair:>10.2f}")
    return "\n".join(lines)


def tile_columns(size: int) -> list[tuple[str, str, Callable[[float], str]]]:
    """The columns of a one-tile benchmark (see :func:`time_fetches`) of ``size`` bytes."""
    return [("seconds", "seconds", "{:.3f}".format),
            ("seconds", "MiB/s", lambda v: f"{size / 2**20 / v:.0f}"),
            ("peak", "peak / size", lambda v: f"{v / size:.2f}"),
            ("peak_warm", "warm / size", lambda v: f"{v / size:.2f}")]


def same_checks(results: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether every child of every mode reported the same ``check`` of what it fetched."""
    return len({r["check"] for rs in results.values() for r in rs}) == 1


# -- measuring inside a child -----------------------------------------------------------------

def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise KeyError(field)


def rss() -> int:
    return _status("VmRSS")


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0). ru_maxrss cannot be used: a child
    inherits its parent's peak through fork+exec, and the parent holds the payloads."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak() -> int:
    return _status("VmHWM")


def emit(**values: Any) -> None:
    print(json.dumps(values))


def time_fetches(mode: str, fetch: Callable[[], Any], repeat: int, check: Callable[[Any], Any]) -> None:
    """Time ``repeat`` fetches (at least 2) and emit the median, the peak memory of the first
    (``peak``) and of the second (``peak_warm``: what a client makes on first use, e.g. eerest's
    httpx client and TLS context, exists by then, so it is what a tile costs), and ``check``
    of the first result."""
    times, peaks = [], []
    checked: Any = None
    for i in range(max(repeat, 2)):
        reset_peak()
        before = rss()
        t0 = time.perf_counter()
        result = fetch()
        times.append(time.perf_counter() - t0)
        peaks.append(peak() - before)
        if i == 0:
            checked = check(result)
        del result
    emit(mode=mode, seconds=sorted(times)[len(times) // 2], peak=peaks[0], peak_warm=peaks[1], check=checked)


def byte_compile(*sources: str | None) -> None:
    """Byte-compile eerest (this one's, and any other ``src`` given) and the environment's
    installed packages before the first round, as pip does on install: under
    ``PYTHONDONTWRITEBYTECODE`` (an editable development set-up), or after an installer that
    does not compile (uv by default), every child would otherwise compile each module it
    imports (httpx, pydantic, ...) inside its clock: 0.47 s instead of 0.18 s for eerest's
    first ``computePixels`` here. Modules already compiled are only checked (~1 s)."""
    import compileall
    import sysconfig
    from pathlib import Path

    import eerest

    packages = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    for source in [str(Path(eerest.__file__).parent), *(str(Path(s, "eerest")) for s in sources if s), *sorted(packages)]:
        compileall.compile_dir(source, quiet=1, workers=0)
