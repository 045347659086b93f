"""Soak test (on demand, not part of the test suite): a big ``read_area`` at 40 requests in
flight against the emulator with ~10 % of requests failing in every way the emulator can
(429, 500, 502, 503, 504, slow answers, bodies cut short, connections reset before an answer
or mid-body), the client process SIGKILLed part-way (more than once) and resumed until done. Prints the checksum of the result against
a fault-free read, each client run's peak RSS, the most requests in flight at the server,
and the retries by cause.

    python benchmarks/soak.py            # 6720 x 6720 pixels x 4 bands (360 MB), killed 4 times
    python benchmarks/soak.py --smoke    # 2240 x 2240 (40 MB), killed twice: well under a minute
    python benchmarks/soak.py --gib 5 --tile-kib 64 --kills 8 --kill-every 150   # 5 GiB, over 20 min

``--gib`` is the pixel data read (uint16, 4 bands), not the file's size: the GeoTIFF is
deflate-compressed and the sample scene compresses well.

The client runs in a child process (``--child``) so it can be killed; the emulator runs in
this one, where a thread keeps about one fault armed per ten requests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

SCENE = "projects/eerest/assets/sample/scenes/20240524"
X0, Y1, SIDE = 533120.0, 5311840.0, 2240.0  # the sample scene's footprint (EPSG:32633), metres
BYTES_PER_PIXEL = 8  # 4 uint16 bands
FAULTS = ("429", "500", "502", "503", "504", "slow", "truncate", "reset", "reset-mid-body")


def grid(pixels: int) -> dict[str, Any]:
    scale = SIDE / pixels
    return {
        "crsCode": "EPSG:32633",
        "affineTransform": {"scaleX": scale, "shearX": 0, "translateX": X0, "shearY": 0, "scaleY": -scale,
                            "translateY": Y1},
        "dimensions": {"width": pixels, "height": pixels},
    }


# -- the client (child process) ------------------------------------------------------------


class _Retries(logging.Handler):
    """Counts the client's "retrying ... after <cause>" debug lines by cause."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.causes: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("retrying") and len(record.args or ()) >= 2:
            self.causes[str(record.args[1])] += 1  # type: ignore[index]


