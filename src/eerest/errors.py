"""Every exception eerest raises. Each says what happened and, where it can, what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "EERestError",
    "InvalidRequestError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "ResponseDecodeError",
    "PaginationError",
    "CredentialsError",
    "RequestLimitError",
    "GridWarning",
    "OperationCancelledError",
    "ResumeError",
    "status_error_class",
    "rpc_code_status",
    "operation_error",
    "redact",
]


class EERestError(Exception):
    """Base of all eerest errors.

    Errors pickle (for multiprocessing, dask, logging handlers) to the same type, message,
    status and details; the ``request`` and ``response`` they carry, whose headers hold
    credentials, are never pickled (they are ``None`` after unpickling).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state = {k: v for k, v in self.__dict__.items() if k not in _NOT_PICKLED}
        return _unpickle, (type(self), self.args, state)


_NOT_PICKLED = frozenset({"request", "response", "__traceback__", "__cause__", "__context__"})


def _unpickle(cls: type[EERestError], args: tuple[Any, ...], state: dict[str, Any]) -> EERestError:
    """Rebuild a pickled error without calling ``__init__`` (whose arguments are gone)."""
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    if isinstance(err, APIError):
        err.request = None
    if isinstance(err, APIStatusError):
        err.response = None
    return err


class InvalidRequestError(EERestError, ValueError):
    """An argument is invalid; raised before anything is sent."""


class ResumeError(InvalidRequestError):
    """A partial file left by an interrupted ``read_area(..., resume=True)`` cannot be
    trusted (truncated, extended, its header changed, missing, unreadable); raised before
    anything is fetched. ``path`` is the partial file; delete it (and ``path + ".resume"``) or pass
    ``resume=False`` to read afresh."""

    def __init__(self, message: str, *, path: str, reason: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason  # what is wrong with it, e.g. "is 100 bytes where the journal expects 200 ..."


class RequestLimitError(InvalidRequestError):
    """A pixel request exceeds a server limit; raised before anything is sent.

    ``size`` is what the request needs and ``limit`` what the server allows (in bytes,
    pixels or bands, as ``unit`` says); ``suggested_tile`` is a (width, height) that fits.
    """

    def __init__(
        self, message: str, *, size: int, limit: int, unit: str, suggested_tile: tuple[int, int] | None = None
    ) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit
        self.unit = unit
        self.suggested_tile = suggested_tile


class APIError(EERestError):
    """A request was sent and did not give a usable answer."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        message = redact(message, request)
        super().__init__(message)
        self.message = message
        self.request = request


class APIStatusError(APIError):
    """The server answered with an error status (a google.rpc.Status body, when it sent one)."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        status: str | None = None,
        details: list[Any] | None = None,
    ) -> None:
        super().__init__(message, request=response.request)
        self.response: httpx.Response | None = response
        self.status_code = response.status_code
        self.status = status
        self.details = details or []

    def __str__(self) -> str:
        return f"{self.status_code} {self.status or ''}: {self.message}".replace("  ", " ")


class BadRequestError(APIStatusError):
    """400: the request is invalid; sending it again will fail the same way."""


class AuthenticationError(APIStatusError):
    """401: the credentials are missing, expired or invalid."""


class PermissionDeniedError(APIStatusError):
    """403: the credentials are valid but may not do this (check IAM and the project)."""


class NotFoundError(APIStatusError):
    """404: no such asset, project or method."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class RateLimitError(APIStatusError):
    """429: a rate, quota or concurrency limit was hit; retried automatically."""


class InternalServerError(APIStatusError):
    """5xx: a fault on the server side; retried automatically."""


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The request took longer than its timeout."""


class ResponseDecodeError(APIError):
    """A response arrived but is not what the method promises (truncated, malformed,
    too large, or of the wrong type). No partial or guessed result is returned."""


class PaginationError(ResponseDecodeError):
    """A list method's pages do not end: the server repeated a page token, or the pager
    reached its ``max_pages``."""


class OperationCancelledError(APIError):
    """A long-running operation (an export or ingestion) was cancelled before it finished:
    ``operation`` is its name."""

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.operation = operation


class CredentialsError(APIError):
    """No usable credentials: ``google.auth.default()`` found none, or refreshing the
    token failed (nothing was sent to the API). ``reason`` is google-auth's own words."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


_SECRET_HEADERS = ("authorization", "proxy-authorization", "x-goog-api-key", "cookie")


def redact(text: str, request: httpx.Request | None) -> str:
    """``text`` with every credential the request carried replaced by ``[REDACTED]`` (a
    hostile server may echo the token back in its error message)."""
    if request is None:
        return text
    for name in _SECRET_HEADERS:
        value = request.headers.get(name)
        if not value:
            continue
        for secret in {value, value.partition(" ")[2].strip()}:
            if len(secret) >= 8:
                text = text.replace(secret, "[REDACTED]")
    return text


class GridWarning(UserWarning):
    """A grid that is probably not what was meant (smaller than 2x2 pixels, or outside the
    source's footprint): the read goes ahead, but its pixels are likely all masked."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


#: google.rpc.Code -> (name, the HTTP status Google's HTTP mapping gives it).
_RPC_CODES: dict[int, tuple[str, int]] = {
    1: ("CANCELLED", 499),
    2: ("UNKNOWN", 500),
    3: ("INVALID_ARGUMENT", 400),
    4: ("DEADLINE_EXCEEDED", 504),
    5: ("NOT_FOUND", 404),
    6: ("ALREADY_EXISTS", 409),
    7: ("PERMISSION_DENIED", 403),
    8: ("RESOURCE_EXHAUSTED", 429),
    9: ("FAILED_PRECONDITION", 400),
    10: ("ABORTED", 409),
    11: ("OUT_OF_RANGE", 400),
    12: ("UNIMPLEMENTED", 501),
    13: ("INTERNAL", 500),
    14: ("UNAVAILABLE", 503),
    15: ("DATA_LOSS", 500),
    16: ("UNAUTHENTICATED", 401),
}


def rpc_code_status(code: int) -> tuple[str, int]:
    """The name of a google.rpc.Code and the HTTP status it maps to (unknown codes: 500)."""
    return _RPC_CODES.get(code, ("UNKNOWN", 500))


def operation_error(status: Any, operation: str | None = None) -> APIError:
    """The exception for a failed operation's ``error`` (a google.rpc.Status, as a dict or
    message): the class the HTTP status of its code maps to (``status_error_class``), with
    ``status_code``, ``status`` and ``details`` set and no response; CANCELLED is
    :class:`OperationCancelledError`."""

    def get(key: str) -> Any:
        return status.get(key) if isinstance(status, dict) else getattr(status, key, None)

    code = get("code")
    code = code if isinstance(code, int) else 2
    message = str(get("message") or "no error message")[:4000]
    name, http = rpc_code_status(code)
    prefix = f"operation {operation}: " if operation else ""
    if code == 1:
        return OperationCancelledError(f"{prefix}cancelled: {message}", operation=operation)
    cls = status_error_class(http)
    err = cls.__new__(cls)
    APIError.__init__(err, prefix + message)
    err.response = None
    err.status_code = http
    err.status = name
    details = get("details")
    err.details = list(details) if isinstance(details, list) else []
    return err
