"""Benchmark (on demand, not part of the test suite): what a verified resume costs. A
``read_area`` into an NPY file, an uncompressed GeoTIFF and a COG (the default GeoTIFF) is
SIGKILLed once ``--kept`` of its tiles are done; each round then resumes a fresh copy of
that partial with ``resume=True`` (every kept tile read back and checked) and
``resume=0.1`` (a random 10%), and reads the area afresh (no partial), each in a fresh
process, in a rotating order.

    python benchmarks/bench_resume.py                  # 6144 x 6144 x 4 uint16 (288 MiB), 2 rounds
    python benchmarks/bench_resume.py --quick          # 2048 x 2048 (32 MiB), 1 round
    python benchmarks/bench_resume.py --rounds 3 --only npy,tif --side 8192 --kept 0.5

``open`` is the time to open the output: for a resume, loading the journal and checking the
partial (sizes, header, the kept tiles read back; what a COG checks: every staged record);
for a fresh read, creating the file. ``total`` is the whole read (the tiles left are fetched
from the emulator, in this process's parent). The copied partial is dropped from the page
cache (``posix_fadvise(DONTNEED)``) before each resume, so the read-back comes from the disk
(the worst case: right after a crash it is often still cached).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from soak import SCENE, grid  # the sample scene; a square grid over it

FORMATS = {"npy": ("area.npy", {}), "tif": ("area.tif", {"compress": "none"}), "cog": ("area.tif", {})}
WAYS = ("fresh", "resume=1", "resume=0.1")


# -- the client (child process) ------------------------------------------------------------


def _client(url: str) -> Any:
    from eerest_emulator.testing import emulator_credentials

    import eerest

    return eerest.Client(project="eerest", base_url=url, credentials=emulator_credentials(), max_concurrency=16,
                         max_requests_per_second=None)


def build(url: str, fmt: str, folder: str, side: int, tile_bytes: int, kept: float) -> None:
    """Read until ``kept`` of the tiles are done, then SIGKILL this process (a crash)."""
    name, options = FORMATS[fmt]

    def progress(done: int, total: int, nbytes: int) -> None:
        if done >= kept * total:
            os.kill(os.getpid(), signal.SIGKILL)

    with _client(url) as c:
        c.read_area(SCENE, grid=grid(side), out=os.path.join(folder, name), resume=True, max_tile_bytes=tile_bytes,
                    progress=progress, **options)
    raise SystemExit("the read finished before it was killed; lower --kept")


def child(url: str, mode: str, folder: str, side: int, tile_bytes: int) -> None:
    from eerest._area import engine, resume

    fmt, way = mode.split(":")
    name, options = FORMATS[fmt]
    opened: dict[str, Any] = {"checked": 0, "checked_bytes": 0}
    open_output, holds = engine.open_output, resume.FileChecker.holds
    checking = [False]

    def timed_open(*args: Any, **kwargs: Any) -> Any:
        checking[0] = True
        t0 = time.perf_counter()
        try:
            output = open_output(*args, **kwargs)
        finally:
            opened["open"] = time.perf_counter() - t0
            checking[0] = False
        opened["kept"] = len(output.done)
        return output

    def counted_holds(self: Any, tile: Any) -> int:
        if checking[0]:  # a kept tile read back (not a digest of a tile just written)
            opened["checked"] += 1
            opened["checked_bytes"] += tile.window.width * tile.window.height * len(tile.bands) * 2
        return holds(self, tile)

    engine.open_output = timed_open  # type: ignore[assignment]
    resume.FileChecker.holds = counted_holds  # type: ignore[method-assign]
    share: bool | float = {"fresh": False, "resume=1": True, "resume=0.1": 0.1}[way]
    out = os.path.join(folder, name)
    with _client(url) as c:
        plan = c.plan_area(SCENE, grid=grid(side), max_tile_bytes=tile_bytes)
        t0 = time.perf_counter()
        c.read_area(SCENE, grid=grid(side), out=out, resume=share, max_tile_bytes=tile_bytes, **options)
        total = time.perf_counter() - t0
    digest = hashlib.sha256()
    with open(out, "rb") as f:
        while chunk := f.read(1 << 24):
            digest.update(chunk)
    print(json.dumps({"mode": mode, "total": total, "tiles": len(plan.tiles.tiles), "size": os.path.getsize(out),
                      "check": digest.hexdigest()[:16], **opened}))


# -- the driver ------------------------------------------------------------------------------


def _cold_copy(source: Path, target: Path) -> None:
    """``source``'s files into ``target``, written to disk and dropped from the page cache."""
    for path in source.iterdir():
        copied = target / path.name
        shutil.copyfile(path, copied)
        fd = os.open(copied, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)


