"""The transport google-auth uses to fetch tokens, over httpx (no ``requests``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import google.auth.exceptions
import google.auth.transport
import httpx

__all__ = ["HttpxAuthRequest", "token_http"]


class _AuthResponse(google.auth.transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxAuthRequest(google.auth.transport.Request):
    """The transport google-auth uses to fetch tokens, over httpx."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> google.auth.transport.Response:
        try:
            response = self._client.request(method, url, content=body, headers=headers, timeout=timeout or 120.0)
        except httpx.HTTPError as exc:
            raise google.auth.exceptions.TransportError(f"token request failed: {type(exc).__name__}") from exc
        return _AuthResponse(response)


def token_http() -> httpx.Client:
    """The pool token refreshes of one client go through."""
    return httpx.Client(timeout=60.0)
