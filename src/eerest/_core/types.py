"""Small shared types: the NOT_GIVEN sentinel and request options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Final, TypeAlias

if TYPE_CHECKING:
    import httpx

__all__ = ["NOT_GIVEN", "Media", "NotGiven", "RequestOptions", "Timeout"]


class NotGiven:
    """Marks an argument that was not passed (``None`` may be meaningful, e.g. no timeout)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
#: Seconds, an ``httpx.Timeout``, or ``None`` (no timeout); a name for annotations only, so
#: that importing it does not import httpx.
Timeout: TypeAlias = "float | httpx.Timeout | None"
#: Media to upload: the bytes, or a binary file or stream (read whole before sending).
Media = bytes | bytearray | memoryview | IO[bytes]


@dataclass(frozen=True)
class RequestOptions:
    """Per-call options every generated method accepts."""

    timeout: Timeout | NotGiven = NOT_GIVEN
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    extra_query: Mapping[str, Any] = field(default_factory=dict)
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    media: Media | None = None  # methods with mediaUpload only
    media_mime_type: str | None = None
