"""Turning an error response into the matching typed exception: pure."""

from __future__ import annotations

import json
from typing import Any

import httpx

from eerest.errors import APIStatusError, redact, status_error_class

__all__ = ["status_error"]

_MAX_MESSAGE = 4000


def status_error(response: httpx.Response, body: bytes) -> APIStatusError:
    """The exception for an error response; a google.rpc.Status body supplies the message,
    status and details, anything else a short excerpt of the body."""
    status = None
    details: list[Any] = []
    message = ""
    try:
        error = json.loads(body)["error"]
        message = str(error.get("message", ""))[:_MAX_MESSAGE]
        status = error.get("status")
        status = status if isinstance(status, str) else None
        details = error.get("details") or []
        details = details if isinstance(details, list) else []
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        excerpt = body[:200].decode("utf-8", "replace").strip()
        message = excerpt or response.reason_phrase or "no error message"
    code = response.status_code
    if 300 <= code < 400:
        location = response.headers.get("location", "")[:200]
        message = (
            f"the server answered HTTP {code} (a redirect to {location!r}); eerest does not follow redirects, "
            "so check base_url"
        )
    elif not 400 <= code < 600:
        message = f"the server answered HTTP {code}, which is not a success: {message}"
    if details:
        try:
            details = json.loads(redact(json.dumps(details), response.request))
        except (ValueError, RecursionError):
            details = []
    cls = status_error_class(code)
    return cls(message, response=response, status=status, details=details)
