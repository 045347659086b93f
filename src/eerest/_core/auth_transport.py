"""The transport google-auth uses to fetch tokens, over httpx (no ``requests``).

A token endpoint's answer is read as the API's are (:mod:`eerest._core.body`): at most
:data:`~eerest._core.sizes.MAX_TOKEN_BYTES` after decompression (a gzip bomb is refused as
it inflates, never held whole), within one deadline for the whole exchange however the
endpoint trickles its bytes (:class:`~eerest._core.watchdog.SocketGuard`). Whatever goes
wrong is a google-auth ``TransportError``, which the clients report as ``CredentialsError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import google.auth.exceptions
import google.auth.transport
import httpx

from eerest._core.body import read_body, read_error_body
from eerest._core.deadline import Deadline
from eerest._core.sizes import MAX_TOKEN_BYTES, BodyLimits
from eerest._core.watchdog import SocketGuard
from eerest.errors import APIError

__all__ = ["HttpxAuthRequest", "token_http", "TOKEN_DEADLINE"]

#: Seconds a token request may take in all (connect, send, headers, body).
TOKEN_DEADLINE = 60.0


class _AuthResponse(google.auth.transport.Response):
    def __init__(self, response: httpx.Response, data: bytes) -> None:
        self._status = response.status_code
        self._headers = response.headers
        self._data = data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class HttpxAuthRequest(google.auth.transport.Request):
    """The transport google-auth uses to fetch tokens, over httpx."""

    def __init__(self, client: httpx.Client, deadline: Deadline | None = None) -> None:
        """``deadline``: of the API call that needed the token; every token request
        (google-auth may retry one) ends by it, and by :data:`TOKEN_DEADLINE`."""
        self._client = client
        self._deadline = deadline

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> google.auth.transport.Response:
        seconds = min(timeout or TOKEN_DEADLINE, TOKEN_DEADLINE)
        left = self._deadline.remaining() if self._deadline is not None else None
        if left is not None:
            if left <= 0:
                raise google.auth.exceptions.TransportError("token request not sent: the call's deadline passed")
            seconds = min(seconds, left)
        deadline = Deadline.after(seconds)
        failure: Exception | None = None
        guard: SocketGuard | None = None
        try:
            request = self._client.build_request(method, url, content=body, headers=headers, timeout=seconds)
            guard = SocketGuard(self._client, request, seconds)
            response = self._client.send(request, stream=True)
            try:
                if response.is_success:
                    data = bytes(read_body(response, BodyLimits(cap=MAX_TOKEN_BYTES), deadline))
                else:
                    data = read_error_body(response)
            finally:
                guard.close()
                response.close()
        except (httpx.HTTPError, APIError) as exc:
            what = "took longer than its deadline" if deadline.expired else f"failed: {type(exc).__name__}"
            detail = exc.message if isinstance(exc, APIError) else ""
            failure = google.auth.exceptions.TransportError(f"token request {what} {detail[:200]}".strip())
        finally:
            if guard is not None:
                guard.close()
        if failure is not None:  # unchained: httpx's exception holds the request (and its secrets)
            raise failure
        return _AuthResponse(response, data)


def token_http() -> httpx.Client:
    """The pool token refreshes of one client go through."""
    return httpx.Client(timeout=60.0)
