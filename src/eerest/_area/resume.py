"""The resume journal beside a file output, and the checks of what a resumed read keeps.

``NAME.partial.resume`` (journal version 2): the first line records the read's fingerprint
and what can be checked of the partial output as a whole (its size, a CRC-32 of its header);
each further line a finished tile's key and a CRC-32 of its pixels as the output holds them.
A rerun of the same read checks the whole first (changed: :class:`~eerest.errors.ResumeError`,
before anything is fetched), then each kept tile, or a random share of them (``resume=0.1``),
and fetches again the tiles that do not match. What each output can check:

- NPY (and its ``x.mask.npy``) and the uncompressed GeoTIFF: size, header, each tile's pixels
  read back from their known offsets;
- Zarr: the metadata (every ``zarr.json``) and the coordinates, each tile's values read back
  and decoded (a chunk that does not decode does not match);
- a compressed GeoTIFF / COG: its staging file has no place known in advance, so each record
  carries its own CRC-32 (header and compressed bytes), all checked when the staging file is
  read back; a kept tile counts only if every record it wrote is there and intact (the
  journal's checksum is 0).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import struct
import threading
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from eerest._area.sinks import NpyFileSink, TiffFileSink
from eerest.errors import InvalidRequestError, ResumeError
from eerest.tiling import Tile, Window

__all__ = ["JOURNAL_VERSION", "Checker", "Journal", "resume_share", "tile_key", "untrusted"]

JOURNAL_VERSION = 2
RESUME = ".resume"

log = logging.getLogger("eerest")

Key = tuple[int, ...]


def tile_key(tile: Tile) -> Key:
    w = tile.window
    return (w.col_off, w.row_off, w.width, w.height, tile.bands[0], tile.bands[-1])


def resume_share(resume: bool | float) -> float:
    """The share of kept tiles a resumed read checks (1.0: all; 0.0: not resumable)."""
    if isinstance(resume, bool):
        return 1.0 if resume else 0.0
    if not isinstance(resume, (int, float)) or not 0 < resume <= 1:
        raise InvalidRequestError(
            f"resume must be True, False or the share of kept tiles to check (0 < resume <= 1), not {resume!r}"
        )
    return float(resume)


def untrusted(path: str, partial: str, what: str) -> ResumeError:
    """The error for a partial output that cannot be resumed: what is wrong, and what to do."""
    return ResumeError(
        f"out={path!r}: cannot resume: the partial file {partial} {what}, so the tiles it holds cannot be "
        f"trusted; delete it and {partial}{RESUME}, or pass resume=False, to read the area afresh",
        path=partial,
        reason=what,
    )


class Journal:
    """``NAME.partial.resume``: appends one line per finished tile (its key and checksum);
    the first line is the read's fingerprint and the checker's record of the whole."""

    def __init__(self, path: str, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._file: Any = None
        self.head: dict[str, Any] = {}

    def load(self) -> dict[Key, int] | None:
        """The finished tiles (key -> checksum) of an earlier run of the same read, or None
        (no journal, another read's, or a first line that cannot be read). A line that
        cannot be read (torn by a crash, damaged) only loses its tile: it is fetched again."""
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeError):
            return None
        try:
            head = json.loads(lines[0]) if lines else None
        except ValueError:
            return None
        if (
            not isinstance(head, dict)
            or head.get("fingerprint") != self.fingerprint
            or head.get("journal") != JOURNAL_VERSION
        ):
            return None
        done: dict[Key, int] = {}
        for line in lines[1:]:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, list) and len(entry) == 7 and all(type(v) is int for v in entry):
                done[tuple(entry[:6])] = entry[6]
        self.head = head
        return done

    def start(self, fresh: bool, whole: dict[str, Any]) -> None:
        self._file = open(self.path, "w" if fresh else "a", encoding="utf-8")  # noqa: SIM115 - kept open
        if fresh:
            head = {"fingerprint": self.fingerprint, "journal": JOURNAL_VERSION, **whole}
            self._file.write(json.dumps(head) + "\n")
            self._file.flush()

    def record(self, tile: Tile, checksum: int) -> None:
        with self._lock:
            self._file.write(json.dumps([*tile_key(tile), checksum]) + "\n")
            self._file.flush()

    def close(self, remove: bool) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)


def _combine(crcs: Sequence[int]) -> int:
    if len(crcs) == 1:
        return crcs[0]
    return zlib.crc32(struct.pack(f"<{len(crcs)}I", *crcs))


def _split(bands: Sequence[int], count: int | None) -> tuple[list[int], list[int]]:
    """A tile's bands as (data bands, mask bands): with ``mask=True`` (``count``: the data
    bands) the validity bands follow the data bands."""
    if count is None:
        return list(bands), []
    return [b for b in bands if b < count], [b - count for b in bands if b >= count]


class Checker:
    """What a resumable output can check of itself. ``whole()`` is recorded in the journal's
    first line and ``check_whole`` compares it on a rerun (raising :class:`ResumeError`);
    ``digest`` is a finished tile's checksum, ``keep`` the kept tiles that still match."""

    def __init__(self, path: str, partial: str, area: Window, count: int | None) -> None:
        """``count``: the data bands of a masked read (None: unmasked)."""
        self.path = path
        self.partial = partial
        self.area = area
        self.count = count

    def whole(self) -> dict[str, Any]:
        return {}

    def check_whole(self, head: dict[str, Any]) -> None:
        pass

    def digest(self, tile: Tile) -> int:
        """The checksum of a tile just written."""
        return self.holds(tile)

    def holds(self, tile: Tile) -> int:
        """The checksum of what the output holds of ``tile`` now (OSError if unreadable)."""
        raise NotImplementedError

    def keep(self, tiles: Sequence[Tile], kept: dict[Key, int], share: float) -> set[Key]:
        """The keys of the kept tiles that match their checksums (all, or a random ``share``
        of them checked); a warning says how many are fetched again."""
        mine = [t for t in tiles if tile_key(t) in kept]
        pick = random.Random()  # its own generator: the process's random state is the caller's
        checked = mine if share >= 1.0 else pick.sample(mine, max(1, round(len(mine) * share)) if mine else 0)
        bad = {tile_key(t) for t in checked if not self._matches(t, kept[tile_key(t)])}
        if bad:
            log.warning(
                "read_area: %d of %d checked tiles of %s differ from what was written; fetching them again",
                len(bad),
                len(checked),
                self.partial,
            )
        return {tile_key(t) for t in mine} - bad

    def _matches(self, tile: Tile, checksum: int) -> bool:
        return self.holds(tile) == checksum


