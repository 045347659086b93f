"""eerest: a typed Python SDK for the Google Earth Engine REST API.

``eerest.Client`` / ``eerest.AsyncClient`` are the v1 clients; ``eerest.v1alpha``,
``eerest.v1beta`` and ``eerest.v1`` hold each version's clients and ``types``.
"""

from pkgutil import extend_path

# Hand-written code lives in src/eerest, generated code in generated/eerest; in a
# wheel they are one directory, in a source checkout this joins them.
__path__ = extend_path(__path__, __name__)

from . import limits
from ._core.pagination import AsyncPager, SyncPager
from ._core.streaming import AsyncStreamedResponse, StreamedResponse
from ._core.types import NOT_GIVEN, NotGiven
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CredentialsError,
    EERestError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    RequestLimitError,
    ResponseDecodeError,
)
from .pixels import GeoArray, Pixels
from .v1 import AsyncClient, Client

__all__ = [
    "__version__",
    "Client",
    "AsyncClient",
    "SyncPager",
    "AsyncPager",
    "StreamedResponse",
    "AsyncStreamedResponse",
    "NOT_GIVEN",
    "NotGiven",
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
    "Pixels",
    "GeoArray",
    "limits",
]