def _peak_rss() -> int:
    """This process's peak RSS in bytes: VmHWM on Linux (ru_maxrss there is inherited from
    the parent across fork and exec, so it would count the driver's memory too)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def child(url: str, out: str, pixels: int, tile_bytes: int, stats: str) -> int:
    from eerest_emulator.testing import emulator_credentials

    import eerest

    retries = _Retries()
    log = logging.getLogger("eerest")
    log.setLevel(logging.DEBUG)
    log.addHandler(retries)
    peak = [0]
    with eerest.Client(project="eerest", base_url=url, credentials=emulator_credentials(), max_concurrency=40,
                       max_requests_per_second=None) as c:
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.005):
                peak[0] = max(peak[0], c.limiter.in_flight)

        def report() -> None:
            rss = _peak_rss()
            Path(stats).write_text(json.dumps({"retries": dict(retries.causes), "in_flight": peak[0], "rss": rss}))

        threading.Thread(target=watch, daemon=True).start()
        stop = threading.Event()

        def keep_reporting() -> None:  # the parent may SIGKILL this process at any moment
            while not stop.wait(0.2):
                report()

        threading.Thread(target=keep_reporting, daemon=True).start()
        try:
            c.read_area(SCENE, grid=grid(pixels), out=out, resume=True, max_tile_bytes=tile_bytes)
        finally:
            stop.set()
            done.set()
            report()
    return 0


# -- the driver (this process, with the emulator) ------------------------------------------


def _fault_arming(emu: Any, share: float, stop: threading.Event, fired: Counter[str]) -> None:
    """Keep about ``share`` of the pixel requests faulty: one fault of a random kind armed
    for each ``1/share`` requests received."""
    rng = random.Random(7)
    armed = 0
    while not stop.wait(0.01):
        seen = emu.requests_received["getPixels"]
        while armed < seen * share:
            kind = rng.choice(FAULTS)
            if kind == "slow":
                emu.faults.slow(rng.uniform(0.2, 2.0), count=1, path=":getPixels")
            elif kind == "truncate":
                emu.faults.truncate(count=1, fraction=rng.uniform(0.0, 0.95), path=":getPixels")
            elif kind == "reset":  # a TCP RST before any answer
                emu.faults.reset(count=1, fraction=0.0, path=":getPixels")
            elif kind == "reset-mid-body":  # headers and part of the body, then a TCP RST
                emu.faults.reset(count=1, fraction=rng.uniform(0.05, 0.95), path=":getPixels")
            else:
                emu.faults.fail(int(kind), count=1, path=":getPixels")
            fired[kind] += 1
            armed += 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def drive(pixels: int, tile_bytes: int, kills: int, kill_every: float | None, workdir: Path) -> int:
    from eerest_emulator import Emulator
    from eerest_emulator.testing import emulator_credentials

    import eerest

    with Emulator() as emu:
        assert emu._server is not None
        emu._server.handle_error = lambda *args: None  # type: ignore[method-assign] # a killed client's resets
        reference = workdir / "reference.tif"
        started = time.monotonic()
        # The reference is read fault-free in the client's default (big) tiles: the file does
        # not depend on how the area was tiled, so it is the same bytes, read another way.
        with eerest.Client(project="eerest", base_url=emu.url, credentials=emulator_credentials(),
                           max_concurrency=40, max_requests_per_second=None) as c:
            c.read_area(SCENE, grid=grid(pixels), out=str(reference))
        fault_free = time.monotonic() - started
        requests = emu.requests_received["getPixels"]
        # without --kill-every, guess the soaked read's length from the tiles' count (1 s per 40)
        kill_after = kill_every or max(1.0, (pixels**2 * BYTES_PER_PIXEL / tile_bytes) / 40 / (kills + 2))
        print(f"fault-free read: {fault_free:.1f} s in {requests} requests, {reference.stat().st_size / 2**20:.1f} MiB "
              f"file; the soaked client is killed {kills} times, {kill_after:.1f} s into a run")
        emu.reset()
        emu.faults.set_limits(max_concurrent=40)  # the project's quota: beyond it, 429
        fired: Counter[str] = Counter()
        stop = threading.Event()
        arming = threading.Thread(target=_fault_arming, args=(emu, 0.10, stop, fired), daemon=True)
        arming.start()
        out = workdir / "soaked.tif"
        runs, killed, retries, rss = 0, 0, Counter[str](), []
        in_flight = 0
        started = time.monotonic()
        while True:
            runs += 1
            stats = workdir / f"stats-{runs}.json"
            proc = subprocess.Popen([sys.executable, __file__, "--child", emu.url, str(out), str(pixels),
                                     str(tile_bytes), str(stats)])
            try:
                if killed < kills:
                    try:
                        proc.wait(timeout=kill_after)
                    except subprocess.TimeoutExpired:
                        proc.send_signal(signal.SIGKILL)
                        killed += 1
                code = proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
            if stats.exists():
                s = json.loads(stats.read_text())
                retries.update(s["retries"])
                rss.append(s["rss"])
                in_flight = max(in_flight, s["in_flight"])
            if code == 0:
                break
            print(f"run {runs}: {'SIGKILL' if code == -signal.SIGKILL else f'exit {code}'}; resuming")
            if runs > kills + 10:
                print("giving up: too many failed runs")
                return 1
        stop.set()
        arming.join()
        elapsed = time.monotonic() - started
        same = _sha256(out) == _sha256(reference)
        requests = emu.requests_received["getPixels"]
        print(f"soaked read: {elapsed:.1f} s ({elapsed / 60:.1f} min) in {runs} runs ({killed} SIGKILLed), "
              f"{requests} pixel requests")
        print(f"checksum: {'IDENTICAL' if same else 'DIFFERENT'} to the fault-free read (sha256 {_sha256(out)[:16]}...)")
        expected = {reference.name, out.name, *(f"stats-{i}.json" for i in range(1, runs + 1))}
        left = sorted(p.name for p in workdir.iterdir() if p.name not in expected)
        print(f"left behind: {', '.join(left) if left else 'nothing'} (no partial file, no journal)")
        print(f"peak RSS per run: {', '.join(f'{r / 2**20:.0f} MiB' for r in rss)}")
        peak_server = max(emu.faults.peak_concurrent.values(), default=0)
        print(f"max in flight: {in_flight} at the client's limiter, {peak_server} at the server "
              f"({emu.faults.rejected} over-quota 429s)")
        print(f"faults armed: {dict(sorted(fired.items()))}")
        print(f"retries by cause: {dict(sorted(retries.items()))}")
        return 0 if same and not left else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="40 MB, killed twice: well under a minute")
    parser.add_argument("--gib", type=float, help="pixel data to read, in GiB (default 0.34: 6720 x 6720 x 4 bands)")
    parser.add_argument("--tile-kib", type=int, default=256, help="the largest tile, KiB (default 256)")
    parser.add_argument("--kills", type=int, default=4, help="how many times the client is SIGKILLed (default 4)")
    parser.add_argument("--kill-every", type=float, help="seconds into each run the client is killed (default: a guess)")
    parser.add_argument("--child", nargs=5, metavar=("URL", "OUT", "PIXELS", "TILE_BYTES", "STATS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, out, pixels, tile_bytes, stats = args.child
        return child(url, out, int(pixels), int(tile_bytes), stats)
    if args.smoke:
        pixels, tile_bytes, kills = 2240, 64 << 10, 2
    else:
        pixels = 6720 if args.gib is None else math.ceil(math.sqrt(args.gib * 2**30 / BYTES_PER_PIXEL))
        tile_bytes, kills = args.tile_kib << 10, args.kills
    print(f"area: {pixels} x {pixels} pixels x 4 uint16 bands = {pixels**2 * BYTES_PER_PIXEL / 2**30:.2f} GiB "
          f"in tiles of at most {tile_bytes >> 10} KiB")
    with tempfile.TemporaryDirectory(prefix="eerest-soak-") as tmp:
        kill_every = args.kill_every or (1.5 if args.smoke else None)
        return drive(pixels, tile_bytes, kills, kill_every, Path(tmp))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
