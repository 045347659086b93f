"""Which format a pixel body is in, told by its first bytes, and which formats a request allows."""

from __future__ import annotations

from typing import Any

__all__ = ["sniff", "expected_formats", "check_format"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x93NUMPY", "NPY"),
    (b"II*\x00", "GEO_TIFF"),
    (b"MM\x00*", "GEO_TIFF"),
    (b"II+\x00", "GEO_TIFF"),  # BigTIFF
    (b"MM\x00+", "GEO_TIFF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
)
_ANY = frozenset({"NPY", "GEO_TIFF", "PNG", "JPEG"})


def sniff(content: bytes | bytearray | memoryview) -> str | None:
    """``"NPY"``, ``"GEO_TIFF"``, ``"PNG"``, ``"JPEG"``, or ``None`` for anything else."""
    head = bytes(memoryview(content)[:8])
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    return None


def expected_formats(requested: Any) -> frozenset[str]:
    """The body formats that may answer a request for ``requested`` (an ImageFileFormat or None)."""
    value = str(getattr(requested, "value", requested)) if requested is not None else None
    if value in (None, "IMAGE_FILE_FORMAT_UNSPECIFIED"):
        return _ANY
    if value == "AUTO_JPEG_PNG":
        return frozenset({"PNG", "JPEG"})
    return frozenset({value})


def check_format(content: bytes | bytearray | memoryview, requested: Any) -> str:
    """The body's format, or a ValueError saying how it differs from what was requested."""
    found = sniff(content)
    allowed = expected_formats(requested)
    if found in allowed:
        return found
    want = " or ".join(sorted(allowed))
    if found is None:
        head = bytes(memoryview(content)[:16])
        raise ValueError(f"the body is not {want}: it starts with {head!r} ({len(content)} bytes), not a known magic")
    raise ValueError(f"the body is {found} but {want} was requested")
