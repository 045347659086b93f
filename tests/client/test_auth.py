"""Credentials: tokens refreshed once under concurrency, quota project, secrets kept out."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest
from google.auth import credentials as ga_credentials

import eerest
from tests.client.helpers import EXPRESSION, async_client, client


class FakeCredentials(ga_credentials.Credentials):
    """Credentials whose refresh is slow and counted (what a token endpoint would do)."""

    def __init__(self, lifetime: float = 3600, quota_project_id: str | None = None):
        super().__init__()
        self.refreshes = 0
        self.lifetime = lifetime
        self._quota_project_id = quota_project_id
        self._lock = threading.Lock()

    def refresh(self, request):
        assert callable(request)  # eerest's httpx transport
        with self._lock:
            self.refreshes += 1
            n = self.refreshes
        time.sleep(0.05)
        self.token = f"token-{n}"
        self.expiry = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=self.lifetime)


def test_bearer_token_and_headers(server):
    server.default.body = b"{}"
    creds = FakeCredentials()
    with client("v1", server.url, credentials=creds, quota_project="billing-proj") as c:
        c.projects.assets.get(name="projects/p/assets/a")
        c.projects.assets.get(name="projects/p/assets/a")
    h = server.requests[0].headers
    assert h["authorization"] == "Bearer token-1"
    assert h["x-goog-user-project"] == "billing-proj"
    assert h["user-agent"].startswith(f"eerest/{eerest.__version__} ")
    assert f"eerest/{eerest.__version__}" in h["x-goog-api-client"] and "gl-python/" in h["x-goog-api-client"]
    assert creds.refreshes == 1  # the token is reused while valid


def test_anonymous_credentials_send_no_token(server):
    server.default.body = b"{}"
    with client("v1", server.url) as c:
        c.projects.assets.get(name="projects/p/assets/a")
    assert "authorization" not in server.requests[0].headers


def test_concurrent_refresh_happens_once_threads(server):
    server.default.body = b"{}"
    creds = FakeCredentials()
    with client("v1", server.url, credentials=creds) as c:
        threads = [
            threading.Thread(target=c.projects.assets.get, kwargs={"name": "projects/p/assets/a"}) for _ in range(16)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert creds.refreshes == 1
    assert len(server.requests) == 16
    assert {r.headers["authorization"] for r in server.requests} == {"Bearer token-1"}


async def test_concurrent_refresh_happens_once_asyncio(server):
    server.default.body = b"{}"
    creds = FakeCredentials()
    async with async_client("v1", server.url, credentials=creds) as c:
        await asyncio.gather(*(c.projects.assets.get(name="projects/p/assets/a") for _ in range(16)))
    assert creds.refreshes == 1
    assert len(server.requests) == 16


def test_expiring_token_is_refreshed_before_use(server):
    server.default.body = b"{}"
    creds = FakeCredentials(lifetime=1)  # inside google-auth's refresh threshold: always stale
    with client("v1", server.url, credentials=creds) as c:
        c.projects.assets.get(name="projects/p/assets/a")
        c.projects.assets.get(name="projects/p/assets/a")
    assert creds.refreshes == 2
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer token-1", "Bearer token-2"]


def test_credentials_quota_project_used(server):
    server.default.body = b"{}"
    with client("v1", server.url, credentials=FakeCredentials(quota_project_id="from-creds")) as c:
        c.projects.assets.get(name="projects/p/assets/a")
    assert server.requests[0].headers["x-goog-user-project"] == "from-creds"


def test_token_never_in_repr_or_errors(server):
    server.error(403, "Permission denied on project my-proj.", "PERMISSION_DENIED")
    creds = FakeCredentials()
    with client("v1", server.url, credentials=creds) as c:
        with pytest.raises(eerest.PermissionDeniedError) as info:
            c.projects.image.compute_pixels(expression=EXPRESSION)
        texts = [repr(c), str(c), repr(c._auth), str(info.value), repr(info.value), repr(info.value.request.headers)]
    assert creds.token == "token-1"
    assert not any("token-1" in t for t in texts)


def test_two_clients_side_by_side(server):
    server.default.body = b"{}"
    a, b = FakeCredentials(), FakeCredentials()
    with client("v1", server.url, credentials=a) as ca, client("v1beta", server.url, credentials=b) as cb:
        assert ca.project == cb.project == "projects/my-proj"
        ca.projects.assets.get(name="projects/p/assets/a")
        cb.projects.assets.get(name="projects/p/assets/b")
    assert [r.path for r in server.requests] == ["/v1/projects/p/assets/a", "/v1beta/projects/p/assets/b"]
    assert a.refreshes == b.refreshes == 1


def test_project_from_environment(monkeypatch, server):
    from google.auth.credentials import AnonymousCredentials

    import eerest.v1

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-proj")
    c = eerest.v1.Client(credentials=AnonymousCredentials(), base_url=server.url)
    assert c.project == "projects/env-proj"
    c.close()
