"""Error classes, retries with backoff, Retry-After, and checks made before sending."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import httpx
import pytest

import eerest
from eerest._core import exchange as exchange_module
from tests.client.helpers import EXPRESSION, async_client, client

ERRORS = [
    (400, "INVALID_ARGUMENT", eerest.BadRequestError),
    (401, "UNAUTHENTICATED", eerest.AuthenticationError),
    (403, "PERMISSION_DENIED", eerest.PermissionDeniedError),
    (404, "NOT_FOUND", eerest.NotFoundError),
    (409, "ALREADY_EXISTS", eerest.ConflictError),
    (429, "RESOURCE_EXHAUSTED", eerest.RateLimitError),
    (500, "INTERNAL", eerest.InternalServerError),
    (503, "UNAVAILABLE", eerest.InternalServerError),
    (418, "UNKNOWN", eerest.APIStatusError),
]


@pytest.fixture
def sleeps(monkeypatch):
    """Record backoff sleeps instead of waiting them out."""
    recorded: list[float] = []

    async def fake_async_sleep(seconds):
        recorded.append(seconds)

    monkeypatch.setattr(exchange_module, "time", SimpleNamespace(sleep=recorded.append))
    monkeypatch.setattr(exchange_module, "_async_sleep", fake_async_sleep)
    return recorded


@pytest.mark.parametrize(("status", "rpc", "cls"), ERRORS)
def test_error_classes(server, status, rpc, cls):
    server.error(status, "Total request size (56623104 bytes) must be less than or equal to 50331648 bytes.", rpc)
    with client("v1", server.url) as c, pytest.raises(cls) as info:
        c.projects.assets.get(name="projects/p/assets/a")
    err = info.value
    assert isinstance(err, eerest.APIStatusError) and isinstance(err, eerest.APIError)
    assert err.status_code == status
    assert err.status == rpc
    assert err.message == "Total request size (56623104 bytes) must be less than or equal to 50331648 bytes."
    assert err.message in str(err)
    assert err.response.status_code == status
    assert err.details == []


def test_non_json_error_body(server):
    server.reply(502, body=b"<html>Bad Gateway</html>", headers={"content-type": "text/html"})
    with client("v1", server.url) as c, pytest.raises(eerest.InternalServerError, match="Bad Gateway"):
        c.projects.assets.get(name="projects/p/assets/a")


def test_retry_503_then_success(server, sleeps):
    server.error(503, "try later", "UNAVAILABLE")
    server.error(429, "Too many concurrent aggregations.", "RESOURCE_EXHAUSTED")
    server.reply(json_body={"name": "projects/p/assets/a"})
    with client("v1", server.url, max_retries=3) as c:
        asset = c.projects.assets.get(name="projects/p/assets/a")
    assert asset.name == "projects/p/assets/a"
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 2.0  # full jitter under 1 s, 2 s


def test_retries_exhausted_raise_last_error(server, sleeps):
    for _ in range(3):
        server.error(503, "still down", "UNAVAILABLE")
    with client("v1", server.url, max_retries=2) as c, pytest.raises(eerest.InternalServerError, match="still down"):
        c.projects.assets.get(name="projects/p/assets/a")
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_no_retry_on_other_4xx(server, sleeps, status):
    server.error(status, "nope", "INVALID_ARGUMENT")
    with client("v1", server.url, max_retries=5) as c, pytest.raises(eerest.APIStatusError):
        c.projects.assets.get(name="projects/p/assets/a")
    assert len(server.requests) == 1
    assert sleeps == []


def test_retry_after_honoured(server, sleeps):
    server.error(429, "slow down", "RESOURCE_EXHAUSTED", headers={"content-type": "application/json", "Retry-After": "7"})
    server.reply(json_body={})
    with client("v1", server.url, max_retries=1) as c:
        c.projects.assets.get(name="projects/p/assets/a")
    assert sleeps == [7.0]


async def test_async_retry_after_honoured(server, sleeps):
    server.error(503, "x", "UNAVAILABLE", headers={"content-type": "application/json", "retry-after-ms": "250"})
    server.reply(json_body={})
    async with async_client("v1", server.url, max_retries=1) as c:
        await c.projects.assets.get(name="projects/p/assets/a")
    assert sleeps == [0.25]
    assert len(server.requests) == 2


def test_connection_error_retried_then_raised(sleeps):
    with client("v1", "http://127.0.0.1:9", max_retries=2) as c, pytest.raises(eerest.APIConnectionError) as info:
        c.projects.assets.get(name="projects/p/assets/a")
    assert not isinstance(info.value, eerest.APIStatusError)
    assert len(sleeps) == 2


def test_timeout_error(server, sleeps):
    server.reply(json_body={}, delay=1.0)
    with client("v1", server.url) as c, pytest.raises(eerest.APITimeoutError, match="timed out"):
        c.projects.assets.get(name="projects/p/assets/a", timeout=0.1)


def test_retry_logged_at_debug_without_secrets(server, sleeps, caplog):
    from tests.client.test_auth import FakeCredentials

    server.error(503, "x", "UNAVAILABLE")
    server.reply(json_body={})
    caplog.set_level(logging.DEBUG, logger="eerest")
    with client("v1", server.url, max_retries=1, credentials=FakeCredentials()) as c:
        c.projects.assets.get(name="projects/p/assets/a")
    assert any("retrying earthengine.projects.assets.get after HTTP 503" in r.getMessage() for r in caplog.records)
    assert all("token-" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "not-a-resource-name"}, "does not match the pattern"),
        ({"name": "projects/p/assets/x?alt=media"}, None),  # valid: '?' is encoded, not a query
    ],
)
def test_path_pattern_checked_before_sending(server, kwargs, message):
    server.default.body = b"{}"
    with client("v1", server.url) as c:
        if message:
            with pytest.raises(eerest.InvalidRequestError, match=message):
                c.projects.assets.get(**kwargs)
            assert server.requests == []
        else:
            c.projects.assets.get(**kwargs)
            assert server.requests[0].path == "/v1/projects/p/assets/x%3Falt%3Dmedia"
            assert server.requests[0].query == []


def test_reserved_expansion_cannot_change_query_or_fragment(server):
    server.default.body = b"{}"
    with client("v1", server.url) as c:
        c.projects.assets.get(name="projects/p/assets/a b#frag%2F/c")
    assert server.requests[0].path == "/v1/projects/p/assets/a%20b%23frag%252F/c"


def test_invalid_body_rejected_before_sending(server):
    with client("v1", server.url) as c:
        with pytest.raises(eerest.InvalidRequestError, match="fileFormat"):
            c.projects.image.compute_pixels(expression=EXPRESSION, file_format="PGN")
        with pytest.raises(eerest.InvalidRequestError, match="crsCod"):
            c.projects.image.compute_pixels(expression=EXPRESSION, grid={"crsCod": "EPSG:4326"})
    assert server.requests == []


def test_missing_project_is_a_clear_error(server, monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    from google.auth.credentials import AnonymousCredentials

    import eerest.v1

    with eerest.v1.Client(credentials=AnonymousCredentials(), base_url=server.url) as c:
        assert c.project is None
        with pytest.raises(eerest.InvalidRequestError, match="no project given"):
            c.projects.image.compute_pixels(expression=EXPRESSION)
    assert server.requests == []


def test_malformed_json_response(server):
    server.reply(body=b'{"name": ', headers={"content-type": "application/json"})
    with client("v1", server.url) as c, pytest.raises(eerest.ResponseDecodeError, match="not valid JSON"):
        c.projects.assets.get(name="projects/p/assets/a")


def test_truncated_body(server):
    server.reply(body=b"0123456789", content_length=100, headers={"content-type": "application/octet-stream"})
    with client("v1", server.url) as c, pytest.raises(eerest.ResponseDecodeError, match="incomplete"):
        c.projects.image.compute_pixels(expression=EXPRESSION)


def test_user_http_client_is_used_and_not_closed(server):
    server.default.body = b"{}"
    http = httpx.Client(headers={"x-custom": "1"})
    with client("v1", server.url, http_client=http) as c:
        c.projects.assets.get(name="projects/p/assets/a")
    assert not http.is_closed
    assert server.requests[0].headers["x-custom"] == "1"
    http.close()