def drive(formats: list[str], side: int, tile_bytes: int, kept: float, rounds: int, workdir: Path) -> int:
    from eerest_emulator import Emulator

    common = [str(side), str(tile_bytes)]
    with Emulator() as emu:
        emu._server.handle_error = lambda *args: None  # type: ignore[method-assign] # the killed client's resets
        partials: dict[str, Path] = {}
        for fmt in formats:
            folder = partials[fmt] = workdir / f"partial-{fmt}"
            folder.mkdir()
            proc = _run(["--build", emu.url, fmt, str(folder), *common, str(kept)])
            if proc.returncode != -signal.SIGKILL:
                print(f"{fmt}: building the partial failed ({proc.returncode})\n{proc.stderr[-3000:]}", file=sys.stderr)
                return 1
            size = sum(p.stat().st_size for p in folder.iterdir())
            journal = next(folder.glob("*.resume")).read_text().count("\n") - 1
            print(f"{fmt}: partial of {size / 2**20:.0f} MiB, {journal} tiles in its journal", flush=True)
        modes = [f"{fmt}:{way}" for fmt in formats for way in WAYS]
        results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        for r in range(rounds):
            order = modes[r % len(modes):] + modes[: r % len(modes)]
            for mode in order:
                fmt, way = mode.split(":")
                run = workdir / "run"
                shutil.rmtree(run, ignore_errors=True)
                run.mkdir()
                if way != "fresh":
                    _cold_copy(partials[fmt], run)
                proc = _run(["--child", emu.url, mode, str(run), *common])
                if proc.returncode != 0:
                    print(f"{mode}: failed\n{proc.stderr[-3000:]}", file=sys.stderr)
                    continue
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                results[mode].append(result)
                print(f"round {r + 1} {mode}: total {result['total']:.2f} s, open {result['open']:.3f} s, "
                      f"{result['kept']} kept, {result['checked']} read back", flush=True)
    report(results, side, tile_bytes, kept, rounds)
    return 0


def report(results: dict[str, list[dict[str, Any]]], side: int, tile_bytes: int, kept: float, rounds: int) -> None:
    def med(rs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rs)

    any_result = next(rs[0] for rs in results.values() if rs)
    print(f"\n{side} x {side} pixels x 4 uint16 bands ({side * side * 8 / 2**20:.0f} MiB), "
          f"{any_result['tiles']} tiles of {tile_bytes / 2**20:g} MiB as the server counts; partial killed at "
          f"{kept:.0%} of the tiles; medians of {rounds} round(s), fresh processes\n")
    print("| output | read | open (verification) | kept tiles | tiles read back | MiB read back | total | total vs fresh |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for mode, rs in results.items():
        if not rs:
            continue
        fmt, way = mode.split(":")
        fresh = results.get(f"{fmt}:fresh") or []
        ratio = f"{med(rs, 'total') / med(fresh, 'total'):.2f}" if fresh else "-"
        back = "all records" if fmt == "cog" and way != "fresh" else f"{med(rs, 'checked'):.0f}"
        mib = "-" if fmt == "cog" else f"{med(rs, 'checked_bytes') / 2**20:.0f}"
        print(f"| {fmt} | {way} | {med(rs, 'open'):.3f} s | {med(rs, 'kept'):.0f} | {back} | {mib} | "
              f"{med(rs, 'total'):.2f} s | {ratio} |")
    same = {fmt: len({r["check"] for m, rs in results.items() if m.startswith(fmt + ":") for r in rs}) == 1
            for fmt in {m.split(":")[0] for m in results}}
    print("\nthe same file from every run of a format:", all(same.values()), same)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--build":
        url, fmt, folder, side, tile_bytes, kept = sys.argv[2:8]
        build(url, fmt, folder, int(side), int(tile_bytes), float(kept))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        url, mode, folder, side, tile_bytes = sys.argv[2:7]
        child(url, mode, folder, int(side), int(tile_bytes))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per mode (default 2)")
    parser.add_argument("--quick", action="store_true", help="2048 x 2048 pixels (32 MiB), 1 round")
    parser.add_argument("--side", type=int, default=6144, help="pixels a side (default 6144: 288 MiB)")
    parser.add_argument("--tile-mib", type=float, default=4, help="max_tile_bytes in MiB (default 4)")
    parser.add_argument("--kept", type=float, default=0.8, help="share of tiles done when killed (default 0.8)")
    parser.add_argument("--only", default=",".join(FORMATS), help="comma-separated outputs: npy,tif,cog")
    parser.add_argument("--workdir", help="where the files go (default: a temporary folder)")
    args = parser.parse_args()
    side, rounds = (2048, 1) if args.quick else (args.side, args.rounds)
    formats = [f for f in args.only.split(",") if f]
    unknown = set(formats) - set(FORMATS)
    if unknown:
        parser.error(f"unknown outputs {sorted(unknown)}; choose from {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="bench-resume-", dir=args.workdir) as tmp:
        return drive(formats, side, int(args.tile_mib * 2**20), args.kept, rounds, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
