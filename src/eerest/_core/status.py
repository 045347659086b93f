"""Turning an error response into the matching typed exception: pure."""

from __future__ import annotations

import json
from typing import Any

import httpx

from eerest.errors import APIStatusError, status_error_class

__all__ = ["status_error"]


def status_error(response: httpx.Response, body: bytes) -> APIStatusError:
    """The exception for an error response; a google.rpc.Status body supplies the message,
    status and details, anything else a short excerpt of the body."""
    status = None
    details: list[Any] = []
    message = ""
    try:
        error = json.loads(body)["error"]
        message = str(error.get("message", ""))
        status = error.get("status")
        details = error.get("details") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        excerpt = body[:200].decode("utf-8", "replace").strip()
        message = excerpt or response.reason_phrase or "no error message"
    cls = status_error_class(response.status_code)
    return cls(message, response=response, status=status, details=details)
