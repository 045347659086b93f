"""A tile's body taken straight from the socket (sync clients, HTTP/1.1; see
:mod:`eerest._core.socket_body`): the NPY header in one small read, then the data received
directly into its final place when the writer exposes it (an array output: one run per
tile row, or one for full-width tiles), or else in large reads into a reused buffer fed to
the writer (files, converted types). Every check of :class:`TileReceiver` still applies."""

from __future__ import annotations

from collections.abc import Callable

from eerest._area.receive import TileReceiver, batches
from eerest._core.deadline import Deadline
from eerest._core.socket_body import DirectBody
from eerest._formats.npy import MAX_HEADER_BYTES

__all__ = ["SCRATCH_BYTES", "BodyCut", "Scratch", "receive_direct"]

#: Bytes per read when the data cannot go straight to its place; also how much is received
#: between two looks at ``cancelled``.
SCRATCH_BYTES = 1 << 20
_MAGIC_AND_LENGTH = 12  # b"\x93NUMPY", version, a header length of up to 4 bytes


class BodyCut(Exception):
    """The peer closed the connection ``taken`` bytes into the rest of the body."""

    def __init__(self, taken: int) -> None:
        super().__init__(f"the connection closed after {taken} bytes of the response body")
        self.taken = taken


class Scratch:
    """One worker's read buffer, allocated on first use (array outputs never need it)."""

    def __init__(self, size: int = SCRATCH_BYTES) -> None:
        self.size = size
        self._buffer: bytearray | None = None

    @property
    def view(self) -> memoryview:
        if self._buffer is None:
            self._buffer = bytearray(self.size)
        return memoryview(self._buffer)


def receive_direct(
    body: DirectBody,
    receiver: TileReceiver,
    scratch: Scratch,
    deadline: Deadline | None,
    cancelled: Callable[[], bool],
) -> None:
    """Take the whole rest of ``body`` into ``receiver`` (which still needs ``finish()``).
    Raises what ``receiver`` raises, :class:`BodyCut`, or httpx's transport errors;
    returns early (the body partly read) only when ``cancelled()`` turns true."""
    head = body.remaining - receiver.expected
    if 0 < head <= MAX_HEADER_BYTES + _MAGIC_AND_LENGTH:  # else the lengths disagree: fed below, it says how
        buf = bytearray(head)
        _fill(body, [memoryview(buf)], deadline)
        receiver.feed(buf)
        targets = receiver.targets()
        if targets is not None:
            for group in batches(targets, scratch.size):
                if cancelled():
                    return
                receiver.received_into(_fill(body, group, deadline))
            return
    view = scratch.view
    while body.remaining:
        if cancelled():
            return
        part = view[: min(len(view), body.remaining)]
        _fill(body, [part], deadline)
        receiver.feed(part)


def _fill(body: DirectBody, views: list[memoryview], deadline: Deadline | None) -> int:
    want = sum(len(v) for v in views)
    n = body.read_into(views, deadline)
    if n < want:
        raise BodyCut(body.taken)
    return n
