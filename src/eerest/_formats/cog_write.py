"""A compressed, tiled GeoTIFF laid out as a Cloud Optimized GeoTIFF (COG), in bounded memory.

Tiles arrive in any order, so they are written in two steps. While a read runs, each TIFF
tile (one band's ``tile`` x ``tile`` pixels; planar configuration 2) is encoded (predictor,
then deflate or zstd) as soon as it is complete and appended to a staging file
(:class:`TileStore`). At the end the overviews are built from the staged tiles, one row of
tiles at a time (nearest neighbour, each level half the previous, until one tile holds
it), and the file is assembled in the layout GDAL's COG driver writes and ``rio cogeo
validate`` accepts: the header, every IFD (the full resolution one first), then the tiles
of the smallest overview first and those of the full resolution last. The IFDs are
written here (their offsets are only known at the end, which tifffile cannot lay out
this way); the GeoTIFF and GDAL tags are those of :mod:`eerest._formats.geotiff_write`.

``mask=True`` adds GDAL's internal mask (a 1-bit image with NewSubfileType 4 after each
image IFD): one mask for all bands, a pixel valid only where every band holds data.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from eerest._extras import missing_extra
from eerest.errors import InvalidRequestError

__all__ = ["COMPRESSIONS", "CogSpec", "TileStore", "overview_levels", "write_cog"]

#: ``compress=`` names and their TIFF Compression codes (50000: ZSTD as GDAL writes it).
COMPRESSIONS = {"deflate": 8, "zstd": 50000, "none": 1}
# Fast levels: on imagery behind a predictor, deflate level 1 compresses within about 1% of
# GDAL's default level 6 at 3-4 times the speed (zlib, one core: ~50 vs ~15 MiB/s on noisy
# uint16), and zstd level 1 within about 2% of GDAL's default level 9 at ~14 times the speed.
_DEFLATE_LEVEL = 1
_ZSTD_LEVEL = 1

_TYPES = {"H": (3, 2, "H"), "I": (4, 4, "I"), "Q": (16, 8, "Q"), "d": (12, 8, "d"), "s": (2, 1, None)}
TagTuple = tuple[int, str, int, Any, bool]


@dataclass(frozen=True)
class CogSpec:
    """What the file holds: ``bands`` planes of ``dtype``, ``tile``-pixel tiles, and the
    tags of its first IFD (``tags``: tifffile-style extratags: GeoTIFF, nodata, names)."""

    width: int
    height: int
    bands: int
    dtype: np.dtype[Any]
    tile: int
    compress: str
    levels: int  # overviews
    mask: bool
    tags: tuple[TagTuple, ...]
    fill: float | int = 0

    @property
    def predictor(self) -> int:
        if self.compress == "none":
            return 1
        return 3 if self.dtype.kind == "f" else 2

    def size(self, level: int) -> tuple[int, int]:
        w, h = self.width, self.height
        for _ in range(level):
            w, h = -(-w // 2), -(-h // 2)
        return w, h

    def grid(self, level: int) -> tuple[int, int]:
        """(tiles down, tiles across) of ``level``."""
        w, h = self.size(level)
        return -(-h // self.tile), -(-w // self.tile)

    @property
    def planes(self) -> int:
        """Image planes, then (with a mask) the mask as plane ``bands``."""
        return self.bands + (1 if self.mask else 0)


def overview_levels(width: int, height: int, tile: int) -> int:
    """How many halvings until the image fits one tile (what GDAL's COG driver makes)."""
    levels = 0
    while width > tile or height > tile:
        width, height = -(-width // 2), -(-height // 2)
        levels += 1
    return levels


def check_compress(compress: str) -> None:
    if compress not in COMPRESSIONS:
        raise InvalidRequestError(f"compress={compress!r}: choose one of {sorted(COMPRESSIONS)} (or None: 'none')")
    if compress == "zstd":
        _zstd()


def _zstd() -> Any:
    try:
        import zstandard
    except ImportError:
        raise missing_extra("compress='zstd'", "zstandard", "zstd") from None
    return zstandard


_RECORD = struct.Struct("<4s4IQI")  # magic, level, plane, tile row, tile column, length, CRC-32
_PIECE = struct.Struct("<6I")  # a piece's rows r0, r1, columns c0, c1 in its tile, its part (first band, bands)
_MAGIC = b"EERT"
_PIECE_LEVEL = 0xFFFFFFFF
_QUARTER_LEVEL = 0xFFFFFFFE  # a full-resolution tile's every other pixel, raw: the first overview's input

Piece = tuple[tuple[int, int, int, int], tuple[int, int, int, int], tuple[int, int], int, int]


class TileStore:
    """Encoded tiles in a staging file, by (level, plane, tile row, tile column). Each is
    a record (a small header with a CRC-32 of itself and of the bytes, then the bytes), so a
    staging file kept after a failure is read back with ``resume=True``: its complete
    full-resolution records whose CRC matches count, wherever they lie (``dropped``: how many
    did not match), and what follows the last of them is cut off."""

    def __init__(self, path: str, spec: CogSpec, *, resume: bool = False) -> None:
        self.path = path
        self.spec = spec
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        self.index: dict[tuple[int, int, int, int], tuple[int, int]] = {}
        self.pieces: list[Piece] = []  # (key, region, part, offset, length) of pieces read back
        self.quarters: dict[tuple[int, int, int], tuple[int, int]] = {}  # (plane, ty, tx) -> raw decimated tile
        self.dropped = 0  # records of an earlier run whose bytes no longer match their CRC
        self._end = self._scan() if resume else 0
        os.ftruncate(self.fd, self._end)
        self._lock = threading.Lock()
        self._local = threading.local()

    def _scan(self) -> int:
        """Index the complete level-0 records of an earlier run whose CRC matches; where the
        last of them ends. Records are written concurrently at reserved offsets, so a killed
        run can leave a gap (bytes never written) with complete records after it: at anything
        that is not a record (a gap, a torn end) or a record whose CRC does not match
        (counted in ``dropped``), the scan goes on from the next record's magic."""
        size = os.fstat(self.fd).st_size
        at = end = 0
        while at + _RECORD.size <= size:
            head = os.pread(self.fd, _RECORD.size, at)
            magic, level, plane, ty, tx, length, crc = _RECORD.unpack(head)
            start = at + _RECORD.size
            valid = magic == _MAGIC and level in (0, _PIECE_LEVEL, _QUARTER_LEVEL) and start + length <= size
            if valid and zlib.crc32(os.pread(self.fd, length, start), zlib.crc32(head[: _RECORD.size - 4])) != crc:
                self.dropped += 1
                valid = False
            if not valid:
                found = self._find_magic(at + 1, size)
                if found is None:
                    break
                at = found
                continue
            at = end = start + length
            if level == _QUARTER_LEVEL:
                self.quarters[(plane, ty, tx)] = (start, length)
            elif level == _PIECE_LEVEL:
                r0, r1, c0, c1, first, n = _PIECE.unpack(os.pread(self.fd, _PIECE.size, start))
                key = (0, plane, ty, tx)
                self.pieces.append((key, (r0, r1, c0, c1), (first, n), start + _PIECE.size, length - _PIECE.size))
            else:
                self.index[(level, plane, ty, tx)] = (start, length)
        # the pieces of tiles staged whole since are not needed: keeping them all would cost
        # a resumed read of many small tiles about a KiB of memory per tile it kept
        self.pieces = [piece for piece in self.pieces if piece[0] not in self.index]
        return end

    def _find_magic(self, at: int, size: int) -> int | None:
        """The offset of the next record magic from ``at``, or None."""
        chunk = 1 << 20
        while at + _RECORD.size <= size:
            data = os.pread(self.fd, chunk + len(_MAGIC) - 1, at)
            found = data.find(_MAGIC)
            if found >= 0:
                return at + found
            at += chunk
        return None

    def put_piece(
        self,
        key: tuple[int, int, int, int],
        region: tuple[int, int, int, int],
        part: tuple[int, int],
        piece: np.ndarray,
    ) -> None:
        """Record a piece of a tile as it is (for a resume, which reassembles the tile)."""
        data = _PIECE.pack(*region, *part) + np.ascontiguousarray(piece).tobytes()
        with self._lock:
            offset = self._end
            self._end += _RECORD.size + len(data)
        _pwrite_all(self.fd, _record(_PIECE_LEVEL, *key[1:], data=data), offset)

    def read_piece(self, piece: Piece) -> np.ndarray:
        key, (r0, r1, c0, c1), _part, offset, length = piece
        dtype = np.dtype(np.uint8) if key[1] == self.spec.bands else self.spec.dtype
        return np.frombuffer(os.pread(self.fd, length, offset), dtype).reshape(r1 - r0, c1 - c0)

    def close(self, remove: bool = True) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)

    # -- encoding ---------------------------------------------------------------------------
    def _compress(self, data: bytes | memoryview) -> bytes:
        kind = self.spec.compress
        if kind == "deflate":
            return zlib.compress(data, _DEFLATE_LEVEL)
        if kind == "zstd":
            compressor = getattr(self._local, "zstd", None)
            if compressor is None:
                compressor = self._local.zstd = _zstd().ZstdCompressor(level=_ZSTD_LEVEL)
            return bytes(compressor.compress(data))
        return bytes(data)

    def _decompress(self, data: bytes, size: int) -> bytes:
        kind = self.spec.compress
        if kind == "deflate":
            return zlib.decompress(data)
        if kind == "zstd":
            return bytes(_zstd().ZstdDecompressor().decompress(data, max_output_size=size))
        return data

    def encode(self, plane: int, array: np.ndarray) -> bytes:
        if plane == self.spec.bands:  # the mask: 1 bit a pixel, 1 where valid, rows padded to bytes
            return self._compress(np.packbits(array.astype(np.uint8, copy=False), axis=1).tobytes())
        return self._compress(_predict(array, self.spec.predictor))

    def decode(self, plane: int, data: bytes) -> np.ndarray:
        t = self.spec.tile
        if plane == self.spec.bands:
            bits = np.frombuffer(self._decompress(data, t * ((t + 7) // 8)), np.uint8).reshape(t, -1)
            return np.unpackbits(bits, axis=1)[:, :t]
        raw = self._decompress(data, t * t * self.spec.dtype.itemsize)
        return _unpredict(raw, self.spec.dtype, t, self.spec.predictor)

    # -- storage ----------------------------------------------------------------------------
    def put(self, key: tuple[int, int, int, int], array: np.ndarray) -> None:
        """Encode a whole (tile, tile) array and append it (thread-safe; encoding unlocked)."""
        data = self.encode(key[1], array)
        quarter = b""
        if key[0] == 0 and self.spec.levels:  # kept raw, so the first overview decodes nothing
            quarter = np.ascontiguousarray(array[::2, ::2]).tobytes()
        with self._lock:
            offset = self._end
            self._end += _RECORD.size + len(data) + (_RECORD.size + len(quarter) if quarter else 0)
        record = _record(*key, data=data)
        if quarter:
            record += _record(_QUARTER_LEVEL, *key[1:], data=quarter)
        _pwrite_all(self.fd, record, offset)
        with self._lock:
            self.index[key] = (offset + _RECORD.size, len(data))
            if quarter:
                self.quarters[key[1:]] = (offset + 2 * _RECORD.size + len(data), len(quarter))

    def read(self, key: tuple[int, int, int, int]) -> bytes:
        offset, length = self.index[key]
        return os.pread(self.fd, length, offset)

    def get(self, key: tuple[int, int, int, int]) -> np.ndarray:
        return self.decode(key[1], self.read(key))

    def missing(self) -> list[tuple[int, int, int, int]]:
        down, across = self.spec.grid(0)
        return [
            (0, p, ty, tx)
            for p in range(self.spec.planes)
            for ty in range(down)
            for tx in range(across)
            if (0, p, ty, tx) not in self.index
        ]

    def build_overviews(self, workers: int | None = None) -> None:
        """Each overview level from the one before, nearest neighbour, a row of tiles at a
        time: the planes in parallel (``workers`` threads; the codecs release the GIL), each
        holding two rows of tiles of the level below."""
        planes = range(self.spec.planes)
        workers = max(1, min(workers or os.cpu_count() or 1, self.spec.planes))
        for level in range(1, self.spec.levels + 1):
            if workers == 1:
                for plane in planes:
                    self._overview(level, plane)
                continue
            with ThreadPoolExecutor(workers, thread_name_prefix="eerest-overviews") as pool:
                for future in [pool.submit(self._overview, level, plane) for plane in planes]:
                    future.result()

    def _quarter(self, plane: int, ty: int, tx: int, dtype: np.dtype[Any]) -> np.ndarray:
        """Every other pixel of a full-resolution tile: as kept, or decoded again."""
        found = self.quarters.get((plane, ty, tx))
        if found is None:
            return self.get((0, plane, ty, tx))[::2, ::2]
        half = self.spec.tile // 2
        return np.frombuffer(os.pread(self.fd, found[1], found[0]), dtype).reshape(half, half)

    def _overview(self, level: int, plane: int) -> None:
        spec, t = self.spec, self.spec.tile
        prev_down, prev_across = spec.grid(level - 1)
        down, across = spec.grid(level)
        dtype = np.dtype(np.uint8) if plane == spec.bands else spec.dtype
        if level == 1:
            side = t // 2
            for ty in range(down):
                for tx in range(across):
                    out = np.zeros((t, t), dtype)
                    for k in range(2):
                        for j in range(2):
                            if 2 * ty + k < prev_down and 2 * tx + j < prev_across:
                                quarter = self._quarter(plane, 2 * ty + k, 2 * tx + j, dtype)
                                out[k * side : (k + 1) * side, j * side : (j + 1) * side] = quarter
                    self.put((level, plane, ty, tx), out)
            return
        for ty in range(down):
            rows = np.zeros((2 * t, prev_across * t), dtype)
            for k in range(2):
                src = 2 * ty + k
                if src >= prev_down:
                    continue
                for tx in range(prev_across):
                    rows[k * t : (k + 1) * t, tx * t : (tx + 1) * t] = self.get((level - 1, plane, src, tx))
            decimated = rows[::2, ::2]
            strip = np.zeros((t, across * t), dtype)
            strip[:, : decimated.shape[1]] = decimated[:, : across * t]
            for tx in range(across):
                self.put((level, plane, ty, tx), np.ascontiguousarray(strip[:, tx * t : (tx + 1) * t]))


def _record(level: int, plane: int, ty: int, tx: int, *, data: bytes) -> bytes:
    """A staging record: its header (with a CRC-32 of the header's fields and ``data``), then ``data``."""
    head = _RECORD.pack(_MAGIC, level, plane, ty, tx, len(data), 0)[:-4]
    return head + struct.pack("<I", zlib.crc32(data, zlib.crc32(head))) + data


def _pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while len(view):
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def _unsigned(dtype: np.dtype[Any]) -> np.dtype[Any]:
    return np.dtype(f"<u{dtype.itemsize}")


def _predict(array: np.ndarray, predictor: int) -> bytes:
    """TIFF predictor 2 (horizontal differencing, integers) or 3 (floating point: the
    bytes of a row regrouped most significant first, then differenced)."""
    if predictor == 1:
        return array.tobytes()
    if predictor == 2:
        u = array.view(_unsigned(array.dtype))
        d = u.copy()
        d[:, 1:] -= u[:, :-1]
        return bytes(d.tobytes())
    h, w = array.shape
    # big-endian bytes, regrouped: all first bytes of the row, then all second bytes, ...
    b = array.astype(array.dtype.newbyteorder(">")).view(np.uint8).reshape(h, w, -1).transpose(0, 2, 1).reshape(h, -1)
    d = b.copy()
    d[:, 1:] -= b[:, :-1]
    return bytes(d.tobytes())


def _unpredict(raw: bytes, dtype: np.dtype[Any], t: int, predictor: int) -> np.ndarray:
    if predictor == 1:
        return np.frombuffer(raw, dtype).reshape(t, t)
    if predictor == 2:
        d = np.frombuffer(raw, _unsigned(dtype)).reshape(t, t)
        return np.cumsum(d, axis=1, dtype=d.dtype).view(dtype)
    d = np.frombuffer(raw, np.uint8).reshape(t, -1)
    b = np.cumsum(d, axis=1, dtype=np.uint8).reshape(t, dtype.itemsize, t).transpose(0, 2, 1)
    values: np.ndarray = np.ascontiguousarray(b).view(dtype.newbyteorder(">")).reshape(t, t).astype(dtype)
    return values


# -- the file ----------------------------------------------------------------------------------
def _sample_format(dtype: np.dtype[Any]) -> int:
    return {"u": 1, "b": 1, "i": 2, "f": 3}[dtype.kind]


def _ifd_tags(spec: CogSpec, level: int, mask: bool, count: int, big: bool) -> list[tuple[int, str, Any]]:
    """(tag, type char, values) of one IFD, the offsets and byte counts as placeholders."""
    w, h = spec.size(level)
    spp = 1 if mask else spec.bands
    bits = 1 if mask else spec.dtype.itemsize * 8
    tags: list[tuple[int, str, Any]] = [
        (254, "I", [(4 if mask else 0) | (1 if level else 0)]),
        (256, "I", [w]),
        (257, "I", [h]),
        (258, "H", [bits] * spp),
        (259, "H", [COMPRESSIONS[spec.compress]]),
        (262, "H", [4 if mask else 1]),
        (277, "H", [spp]),
        (284, "H", [2 if spp > 1 else 1]),
        (322, "H", [spec.tile]),
        (323, "H", [spec.tile]),
        (324, "Q" if big else "I", [0] * count),
        (325, "Q" if big else "I", [0] * count),
        (339, "H", [1 if mask else _sample_format(spec.dtype)] * spp),
    ]
    if not mask and spec.predictor != 1:
        tags.append((317, "H", [spec.predictor]))
    if spp > 1:
        tags.append((338, "H", [0] * (spp - 1)))  # ExtraSamples: unspecified
    if level == 0 and not mask:
        tags.append((305, "s", "eerest"))
        for code, kind, _n, value, _ in spec.tags:
            tags.append((code, kind, value if kind == "s" else list(value)))
    return sorted(tags, key=lambda t: t[0])


def _pack_values(kind: str, values: Any) -> bytes:
    if kind == "s":
        return str(values).encode("ascii", "replace") + b"\0"
    _code, _size, fmt = _TYPES[kind]
    return struct.pack(f"<{len(values)}{fmt}", *values)


def _ifd_size(tags: list[tuple[int, str, Any]], big: bool) -> int:
    entry, head, inline = (20, 8, 8) if big else (12, 2, 4)
    size = head + entry * len(tags) + (8 if big else 4)
    for _code, kind, values in tags:
        n = len(_pack_values(kind, values))
        if n > inline:
            size += n + (n & 1)
    return size


def _ifd_bytes(tags: list[tuple[int, str, Any]], offset: int, next_ifd: int, big: bool) -> bytes:
    entry_fmt, inline = ("<HHQ", 8) if big else ("<HHI", 4)
    head = struct.pack("<Q", len(tags)) if big else struct.pack("<H", len(tags))
    entries = bytearray(head)
    extra = bytearray()
    extra_at = offset + len(head) + (20 if big else 12) * len(tags) + (8 if big else 4)
    for code, kind, values in tags:
        data = _pack_values(kind, values)
        type_code = _TYPES[kind][0]
        count = len(data) if kind == "s" else len(values)
        entries += struct.pack(entry_fmt, code, type_code, count)
        if len(data) <= inline:
            entries += data.ljust(inline, b"\0")
        else:
            entries += struct.pack("<Q" if big else "<I", extra_at + len(extra))
            extra += data + (b"\0" if len(data) & 1 else b"")
    entries += struct.pack("<Q" if big else "<I", next_ifd)
    return bytes(entries + extra)


def _order(spec: CogSpec) -> list[tuple[int, bool]]:
    """The IFDs in file order: full resolution, its mask, then each overview and its mask."""
    return [(level, mask) for level in range(spec.levels + 1) for mask in ((False, True) if spec.mask else (False,))]


def _tile_keys(spec: CogSpec, level: int, mask: bool) -> Iterator[tuple[int, int, int, int]]:
    down, across = spec.grid(level)
    planes: Sequence[int] = [spec.bands] if mask else range(spec.bands)
    for plane in planes:
        for ty in range(down):
            for tx in range(across):
                yield (level, plane, ty, tx)


def write_cog(path: str, store: TileStore, bigtiff: bool | None = None) -> None:
    """Assemble the file at ``path`` from the staged tiles (see the module's docstring);
    BigTIFF when it passes 4 GiB (``bigtiff=None``) or when asked to."""
    spec = store.spec
    ifds = _order(spec)
    data_size = sum(store.index[key][1] for lvl, m in _order(spec) for key in _tile_keys(spec, lvl, m))
    for big in (False, True) if bigtiff is None else (bigtiff,):
        tag_sets = [_ifd_tags(spec, lvl, m, sum(1 for _ in _tile_keys(spec, lvl, m)), big) for lvl, m in ifds]
        header = 16 if big else 8
        sizes = [_ifd_size(tags, big) for tags in tag_sets]
        total = header + sum(sizes) + data_size
        if total < 2**32 - 1:
            break
    # the data: the smallest overview first, the full resolution last
    offsets: dict[tuple[int, int, int, int], int] = {}
    at = header + sum(sizes)
    data_order = [(lvl, m) for lvl, m in reversed(ifds)]
    for lvl, m in data_order:
        for key in _tile_keys(spec, lvl, m):
            offsets[key] = at
            at += store.index[key][1]
    blob = bytearray((b"II+\0" + struct.pack("<HHQ", 8, 0, header)) if big else (b"II*\0" + struct.pack("<I", header)))
    ifd_at = header
    for i, ((lvl, m), tags) in enumerate(zip(ifds, tag_sets, strict=True)):
        keys = list(_tile_keys(spec, lvl, m))
        filled = []
        for code, kind, values in tags:
            if code == 324:
                values = [offsets[k] for k in keys]
            elif code == 325:
                values = [store.index[k][1] for k in keys]
            filled.append((code, kind, values))
        next_ifd = ifd_at + sizes[i] if i + 1 < len(ifds) else 0
        blob += _ifd_bytes(filled, ifd_at, next_ifd, big)
        ifd_at += sizes[i]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
    try:
        _pwrite_all(fd, bytes(blob), 0)
        at = len(blob)
        for lvl, m in data_order:
            for key in _tile_keys(spec, lvl, m):
                offset, length = store.index[key]
                _copy(store.fd, fd, offset, at, length)
                at += length
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        raise
    os.close(fd)


def _copy(src: int, dst: int, src_at: int, dst_at: int, length: int) -> None:
    """``length`` bytes from ``src`` at ``src_at`` to ``dst`` at ``dst_at``: in the kernel
    where it can (copy_file_range), else through memory."""
    copy_range = getattr(os, "copy_file_range", None)
    while length > 0 and copy_range is not None:
        try:
            n = copy_range(src, dst, length, src_at, dst_at)
        except OSError:  # e.g. across file systems on older kernels
            break
        if n <= 0:
            break
        src_at, dst_at, length = src_at + n, dst_at + n, length - n
    if length > 0:
        _pwrite_all(dst, os.pread(src, length, src_at), dst_at)
