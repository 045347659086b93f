"""Verified resume, for every resumable output (NPY with and without its mask file, the
uncompressed GeoTIFF, the COG with and without its mask, Zarr with and without masks): a
partial output whose kept tiles were damaged is repaired by fetching those tiles again (the
result is byte-identical to an undisturbed read, the oracle), and one that cannot be trusted
as a whole (truncated, extended, its header changed, missing, unreadable) is a typed
ResumeError before anything is fetched, never a raw OSError or silently wrong data."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from eerest_emulator.testing import emulator_credentials

import eerest
from eerest.tiling import PixelGrid

SCENE = "projects/eerest/assets/sample/scenes/20240524"
GRID = PixelGrid(180, 140, (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0), "EPSG:32633")
KW: dict[str, Any] = {"grid": GRID, "max_tile_bytes": 4000, "block_size": 64}

#: output kind -> (suffix, read_area's keyword arguments)
KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "npy": ("npy", {}),
    "npy-mask": ("npy", {"mask": True}),
    "tif": ("tif", {"compress": "none"}),
    "cog": ("tif", {}),
    "cog-mask": ("tif", {"mask": True, "compress": "zstd"}),
    "zarr": ("zarr", {}),
    "zarr-mask": ("zarr", {"mask": True}),
}
FILES = ["npy", "npy-mask", "tif"]  # outputs whose places are known in advance: size and header are checked


def tiered(values: list[Any], quick: list[Any]) -> list[Any]:
    """``values`` as parameters: those in ``quick`` in the default tier, the others slow
    (each case reads the area twice: the whole file is under a minute with every kind)."""
    return [v if v in quick else pytest.param(*_tuple(v), marks=pytest.mark.slow) for v in values]


def _tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def needs(kind: str) -> None:
    if kind.startswith("zarr"):
        pytest.importorskip("zarr", minversion="3")
        pytest.importorskip("xarray")
    if kind == "cog-mask":
        pytest.importorskip("zstandard")


def client(emu: Any) -> Any:
    return eerest.Client(
        project="eerest",
        base_url=emu.url,
        credentials=emulator_credentials(),
        max_retries=0,
        max_requests_per_second=None,
    )


def interrupted(emu: Any, tmp_path: Path, kind: str, bands: list[str] | None = None) -> tuple[Path, Path, int]:
    """(a whole read, an interrupted resumable read of the same area with most tiles kept,
    the number of tiles)."""
    needs(kind)
    suffix, extra = KINDS[kind]
    whole, out = tmp_path / f"whole.{suffix}", tmp_path / f"out.{suffix}"
    with client(emu) as c:
        emu.app.clear_requests()
        c.read_area(SCENE, out=whole, band_ids=bands, **KW, **extra)
        total = len([r for r in emu.requests if r.grid])
        emu.faults.slow(0.01, count=12, path="Pixels")
        emu.faults.fail(403, count=1, path="Pixels")
        with pytest.raises(eerest.PermissionDeniedError):
            c.read_area(SCENE, out=out, band_ids=bands, resume=True, max_concurrency=1, **KW, **extra)
        emu.faults.clear()
    assert partial_of(out).exists()
    return whole, out, total


def partial_of(out: Path) -> Path:
    return Path(str(out) + ".partial")


def journal_of(out: Path) -> Path:
    return Path(str(out) + ".partial.resume")


def journal(out: Path) -> list[Any]:
    return [json.loads(line) for line in journal_of(out).read_text().splitlines()]


def finish(emu: Any, out: Path, kind: str, resume: bool | float = True, bands: list[str] | None = None) -> int:
    """Resume the read; how many tiles it fetched."""
    emu.app.clear_requests()
    with client(emu) as c:
        c.read_area(SCENE, out=out, band_ids=bands, resume=resume, **KW, **KINDS[kind][1])
    return len([r for r in emu.requests if r.grid])


def contents(path: Path) -> dict[str, bytes]:
    """A file's bytes, or a store's files by relative path (the mask file beside an NPY too)."""
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    found = {"": path.read_bytes()}
    mask = path.with_name(path.stem + ".mask.npy")
    if path.suffix == ".npy" and mask.exists():
        found["mask"] = mask.read_bytes()
    return found


def assert_identical(out: Path, whole: Path) -> None:
    got, expected = contents(out), contents(whole)
    assert got.keys() == expected.keys()
    assert all(got[k] == expected[k] for k in expected), [k for k in expected if got[k] != expected[k]]
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith("out.") and ".partial" in p.name]
    assert leftovers == []


def flip(path: Path, pos: int, n: int = 4) -> None:
    with open(path, "r+b") as f:
        f.seek(pos)
        b = f.read(n)
        f.seek(pos)
        f.write(bytes(x ^ 0xFF for x in b))


def _first_byte(partial: Path, suffix: str, key: list[int]) -> int:
    """Where the first pixel of a journal's tile is in an NPY file or uncompressed GeoTIFF."""
    col, row, _, _, band, _, _ = key
    if suffix == "npy":
        import numpy as np

        arr = np.load(partial, mmap_mode="r")
        return int(arr.offset + (row * arr.shape[1] + col) * arr.dtype.itemsize)
    import tifffile

    with tifffile.TiffFile(partial) as tif:
        page = tif.pages[0]
        across, down = -(-page.imagewidth // 64), -(-page.imagelength // 64)
        return int(page.dataoffsets[(band * down + row // 64) * across + col // 64])


def _records(staging: Path) -> list[tuple[int, int, int]]:
    """(level, payload offset, payload length) of each record of a COG's staging file."""
    from eerest._formats.cog_write import _RECORD

    data, at, found = staging.read_bytes(), 0, []
    while at + _RECORD.size <= len(data):
        _magic, level, _plane, _ty, _tx, length, _crc = _RECORD.unpack_from(data, at)
        found.append((level, at + _RECORD.size, length))
        at += _RECORD.size + length
    return found


def _chunks(store: Path) -> list[Path]:
    """The chunk files of the bands' (and masks') arrays, not the coordinates'."""
    coords = ("x", "y", "spatial_ref")
    return sorted(
        p
        for p in store.rglob("*")
        if p.is_file() and p.name != "zarr.json" and p.relative_to(store).parts[0] not in coords
    )


def corrupt_kept_tiles(kind: str, out: Path) -> None:
    """Damage two kept tiles (or the records or chunks that hold them), keeping sizes."""
    partial, kept = partial_of(out), journal(out)[1:]
    if kind in ("npy", "tif"):
        for key in kept[:2]:
            flip(partial, _first_byte(partial, KINDS[kind][0], key))
    elif kind == "npy-mask":
        flip(partial, _first_byte(partial, "npy", kept[0]))
        mask = out.with_name("out.mask.npy.partial")
        flip(mask, _first_byte(mask, "npy", [kept[1][0], kept[1][1], 0, 0, 0, 0, 0]), 1)
    elif kind.startswith("cog"):
        for _level, start, length in _records(partial)[:3]:
            flip(partial, start + length // 2, 1)
    else:
        chunks = _chunks(partial)
        flip(chunks[0], len(chunks[0].read_bytes()) // 2, 2)
        chunks[1].write_bytes(chunks[1].read_bytes()[:-3])  # truncated: does not decode


@pytest.mark.parametrize("kind", tiered(list(KINDS), ["npy"]))
def test_the_journal_records_the_whole_and_tile_checksums(ee_emulator: Any, tmp_path: Path, kind: str) -> None:
    _, out, _ = interrupted(ee_emulator, tmp_path, kind)
    head, *tiles = journal(out)
    assert head["journal"] == 2 and tiles and all(len(t) == 7 for t in tiles)
    if kind in FILES:
        assert head["size"] == os.path.getsize(partial_of(out)) and isinstance(head["frame"], int)
        if kind == "npy-mask":
            assert head["mask_size"] == os.path.getsize(out.with_name("out.mask.npy.partial"))
    elif kind.startswith("zarr"):
        assert isinstance(head["frame"], int) and any(t[6] for t in tiles)
    else:
        assert all(t[6] == 0 for t in tiles)  # a COG's checksums are in its staged records


@pytest.mark.parametrize("kind", tiered(list(KINDS), ["npy", "cog", "zarr"]))
def test_corrupted_tiles_are_fetched_again(ee_emulator: Any, tmp_path: Path, kind: str) -> None:
    whole, out, total = interrupted(ee_emulator, tmp_path, kind)
    kept = len(journal(out)) - 1
    corrupt_kept_tiles(kind, out)
    fetched = finish(ee_emulator, out, kind)
    assert_identical(out, whole)
    if kind in FILES:
        assert fetched == total - kept + 2  # the two corrupted tiles, fetched again
    else:
        assert total - kept <= fetched <= total


@pytest.mark.slow
def test_a_band_subset_is_checked_band_by_band(ee_emulator: Any, tmp_path: Path) -> None:
    whole, out, total = interrupted(ee_emulator, tmp_path, "tif", ["nir"])
    kept = len(journal(out)) - 1
    corrupt_kept_tiles("tif", out)
    assert finish(ee_emulator, out, "tif", bands=["nir"]) == total - kept + 2
    assert_identical(out, whole)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_an_intact_partial_fetches_only_what_is_missing(ee_emulator: Any, tmp_path: Path, kind: str) -> None:
    whole, out, total = interrupted(ee_emulator, tmp_path, kind)
    kept = len(journal(out)) - 1
    assert finish(ee_emulator, out, kind, resume=0.5) == total - kept  # half of the kept tiles checked
    assert_identical(out, whole)


JOURNAL_DAMAGE = ["torn", "garbage", "lost lines", "no head", "no journal"]


def _journal_cases() -> list[Any]:
    """Every damage for each kind of sink; the masked COG and Zarr (the slowest cases, the
    same sinks twice) with the damages that keep part of the journal."""
    cases = [(kind, damage) for kind in KINDS for damage in JOURNAL_DAMAGE
             if kind not in ("cog-mask", "zarr-mask") or damage in ("garbage", "lost lines")]
    return tiered(cases, [("npy", "garbage")])


@pytest.mark.parametrize(("kind", "damage"), _journal_cases())
def test_a_damaged_journal_is_repaired(ee_emulator: Any, tmp_path: Path, kind: str, damage: str) -> None:
    whole, out, total = interrupted(ee_emulator, tmp_path, kind)
    lines = journal_of(out).read_text().splitlines()
    if damage == "torn":
        text = "\n".join(lines) + "\n" + lines[-1][:5]
    elif damage == "garbage":
        text = "\n".join([lines[0], "\x00\xffnot json", *lines[1:3], "[1, 2]", '{"a": 1}', *lines[3:]]) + "\n"
    elif damage == "lost lines":
        text = "\n".join([lines[0], *lines[3:]]) + "\n"
    elif damage == "no head":
        text = "\n".join(lines[1:]) + "\n"
    if damage == "no journal":
        journal_of(out).unlink()
    else:
        journal_of(out).write_text(text)
    fetched = finish(ee_emulator, out, kind)
    assert_identical(out, whole)
    kept = len(lines) - 1
    if damage in ("no head", "no journal"):
        assert fetched == total  # another read's or none: afresh
    else:
        assert fetched == total - kept + (2 if damage == "lost lines" else 0)


FILE_DAMAGE = [
    ("truncate", "was truncated"),
    ("extend", "was extended"),
    ("header", "header"),
    ("unreadable", "cannot be read|header|bytes"),
]


def damage_partial(partial: Path, change: str) -> None:
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


def expect_resume_error(emu: Any, out: Path, kind: str, match: str, partial: Path) -> None:
    emu.app.clear_requests()
    with client(emu) as c, pytest.raises(eerest.ResumeError, match=match) as info:
        c.read_area(SCENE, out=out, resume=True, **KW, **KINDS[kind][1])
    assert not [r for r in emu.requests if r.grid]  # nothing fetched
    assert "resume=False" in str(info.value) and info.value.path == str(partial)
    assert info.value.reason and isinstance(info.value, eerest.InvalidRequestError)


@pytest.mark.parametrize(("change", "match"), tiered(FILE_DAMAGE, FILE_DAMAGE[:1]))
@pytest.mark.parametrize("kind", tiered(FILES, ["npy"]))
def test_an_untrustworthy_partial_file_is_a_resume_error(
    ee_emulator: Any, tmp_path: Path, kind: str, change: str, match: str
) -> None:
    whole, out, _ = interrupted(ee_emulator, tmp_path, kind)
    partial = partial_of(out)
    damage_partial(partial, change)
    expect_resume_error(ee_emulator, out, kind, match, partial)
    if change != "unreadable":  # the advice works: read afresh
        with client(ee_emulator) as c:
            c.read_area(SCENE, out=out, resume=False, **KW, **KINDS[kind][1])
        assert contents(out) == contents(whole)


@pytest.mark.slow
@pytest.mark.parametrize(("change", "match"), [*FILE_DAMAGE, ("missing", "is missing")])
def test_an_untrustworthy_mask_file_is_a_resume_error(
    ee_emulator: Any, tmp_path: Path, change: str, match: str
) -> None:
    _, out, _ = interrupted(ee_emulator, tmp_path, "npy-mask")
    mask = out.with_name("out.mask.npy.partial")
    if change == "missing":
        mask.unlink()
    else:
        damage_partial(mask, change)
    expect_resume_error(ee_emulator, out, "npy-mask", match, mask)


@pytest.mark.parametrize("change", tiered(["truncate", "extend", "header"], ["header"]))
@pytest.mark.parametrize("kind", tiered(["cog", "cog-mask"], ["cog"]))
def test_a_damaged_cog_staging_file_is_repaired(ee_emulator: Any, tmp_path: Path, kind: str, change: str) -> None:
    """A COG's staging file is a sequence of records, each with its CRC: whatever is cut
    off, added or changed loses only the records it touches, which are fetched again."""
    whole, out, _ = interrupted(ee_emulator, tmp_path, kind)
    damage_partial(partial_of(out), change)  # "header": the first record's
    finish(ee_emulator, out, kind)
    assert_identical(out, whole)


@pytest.mark.slow
@pytest.mark.parametrize("change", ["attributes", "coordinates"])
@pytest.mark.parametrize("kind", ["zarr", "zarr-mask"])
def test_a_zarr_store_whose_metadata_changed_is_a_resume_error(
    ee_emulator: Any, tmp_path: Path, kind: str, change: str
) -> None:
    _, out, _ = interrupted(ee_emulator, tmp_path, kind)
    if change == "attributes":
        meta = partial_of(out) / "nir" / "zarr.json"
        doc = json.loads(meta.read_text())
        doc["attributes"]["nodata"] = 7
        meta.write_text(json.dumps(doc))
    else:
        next((partial_of(out) / "y").rglob("c/*")).unlink()
    expect_resume_error(ee_emulator, out, kind, "metadata", partial_of(out))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zarr", "zarr-mask"])
def test_a_zarr_chunk_with_bytes_added_or_lost_is_fetched_again(ee_emulator: Any, tmp_path: Path, kind: str) -> None:
    whole, out, _ = interrupted(ee_emulator, tmp_path, kind)
    chunks = _chunks(partial_of(out))
    chunks[0].write_bytes(chunks[0].read_bytes() + b"\0" * 8)
    chunks[-1].unlink()
    finish(ee_emulator, out, kind)
    assert_identical(out, whole)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cog", "zarr"])
def test_an_unreadable_partial_is_a_resume_error(ee_emulator: Any, tmp_path: Path, kind: str) -> None:
    _, out, _ = interrupted(ee_emulator, tmp_path, kind)
    partial = partial_of(out)
    if partial.is_dir():
        shutil.rmtree(partial)
        partial.write_bytes(b"not a store")
    else:
        partial.unlink()
        partial.mkdir()
    expect_resume_error(ee_emulator, out, kind, "cannot be read|header", partial)


def test_resume_takes_a_share_or_a_bool(ee_emulator: Any, tmp_path: Path) -> None:
    with client(ee_emulator) as c, pytest.raises(eerest.InvalidRequestError, match="share of kept tiles"):
        c.read_area(SCENE, out=tmp_path / "a.npy", resume=1.5, **KW)


def test_a_cog_staging_file_is_read_back_past_gaps_damage_and_a_torn_end(tmp_path: Path) -> None:
    """A killed run's staging file can hold a gap (a record reserved, never written) with
    complete records after it, a record whose bytes changed, and a torn last record: every
    intact record counts, wherever it lies; new records go after the last of them."""
    import numpy as np

    from eerest._formats.cog_write import _RECORD, CogSpec, TileStore

    spec = CogSpec(64 * 5, 64, 1, np.dtype("<u2"), 64, "deflate", 0, False, ())
    path = str(tmp_path / "staging")
    store = TileStore(path, spec)
    offsets = []
    for tx in range(5):
        offsets.append(os.fstat(store.fd).st_size)
        store.put((0, 0, 0, tx), np.full((64, 64), tx, "<u2"))
    store.close(remove=False)
    data = bytearray(Path(path).read_bytes())
    data[offsets[1] : offsets[2]] = bytes(offsets[2] - offsets[1])  # tile 1: a gap of zeros
    data[offsets[3] + _RECORD.size + 5] ^= 0xFF  # tile 3: a byte of its data changed
    data = data[: len(data) - 3]  # tile 4: torn
    Path(path).write_bytes(bytes(data))

    again = TileStore(path, spec, resume=True)
    assert sorted(again.index) == [(0, 0, 0, 0), (0, 0, 0, 2)] and again.dropped == 1
    assert (again.get((0, 0, 0, 2)) == 2).all() and (again.get((0, 0, 0, 0)) == 0).all()
    assert os.fstat(again.fd).st_size == offsets[3]  # cut after tile 2, the last intact record
    again.put((0, 0, 0, 4), np.full((64, 64), 4, "<u2"))
    assert (again.get((0, 0, 0, 4)) == 4).all() and (again.get((0, 0, 0, 2)) == 2).all()
    again.close()
