"""Token refresh failures of every shape, from a token endpoint on loopback: each is a
CredentialsError (nothing sent to the API), with a bounded message; a gzip bomb is refused
as it inflates, within the documented cap plus a constant of memory."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import tracemalloc
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from scripted_server import Reply, ScriptedServer

import eerest
from eerest._core.sizes import MAX_TOKEN_BYTES
from tests.client.helpers import async_client, client

ASSET = "projects/p/assets/a"


def credentials(url: str) -> Credentials:
    return Credentials(
        token=None, refresh_token="refresh-me", token_uri=f"{url}/token", client_id="id", client_secret="secret"
    )


HTML = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"<p>oops</p>" * 2000 + b"</body></html>"
BOMB = gzip.compress(b"{" + b" " * (256 << 20) + b"}", compresslevel=9)  # 256 MiB of JSON whitespace

SHAPES: dict[str, Reply] = {
    "not json": Reply(b"hello, world", content_type="text/plain"),
    "json, no access_token": Reply(b'{"token_type": "Bearer"}'),
    "json, not an object": Reply(b"[1, 2, 3]"),
    "json, wrong types": Reply(b'{"access_token": 7, "expires_in": "soon"}'),
    "html 200": Reply(HTML, content_type="text/html"),
    "html 502": Reply(HTML, status=502, content_type="text/html"),
    "huge body": Reply(b'{"access_token": "' + b"x" * (8 << 20) + b'"}'),
    "gzip bomb": Reply(BOMB, headers={"Content-Encoding": "gzip"}),
    "cut body": Reply(b'{"access_token": "abc", "expires_in": 3600}', cut_after=10),
    "empty": Reply(b""),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_every_failed_refresh_is_a_credentials_error(server: ScriptedServer, shape: str, kind: str) -> None:
    server.routes["/token"] = SHAPES[shape]
    with pytest.raises(eerest.CredentialsError) as info:
        if kind == "sync":
            with client("v1", server.url, credentials=credentials(server.url)) as c:
                c.projects.assets.get(name=ASSET)
        else:

            async def main() -> None:
                async with async_client("v1", server.url, credentials=credentials(server.url)) as c:
                    await c.projects.assets.get(name=ASSET)

            asyncio.run(main())
    assert len(str(info.value)) < 2000
    assert "refresh-me" not in str(info.value) and "secret" not in str(info.value)
    assert all(r.path == "/token" for r in server.requests)  # nothing went to the API


def test_a_gzip_bomb_stays_within_the_cap(server: ScriptedServer) -> None:
    server.routes["/token"] = SHAPES["gzip bomb"]
    with client("v1", server.url, credentials=credentials(server.url)) as c:
        tracemalloc.start()
        try:
            with pytest.raises(eerest.CredentialsError, match="exceeds"):
                c.projects.assets.get(name=ASSET)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < MAX_TOKEN_BYTES + (4 << 20), peak


def test_a_trickling_token_endpoint_ends_with_the_token_deadline(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eerest._core import auth_transport

    monkeypatch.setattr(auth_transport, "TOKEN_DEADLINE", 1.0)
    server.routes["/token"] = Reply(json.dumps({"access_token": "a", "expires_in": 3600}).encode(),
                                    trickle_headers=0.05)
    with client("v1", server.url, credentials=credentials(server.url)) as c:
        start = time.monotonic()
        with pytest.raises(eerest.CredentialsError, match="deadline"):
            c.projects.assets.get(name=ASSET)
        assert time.monotonic() - start < 2.0


def test_a_good_token_still_works(server: ScriptedServer) -> None:
    server.routes["/token"] = Reply(json.dumps({"access_token": "good", "expires_in": 3600}).encode(),
                                    headers={"Content-Encoding": "identity"})
    server.routes["/a"] = Reply(json.dumps({"name": ASSET}).encode())
    with client("v1", server.url, credentials=credentials(server.url)) as c:
        assert c.projects.assets.get(name=ASSET).name == ASSET
    sent: Any = next(r for r in server.requests if r.path.endswith("/a"))
    assert sent.headers["authorization"] == "Bearer good"


def test_a_token_refresh_ends_with_the_calls_deadline(server: ScriptedServer) -> None:
    server.routes["/token"] = Reply(json.dumps({"access_token": "a", "expires_in": 3600}).encode(),
                                    trickle_headers=0.05)
    with client("v1", server.url, credentials=credentials(server.url), deadline=1.0) as c:
        start = time.monotonic()
        with pytest.raises((eerest.CredentialsError, eerest.APITimeoutError)):
            c.projects.assets.get(name=ASSET)
        assert time.monotonic() - start < 2.0
