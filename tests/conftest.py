from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scripted_server import ScriptedServer

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ("v1alpha", "v1beta", "v1")


@pytest.fixture(scope="session")
def _empty_ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-ca-certificates")


@pytest.fixture(autouse=True)
def _plain_http_only(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _empty_ca_dir: Path) -> None:
    """The tests talk plain HTTP to 127.0.0.1, yet httpx loads the whole CA bundle (tens of ms
    of CPU) for every client it makes: hundreds of times, a quarter of the default run. An
    empty CA directory makes that free (and any TLS connection fail to verify). Tests marked
    ``network`` reach the package index and keep the real certificates."""
    if request.node.get_closest_marker("network") is None:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.setenv("SSL_CERT_DIR", str(_empty_ca_dir))


@pytest.fixture(scope="module")
def ee_session(ee_emulator_session: Any) -> Iterator[Any]:
    """earthengine-api initialised against the emulator for one test module (its state is
    global: reset after)."""
    ee = pytest.importorskip("ee")
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield ee_emulator_session
    ee.Reset()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    yield s
    s.close()


@pytest.fixture
def unthrottled_client(ee_emulator: Any) -> Iterator[Any]:
    """The emulator plugin's ``ee_client`` without its 50 requests/s cap, for tests that read a
    hundred tiles or chunks: the cap (tests/area/test_limiter.py) would only make them wait."""
    from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

    import eerest

    with eerest.Client(
        project=EMULATOR_PROJECT, base_url=ee_emulator.url, credentials=emulator_credentials(), max_requests_per_second=None
    ) as client:
        yield client