class FileChecker(Checker):
    """NPY (with its mask file) and the uncompressed GeoTIFF: each file's size and header,
    each tile's pixels read back from their offsets."""

    def __init__(
        self,
        path: str,
        area: Window,
        count: int | None,
        data: NpyFileSink | TiffFileSink,
        masks: NpyFileSink | None = None,
    ) -> None:
        super().__init__(path, data.tmp_path, area, count)
        self.files = [data] if masks is None else [data, masks]

    def whole(self) -> dict[str, Any]:
        head: dict[str, Any] = {"size": self.files[0].size(), "frame": self.files[0].frame_digest()}
        if len(self.files) > 1:
            head.update(mask_size=self.files[1].size(), mask_frame=self.files[1].frame_digest())
        return head

    @staticmethod
    def check_sizes(path: str, partials: Sequence[str], head: dict[str, Any]) -> None:
        """Before the files are opened: each is there and as long as the journal says."""
        for partial, name in zip(partials, ("size", "mask_size"), strict=False):
            try:
                size = os.stat(partial).st_size
            except FileNotFoundError:
                raise untrusted(path, partial, "is missing") from None
            except OSError as exc:
                raise untrusted(path, partial, f"cannot be read ({exc.strerror or exc})") from None
            expected = head.get(name)
            if size != expected:
                change = "truncated" if isinstance(expected, int) and size < expected else "extended"
                raise untrusted(
                    path, partial, f"is {size} bytes where the journal expects {expected} (it was {change})"
                )

    def check_whole(self, head: dict[str, Any]) -> None:
        for sink, name in zip(self.files, ("frame", "mask_frame"), strict=False):
            if sink.frame_digest() != head.get(name):
                raise untrusted(self.path, sink.tmp_path, "has a header other than the one written")

    def holds(self, tile: Tile) -> int:
        window = tile.window.relative_to(self.area)
        data, masks = _split(tile.bands, self.count)
        crcs = [self.files[0].digest(window, data)] if data else []
        if masks:
            crcs.append(self.files[1].digest(window, masks))
        return _combine(crcs)


