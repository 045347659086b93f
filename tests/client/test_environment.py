"""A client reads EEREST_BASE_URL and EEREST_ACCESS_TOKEN when the matching argument is not
given (as the CLI does), and refuses credentials of the wrong type with what to pass."""

from __future__ import annotations

from typing import Any

import pytest

import eerest

SCENE = "projects/eerest/assets/sample/scenes/20240524"


def test_the_environment_names_the_endpoint_and_token(ee_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EEREST_BASE_URL", ee_emulator.url)
    monkeypatch.setenv("EEREST_ACCESS_TOKEN", "env-token-81c2")
    with eerest.Client(project="eerest") as client:
        assert client.base_url == ee_emulator.url.rstrip("/")
        assert client.projects.assets.get(name=SCENE).type == "IMAGE"
        assert "env-token-81c2" not in repr(client)


def test_the_environment_token_is_what_is_sent(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EEREST_BASE_URL", server.url)
    monkeypatch.setenv("EEREST_ACCESS_TOKEN", "env-token-81c2")
    server.reply(200, {"name": SCENE, "type": "IMAGE"})
    with eerest.Client(project="eerest") as client:
        client.projects.assets.get(name=SCENE)
    assert server.requests[-1].headers["authorization"] == "Bearer env-token-81c2"


def test_arguments_win_over_the_environment(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from google.oauth2.credentials import Credentials

    monkeypatch.setenv("EEREST_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("EEREST_ACCESS_TOKEN", "env-token-81c2")
    server.reply(200, {"name": SCENE, "type": "IMAGE"})
    with eerest.Client(project="eerest", base_url=server.url, credentials=Credentials(token="arg-token")) as client:
        client.projects.assets.get(name=SCENE)
    assert server.requests[-1].headers["authorization"] == "Bearer arg-token"


@pytest.mark.parametrize("wrong", ["ya29.a-token", b"token", {"token": "x"}, 42])
def test_credentials_of_the_wrong_type_say_what_to_pass(wrong: Any) -> None:
    with pytest.raises(eerest.InvalidRequestError, match=r"credentials must be google\.auth credentials") as info:
        eerest.Client(project="p", credentials=wrong)
    if isinstance(wrong, (str, bytes)):
        assert "google.oauth2.credentials.Credentials(token=...)" in str(info.value)
        assert "ya29" not in str(info.value)
