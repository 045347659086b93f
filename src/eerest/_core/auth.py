"""Credentials: google-auth, refreshed before expiry, once however many callers ask.

Token refreshes go through a small httpx-based google-auth transport (``auth_transport``),
so eerest needs no ``requests``. Tokens only ever live in the credentials object and the
outgoing header. google-auth and httpx are imported when first needed, not with a client.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import google.auth.credentials
    import httpx

    from eerest._core.deadline import Deadline

__all__ = ["Auth", "BearerToken", "forget_credentials"]

#: Headers that carry a credential (the bearer token; an API key if a caller adds one).
_CREDENTIAL_HEADERS = ("authorization", "x-goog-api-key")


class BearerToken:
    """A fixed bearer token (``EEREST_ACCESS_TOKEN``) with the google-auth credentials interface
    a client uses, so that sending it needs no google-auth import (about 50 ms, with the
    ``cryptography`` and ``asyncio`` it brings). It never expires here and cannot be refreshed:
    the server's 401 says when it has."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "BearerToken(token=[redacted])"

    @property
    def valid(self) -> bool:
        return True

    @property
    def expired(self) -> bool:
        return False

    def apply(self, headers: dict[str, str], token: str | None = None) -> None:
        headers["authorization"] = f"Bearer {token or self.token}"

    def before_request(self, request: object, method: str, url: str, headers: dict[str, str]) -> None:
        self.apply(headers)

    def refresh(self, request: object) -> None:
        import google.auth.exceptions

        raise google.auth.exceptions.RefreshError(
            "a fixed access token (EEREST_ACCESS_TOKEN) cannot be refreshed: set a new one, or pass credentials="
        )


class Auth:
    """Authorization headers for one client."""

    def __init__(
        self,
        credentials: google.auth.credentials.Credentials | None,
        *,
        scopes: Sequence[str],
        quota_project: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._scopes = tuple(scopes)
        self._quota_project = quota_project
        self._lock = threading.RLock()
        self._token_http: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"Auth(credentials={type(self._credentials).__name__})"

    @property
    def credentials(self) -> google.auth.credentials.Credentials:
        if self._credentials is None:
            with self._lock:
                if self._credentials is None:
                    import google.auth

                    self._credentials, _ = google.auth.default(scopes=self._scopes)
        return self._credentials

    def _needs_refresh(self) -> bool:
        return not self.credentials.valid

    def _refresh_if_needed(self, deadline: Deadline | None = None) -> None:
        import google.auth.exceptions

        with self._lock:
            credentials = self.credentials
            if credentials.valid:  # another caller refreshed while this one waited
                return
            from eerest._core.auth_transport import HttpxAuthRequest, token_http

            if self._token_http is None:
                self._token_http = token_http()
            try:
                credentials.refresh(HttpxAuthRequest(self._token_http, deadline))
            except google.auth.exceptions.GoogleAuthError:
                raise
            except Exception as exc:  # google-auth on an answer it cannot parse: KeyError, ValueError, ...
                reason = f"the token endpoint's answer cannot be used ({type(exc).__name__}: {str(exc)[:200]})"
                failure = google.auth.exceptions.RefreshError(reason)
            else:
                return
        raise failure

    def _apply(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        self.credentials.apply(headers)
        if self._quota_project:
            headers["x-goog-user-project"] = self._quota_project
        return headers

    def headers(self, deadline: Deadline | None = None) -> dict[str, str]:
        """Headers to send now, refreshing the token first if it is about to expire (within
        ``deadline``, the call's)."""
        if self._needs_refresh():
            self._refresh_if_needed(deadline)
        return self._apply()

    async def aheaders(self) -> dict[str, str]:
        """As :meth:`headers`; the refresh (blocking google-auth code) runs in a thread."""
        if self._needs_refresh():
            import asyncio

            await asyncio.to_thread(self._refresh_if_needed)
        return self._apply()

    def close(self) -> None:
        if self._token_http is not None:
            self._token_http.close()
            self._token_http = None


def forget_credentials(request: httpx.Request) -> None:
    """Blank a sent request's credentials: the request outlives its send in responses and
    exceptions (and their ``__cause__``, which tblib-style pickling carries along)."""
    for name in _CREDENTIAL_HEADERS:
        if name in request.headers:
            request.headers[name] = "[redacted]"
