"""How large a response body may be, decided from the request before anything is read:
pure, and light enough for a client to import when it is constructed."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FIRST_ALLOCATION",
    "MAX_BINARY_BYTES",
    "MAX_ERROR_BYTES",
    "MAX_JSON_BYTES",
    "MAX_TOKEN_BYTES",
    "BodyLimits",
]

#: Largest JSON response accepted (after decompression): a page of 1000 rich assets is ~20 MiB.
MAX_JSON_BYTES = 128 << 20
#: Error bodies (4xx/5xx) are read up to this size; the rest is discarded unread.
MAX_ERROR_BYTES = 64 << 10
#: Largest token endpoint response accepted (after decompression); real ones are a few KiB.
MAX_TOKEN_BYTES = 64 << 10
#: Largest binary response of a method with no tighter bound of its own.
MAX_BINARY_BYTES = 1 << 30
#: What is allocated up front when the request gives no size bound of its own.
FIRST_ALLOCATION = 1 << 20


@dataclass(frozen=True)
class BodyLimits:
    """``trusted``: bytes the request can legitimately produce (preallocated up to the
    announced length); ``cap``: the most that is accepted at all."""

    cap: int
    trusted: int = FIRST_ALLOCATION

    def first_allocation(self, content_length: int | None) -> int:
        if content_length is None:
            return min(self.trusted, FIRST_ALLOCATION)
        return min(content_length, self.trusted, self.cap)
