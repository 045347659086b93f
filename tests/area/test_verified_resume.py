"""Verified resume: a partial file whose kept tiles were corrupted is repaired by fetching
those tiles again (the result is byte-identical to an undisturbed read); one that was
truncated, extended or whose header changed is a typed ResumeError, before anything is
fetched, never a raw OSError."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from eerest_emulator.testing import emulator_credentials

import eerest
from eerest.tiling import PixelGrid

pytestmark = pytest.mark.skip(
    reason="verified resume (checksummed journal, ResumeError) is on branch `reliability` and is not yet "
    "integrated with the COG and Zarr outputs' sinks in _area/output.py"
)

SCENE = "projects/eerest/assets/sample/scenes/20240524"
GRID = PixelGrid(180, 140, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
KW: dict[str, Any] = {"grid": GRID, "max_tile_bytes": 4000, "block_size": 64}


def client(emu: Any) -> Any:
    return eerest.Client(
        project="eerest", base_url=emu.url, credentials=emulator_credentials(), max_retries=0,
        max_requests_per_second=None,
    )


def interrupted(emu: Any, tmp_path: Path, suffix: str, bands: list[str] | None = None) -> tuple[Path, Path]:
    """(a whole read, an interrupted resumable read of the same area, with most tiles kept)."""
    whole, out = tmp_path / f"whole.{suffix}", tmp_path / f"out.{suffix}"
    with client(emu) as c:
        c.read_area(SCENE, out=whole, band_ids=bands, **KW)
        emu.faults.slow(0.01, count=12, path=":getPixels")
        emu.faults.fail(403, count=1000, path=":getPixels")
        emu.faults.clear()
        emu.faults.slow(0.01, count=12, path=":getPixels")
        emu.faults.fail(403, count=1, path=":getPixels")
        with pytest.raises(eerest.PermissionDeniedError):
            c.read_area(SCENE, out=out, band_ids=bands, resume=True, max_concurrency=1, **KW)
    assert Path(str(out) + ".partial").exists()
    return whole, out


def journal(out: Path) -> list[Any]:
    return [json.loads(line) for line in Path(str(out) + ".partial.resume").read_text().splitlines()]


def finish(emu: Any, out: Path, resume: bool | float = True, bands: list[str] | None = None) -> int:
    emu.app.clear_requests()
    with client(emu) as c:
        c.read_area(SCENE, out=out, band_ids=bands, resume=resume, **KW)
    return len([r for r in emu.requests if r.grid])


@pytest.mark.parametrize("suffix", ["tif", "npy"])
def test_the_journal_records_size_header_and_tile_checksums(ee_emulator: Any, tmp_path: Path, suffix: str) -> None:
    _, out = interrupted(ee_emulator, tmp_path, suffix)
    head, *tiles = journal(out)
    assert head["journal"] == 2 and head["size"] == os.path.getsize(str(out) + ".partial")
    assert isinstance(head["frame"], int) and tiles and all(len(t) == 7 for t in tiles)


@pytest.mark.parametrize("bands", [None, ["nir"]])
@pytest.mark.parametrize("suffix", ["tif", "npy"])
def test_corrupted_tiles_are_fetched_again(
    ee_emulator: Any, tmp_path: Path, suffix: str, bands: list[str] | None
) -> None:
    whole, out = interrupted(ee_emulator, tmp_path, suffix, bands)
    if bands is None:
        whole_bytes = whole.read_bytes()
    else:
        with client(ee_emulator) as c:
            c.read_area(SCENE, out=whole, band_ids=bands, **KW)
        whole_bytes = whole.read_bytes()
    partial = Path(str(out) + ".partial")
    kept = journal(out)[1:]
    with open(partial, "r+b") as f:  # flip the first bytes of two kept tiles, keeping the size
        for key in kept[:2]:
            pos = _first_byte(partial, suffix, key)
            f.seek(pos)
            b = f.read(4)
            f.seek(pos)
            f.write(bytes(x ^ 0xFF for x in b))
    fetched = finish(ee_emulator, out, bands=bands)
    assert out.read_bytes() == whole_bytes
    missing = total(bands) - len(kept)
    assert fetched == missing + 2  # the two corrupted tiles, fetched again


def total(bands: list[str] | None) -> int:
    from eerest.tiling import plan_tiles

    return len(plan_tiles(GRID, ["uint16"] * (4 if bands is None else len(bands)), max_tile_bytes=4000,
                          block_size=64).tiles)


def _first_byte(partial: Path, suffix: str, key: list[int]) -> int:
    """Where the first pixel of a journal's tile is in the file."""
    col, row, _, _, band, _, _ = key
    col, row = col - 0, row - 0
    if suffix == "npy":
        import numpy as np

        arr = np.load(partial, mmap_mode="r")
        return int(arr.offset + (row * arr.shape[1] + col) * arr.dtype.itemsize)
    import tifffile

    with tifffile.TiffFile(partial) as tif:
        page = tif.pages[0]
        across, down = -(-page.imagewidth // 64), -(-page.imagelength // 64)
        return int(page.dataoffsets[(band * down + row // 64) * across + col // 64])


@pytest.mark.parametrize("suffix", ["tif", "npy"])
def test_an_intact_partial_fetches_only_what_is_missing(ee_emulator: Any, tmp_path: Path, suffix: str) -> None:
    whole, out = interrupted(ee_emulator, tmp_path, suffix)
    kept = len(journal(out)) - 1
    fetched = finish(ee_emulator, out, resume=0.5)  # half of the kept tiles checked
    assert fetched == total(None) - kept
    assert out.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("truncate", "was truncated"),
        ("extend", "was extended"),
        ("header", "header"),
        ("unreadable", "cannot be read|header|bytes"),
    ],
)
@pytest.mark.parametrize("suffix", ["tif", "npy"])
def test_an_untrustworthy_partial_is_a_resume_error(
    ee_emulator: Any, tmp_path: Path, suffix: str, change: str, match: str
) -> None:
    _, out = interrupted(ee_emulator, tmp_path, suffix)
    partial = Path(str(out) + ".partial")
    data = partial.read_bytes()
    if change == "truncate":
        partial.write_bytes(data[: len(data) - 100])
    elif change == "extend":
        partial.write_bytes(data + b"\0" * 100)
    elif change == "header":
        partial.write_bytes(data[:8] + bytes([data[8] ^ 0x55]) + data[9:])
    else:
        partial.unlink()
        partial.mkdir()  # a directory where the file was
    ee_emulator.app.clear_requests()
    with client(ee_emulator) as c, pytest.raises(eerest.ResumeError, match=match) as info:
        c.read_area(SCENE, out=out, resume=True, **KW)
    assert not [r for r in ee_emulator.requests if r.grid]  # nothing fetched
    assert "resume=False" in str(info.value) and info.value.path == str(partial)
    assert isinstance(info.value, eerest.InvalidRequestError)
    if change != "unreadable":  # the advice works: read afresh
        with client(ee_emulator) as c:
            c.read_area(SCENE, out=out, resume=False, **KW)
        assert out.exists()


def test_resume_takes_a_share_or_a_bool(ee_emulator: Any, tmp_path: Path) -> None:
    with client(ee_emulator) as c, pytest.raises(eerest.InvalidRequestError, match="share of kept tiles"):
        c.read_area(SCENE, out=tmp_path / "a.npy", resume=1.5, **KW)
