"""google.rpc.Status errors: the exception the emulator raises and the JSON body it answers."""

from __future__ import annotations

import json

__all__ = [
    "ApiError",
    "invalid_argument",
    "not_found",
    "unauthenticated",
    "STATUS_NAMES",
]

#: HTTP status -> canonical google.rpc.Code name, as Google front ends map them.
STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error answer: HTTP status, google.rpc status name and message."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.headers = dict(headers or {})
        self.details = list(details or [])

    def to_json(self) -> dict:
        """The `{"error": {...}}` body the Google API front end sends."""
        error: dict = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def body(self) -> bytes:
        return json.dumps(self.to_json(), indent=2).encode() + b"\n"


def invalid_argument(message: str) -> ApiError:
    """HTTP 400 INVALID_ARGUMENT."""
    return ApiError(400, message, "INVALID_ARGUMENT")


def not_found(message: str) -> ApiError:
    """HTTP 404 NOT_FOUND."""
    return ApiError(404, message, "NOT_FOUND")


def unimplemented(what: str) -> ApiError:
    """A part of a served method the emulator lacks (a file format, an option): HTTP 400, as for
    an algorithm it lacks, because clients retry 5xx answers (earthengine-api for about 35 s)
    and this one never changes. A method it does not serve at all is a 501 (`_unserved`)."""
    return ApiError(400, f"{what} is not implemented in the eerest emulator.", "INVALID_ARGUMENT")


def unauthenticated() -> ApiError:
    """HTTP 401 UNAUTHENTICATED, worded like Google's front end."""
    return ApiError(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential.",
        "UNAUTHENTICATED",
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )
