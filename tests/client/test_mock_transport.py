"""A user's own ``httpx.MockTransport`` works as the client's transport: httpx has already
read such replies, so the body reader must take their content rather than the raw stream."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from google.auth.credentials import AnonymousCredentials

import eerest
from eerest._core.body import MAX_JSON_BYTES

NAME = "projects/p/assets/x"


def _reply(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"name": NAME, "bands": [{"id": "b1"}]})


def test_sync_client_over_a_mock_transport() -> None:
    http = httpx.Client(transport=httpx.MockTransport(_reply))
    with eerest.Client("p", credentials=AnonymousCredentials(), http_client=http) as client:
        asset = client.projects.assets.get(name=NAME)
    assert asset.name == NAME and asset.bands[0].id == "b1"


def test_async_client_over_a_mock_transport() -> None:
    async def main() -> str | None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(_reply))
        async with eerest.AsyncClient("p", credentials=AnonymousCredentials(), http_client=http) as client:
            return (await client.projects.assets.get(name=NAME)).name

    assert asyncio.run(main()) == NAME


def test_a_preloaded_body_is_still_capped() -> None:
    big = httpx.Response(200, content=b'{"name": "' + b"x" * MAX_JSON_BYTES + b'"}')
    http = httpx.Client(transport=httpx.MockTransport(lambda request: big))
    with eerest.Client("p", credentials=AnonymousCredentials(), http_client=http, max_retries=0) as client:
        with pytest.raises(eerest.ResponseDecodeError):
            client.projects.assets.get(name=NAME)
