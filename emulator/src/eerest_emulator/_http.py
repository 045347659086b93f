"""HTTP requests and responses as the app sees them, independent of the server that moves
their bytes: `Request` (with its path and query parsed), `Response`, the `RecordedRequest`s
of the request log, and the 500 answered for an unexpected exception.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ._errors import ApiError

__all__ = ["RecordedRequest", "Request", "Response", "internal_error"]

log = logging.getLogger("eerest.emulator")


@dataclass
class Request:
    """An HTTP request as the app sees it; `target` is the raw request target (path?query)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        """The percent-decoded path (clients encode `/` in `{+name}` as %2F)."""
        return unquote(urlsplit(self.target).path)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for k, v in self.headers.items():
            if k.lower() == name:
                return v
        return default


@dataclass
class RecordedRequest:
    """One request the emulator received (the log tests assert against)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # the HTTP status answered (None while in progress, or reset before any answer)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def grid(self) -> dict[str, Any] | None:
        """The PixelGrid a computePixels/getPixels request asked for (None if none)."""
        if not self.path.endswith((":computePixels", ":getPixels")):
            return None
        try:
            body = self.json()
        except ValueError:
            return None
        return body.get("grid") if isinstance(body, dict) else None

    def to_json(self) -> dict[str, Any]:
        try:
            body: Any = self.json()
        except ValueError:
            body = {"base64": base64.b64encode(self.body).decode()}
        out = {"method": self.method, "path": self.path, "query": self.query, "headers": self.headers, "body": body}
        return {**out, "status": self.status, "grid": self.grid}


@dataclass
class Response:
    status: int
    body: bytes | memoryview
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(obj, indent=2).encode() + b"\n")

    @classmethod
    def error(cls, err: ApiError) -> Response:
        return cls(err.code, err.body(), headers=dict(err.headers))


def internal_error(exc: BaseException, req: Request) -> Response:
    """A 500 with a Status body for an unexpected exception, logged with its traceback."""
    log.error("eerest emulator: %s %s failed", req.method, req.path[:200], exc_info=exc)
    return Response.error(ApiError(500, f"Internal error in the eerest emulator: {type(exc).__name__}.", "INTERNAL"))
