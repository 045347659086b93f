"""The httpx side of a client: default timeout and pool limits, the headers every request
carries, and the pool itself. Imported by a client's first request, not by constructing it:
httpx (with its command line's dependencies, when installed) costs tens of milliseconds."""

from __future__ import annotations

import platform

import httpx

from eerest._version import __version__

__all__ = ["DEFAULT_CONNECTION_LIMITS", "DEFAULT_TIMEOUT", "STATIC_HEADERS", "USE_CLIENT_DEFAULT", "new_http"]

# Stainless clients (openai-python) wait up to 10 minutes for an answer and 5 s to
# connect; pixel computations can take minutes, so we keep the 10 minutes.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
DEFAULT_CONNECTION_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
USE_CLIENT_DEFAULT = httpx.USE_CLIENT_DEFAULT

_USER_AGENT = f"eerest/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
_API_CLIENT = f"gl-python/{platform.python_version()} eerest/{__version__} httpx/{httpx.__version__}"
# gzip only: eerest decodes it itself, with a cap on the decompressed size (_core/body.py).
STATIC_HEADERS = {"user-agent": _USER_AGENT, "x-goog-api-client": _API_CLIENT, "accept-encoding": "gzip"}


def new_http(asynchronous: bool, timeout: float | httpx.Timeout | None) -> httpx.Client | httpx.AsyncClient:
    """A pool of our own, holding the static headers and the default timeout."""
    cls = httpx.AsyncClient if asynchronous else httpx.Client
    return cls(timeout=timeout, limits=DEFAULT_CONNECTION_LIMITS, headers=STATIC_HEADERS)
