"""CancelScope: a cancelled scope shuts down only connections still waiting for an answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from eerest._core.cancel import CancelScope


def _send(http: httpx.Client, scope: CancelScope, url: str) -> httpx.Response:
    request = http.build_request("GET", url)
    request.extensions["trace"] = scope.trace(http, request)
    return http.send(request)


def test_answered_connections_are_left_alone(ee_emulator: Any) -> None:
    url = f"{ee_emulator.url}/v1/projects/eerest/assets/sample/elevation"
    with httpx.Client() as http:
        scope = CancelScope()
        first = _send(http, scope, url)
        scope.cancel()  # after the answer: its connection went back to the pool untouched
        second = http.get(url)
        assert second.status_code == first.status_code
        assert len(http._transport._pool.connections) == 1  # type: ignore[attr-defined]  # reused


def test_a_request_of_a_cancelled_scope_is_cut_off(ee_emulator: Any) -> None:
    url = f"{ee_emulator.url}/v1/projects/eerest/assets/sample/elevation"
    with httpx.Client() as http:
        http.get(url)  # a pooled connection, which the next request reuses
        scope = CancelScope()
        scope.cancel()
        with pytest.raises(httpx.TransportError):
            _send(http, scope, url)
        assert scope.wait(60)  # returns at once
        assert http.get(url).status_code  # the pool replaces the shut-down connection