class ZarrChecker(Checker):
    """A Zarr store: its metadata files, each tile's values read back (decoded)."""

    def __init__(self, path: str, partial: str, area: Window, count: int | None, data: Any, masks: Any = None) -> None:
        super().__init__(path, partial, area, count)
        self.data = data
        self.masks = masks

    def _metadata(self) -> int:
        """A CRC-32 of what the store was created with: every ``zarr.json``, and the chunks
        of the arrays that are not bands (the coordinates, written once)."""
        bands = set(self.data.names) | (set(self.masks.names) if self.masks is not None else set())
        crc = 0
        for folder, dirs, files in sorted(os.walk(self.partial)):
            dirs.sort()
            top = os.path.relpath(folder, self.partial).split(os.sep)[0]
            for name in sorted(files):
                if name == "zarr.json" or top not in bands:
                    full = os.path.join(folder, name)
                    crc = zlib.crc32(os.path.relpath(full, self.partial).encode(), crc)
                    with open(full, "rb") as f:
                        crc = zlib.crc32(f.read(), crc)
        return crc

    def whole(self) -> dict[str, Any]:
        return {"frame": self._metadata()}

    def check_whole(self, head: dict[str, Any]) -> None:
        if self._metadata() != head.get("frame"):
            raise untrusted(self.path, self.partial, "has metadata (zarr.json) or coordinates other than those written")

    def _crcs(self, tile: Tile, band_crc: Callable[[Any, Window, int], int]) -> int:
        window = tile.window.relative_to(self.area)
        data, masks = _split(tile.bands, self.count)
        crcs = [band_crc(self.data, window, b) for b in data] + [band_crc(self.masks, window, b) for b in masks]
        return _combine(crcs)

    def digest(self, tile: Tile) -> int:
        return self._crcs(tile, lambda sink, window, band: sink.written_digest(window, band))

    def holds(self, tile: Tile) -> int:
        return self._crcs(tile, lambda sink, window, band: sink.digest(window, band))

    def _matches(self, tile: Tile, checksum: int) -> bool:
        try:
            return self.holds(tile) == checksum
        except OSError:
            raise
        except Exception:  # a chunk the codec cannot decode (zarr and numcodecs raise many kinds)
            return False


class CogChecker(Checker):
    """A compressed GeoTIFF / COG's staging file: its records checked their CRCs as they were
    read back; a kept tile counts when every record it wrote (whole TIFF tiles, or its pieces
    of them) is there."""

    def __init__(self, path: str, partial: str, area: Window, count: int | None, cog: Any) -> None:
        super().__init__(path, partial, area, count)
        self.cog = cog

    def digest(self, tile: Tile) -> int:
        return 0

    def keep(self, tiles: Sequence[Tile], kept: dict[Key, int], share: float) -> set[Key]:
        store, spec = self.cog.store, self.cog.spec
        pieces = {(p[0], p[1], p[2]) for p in store.pieces}
        good, lost = set(), 0
        for tile in tiles:
            key = tile_key(tile)
            if key not in kept:
                continue
            data, masks = _split(tile.bands, self.count)
            planes = [(b, (0, 1)) for b in data] + ([(spec.bands, (masks[0], len(masks)))] if masks else [])
            if all(self._stored(tile.window.relative_to(self.area), p, part, pieces) for p, part in planes):
                good.add(key)
            else:
                lost += 1
        if lost or store.dropped:
            log.warning(
                "read_area: %d records of %s no longer match their CRC; fetching again the %d tiles that lack one",
                store.dropped,
                self.partial,
                lost,
            )
        return good

    def _stored(self, window: Window, plane: int, part: tuple[int, int], pieces: set[Any]) -> bool:
        t, spec, index = self.cog.spec.tile, self.cog.spec, self.cog.store.index
        for ty in range(window.row_off // t, (window.row_end - 1) // t + 1):
            for tx in range(window.col_off // t, (window.col_end - 1) // t + 1):
                key = (0, plane, ty, tx)
                if key in index:
                    continue
                y0, x0 = ty * t, tx * t
                r0, r1 = max(y0, window.row_off), min(y0 + t, spec.height, window.row_end)
                c0, c1 = max(x0, window.col_off), min(x0 + t, spec.width, window.col_end)
                if (key, (r0 - y0, r1 - y0, c0 - x0, c1 - x0), part) not in pieces:
                    return False
        return True
