"""How requests leave a client: an httpx client of eerest's own is sent to directly through
its transport, and the server cannot tell the difference from httpx's full send path (an
httpx client passed in); proxies from the environment, ``elapsed`` and closed clients
behave as with httpx."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
import pytest

import eerest
from eerest._core.transport import Sender
from tests.client.helpers import EXPRESSION, async_client, client, png_body
from tests.scripted_server import Reply

NAME = "projects/p/assets/a b"
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def _calls(c: eerest.Client) -> None:
    c.projects.assets.get(name=NAME)
    c.projects.assets.get(name=NAME, extra_headers={"User-Agent": "mine/1", "X-Trace": "t"}, extra_query={"q": "1"})
    c.with_options(timeout=7).projects.image.compute_pixels(expression=EXPRESSION, file_format="PNG")


def _seen(server) -> list[tuple[str, str, list[tuple[str, str]], Counter[tuple[str, str]], bytes]]:
    return [
        (r.method, r.path, r.query, Counter((k.lower(), v) for k, v in r.header_list if k.lower() != "host"), r.body)
        for r in server.requests
    ]


def test_own_pool_sends_what_httpx_build_request_and_send_send(server, no_proxy_env) -> None:
    server.default.body = b"{}"
    server.routes[":computePixels"] = Reply(png_body(), content_type="image/png")
    with client("v1", server.url) as c:
        _calls(c)
    own = _seen(server)
    server.requests.clear()
    with httpx.Client() as http, client("v1", server.url, http_client=http) as c:
        _calls(c)
    assert own == _seen(server)
    headers = own[1][3]
    assert headers[("user-agent", "mine/1")] == 1 and sum(1 for k, _ in headers if k == "user-agent") == 1
    assert sum(1 for k, _ in own[0][3] if k == "accept-encoding") == 1


async def test_async_own_pool_sends_what_httpx_sends(server, no_proxy_env) -> None:
    server.default.body = b"{}"
    async with async_client("v1", server.url) as c:
        await c.projects.assets.get(name=NAME, extra_headers={"accept-encoding": "identity"})
    own = _seen(server)
    server.requests.clear()
    async with httpx.AsyncClient() as http, async_client("v1", server.url, http_client=http) as c:
        await c.projects.assets.get(name=NAME, extra_headers={"accept-encoding": "identity"})
    assert own == _seen(server)


def test_a_proxy_in_the_environment_is_used(server, no_proxy_env) -> None:
    server.default.body = b"{}"
    no_proxy_env.setenv("HTTP_PROXY", server.url)  # the scripted server plays the proxy
    with client("v1", "http://earthengine.invalid") as c:
        c.projects.assets.get(name="projects/p/assets/a")
    assert [r.path for r in server.requests] == ["/v1/projects/p/assets/a"]
    assert server.requests[0].headers["host"] == "earthengine.invalid"


def test_error_responses_carry_their_request_and_elapsed_time(server, no_proxy_env) -> None:
    server.error(404, "Asset not found.", "NOT_FOUND")
    with client("v1", server.url) as c, pytest.raises(eerest.NotFoundError) as info:
        c.projects.assets.get(name="projects/p/assets/a")
    response = info.value.response
    assert response is not None and isinstance(response.elapsed, dt.timedelta)
    assert response.request.url.path == "/v1/projects/p/assets/a"


def test_a_closed_client_says_so(server, no_proxy_env) -> None:
    c = client("v1", server.url)
    c.projects.assets.get(name="projects/p/assets/a")
    c.close()
    with pytest.raises(eerest.InvalidRequestError, match="before closing"):
        c.projects.assets.get(name="projects/p/assets/a")
    assert len(server.requests) == 1


async def test_a_closed_async_client_says_so(server, no_proxy_env) -> None:
    c = async_client("v1", server.url)
    await c.projects.assets.get(name="projects/p/assets/a")
    await c.close()
    with pytest.raises(eerest.InvalidRequestError, match="before closing"):
        await c.projects.assets.get(name="projects/p/assets/a")
    assert len(server.requests) == 1


def test_parsed_urls_are_kept_within_a_bound() -> None:
    with httpx.Client() as http:
        sender = Sender(http)
        urls = [f"https://example.test/v1/projects/p/assets/{i}" for i in range(3000)]
        for url in urls:
            assert sender.url(url) == httpx.URL(url)
        assert sender.url(urls[-1]) is sender.url(urls[-1])
        assert len(sender._urls) <= 1024


def test_each_request_is_logged_as_httpx_logs_it(server, no_proxy_env, caplog: pytest.LogCaptureFixture) -> None:
    server.default.body = b"{}"
    with caplog.at_level("INFO", logger="httpx"):
        with client("v1", server.url) as c:
            c.projects.assets.get(name="projects/p/assets/a")
        with httpx.Client() as http, client("v1", server.url, http_client=http) as c:
            c.projects.assets.get(name="projects/p/assets/a")
    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name == "httpx"]
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0][2] == f'HTTP Request: GET {server.url}/v1/projects/p/assets/a "HTTP/1.1 200 OK"'


def test_plain_http_endpoints_skip_the_ca_bundle_but_never_skip_verification(no_proxy_env: pytest.MonkeyPatch) -> None:
    import ssl

    from google.auth.credentials import AnonymousCredentials

    plain = eerest.Client(project="p", base_url="http://127.0.0.1:9", credentials=AnonymousCredentials())
    secure = eerest.Client(project="p", base_url="https://earthengine.googleapis.com", credentials=AnonymousCredentials())
    try:
        plain_ctx = plain._sender._transport._pool._ssl_context  # type: ignore[union-attr]
        secure_ctx = secure._sender._transport._pool._ssl_context  # type: ignore[union-attr]
        # https through the plain endpoint's pool would fail its handshake: verification is
        # on and no CA is trusted
        assert plain_ctx.verify_mode == ssl.CERT_REQUIRED and plain_ctx.check_hostname
        assert plain_ctx.get_ca_certs() == [] and plain_ctx is not secure_ctx
        assert secure_ctx.verify_mode == ssl.CERT_REQUIRED and secure_ctx.check_hostname
    finally:
        plain.close()
        secure.close()
