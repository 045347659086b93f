"""pytest plugin: a local Earth Engine emulator and ready eerest clients for your tests.

Registered as the ``eerest-emulator`` pytest11 entry point, so installing eerest-emulator is
enough (the client fixtures also need eerest):

    def test_ndvi(ee_client):
        out = ee_client.projects.image.compute_pixels(expression=..., file_format="NPY", grid=...)

Fixtures:

- ``ee_emulator_session`` (session): the running `eerest_emulator.Emulator`.
- ``ee_emulator``: the same server, with faults, the request log and the operations'
  settings (run time, caps, clock, injected failures) reset before and after each test;
  ``.url``, ``.faults``, ``.inject(...)``, ``.requests``, ``.operations``. Its data directory
  is a temporary copy of the bundled sample (or ``--ee-emulator-data DIR``, which it changes).
- ``ee_client`` / ``ee_async_client``: an ``eerest.Client`` / ``eerest.AsyncClient`` for
  project ``eerest`` pointed at the emulator, with a static bearer token. The async one is
  a pytest-asyncio fixture (``pip install pytest-asyncio``): use it in ``async def`` tests
  marked ``@pytest.mark.asyncio`` (or with ``asyncio_mode = "auto"``).

Options: ``--ee-emulator-data DIR`` (or ini ``ee_emulator_data``) serves DIR instead of
the bundled sample.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

__all__ = [
    "ee_emulator_session",
    "ee_emulator",
    "ee_client",
    "ee_async_client",
    "emulator_credentials",
    "EMULATOR_PROJECT",
]

#: The project the fixtures' clients use.
EMULATOR_PROJECT = "eerest"


def emulator_credentials() -> Any:
    """Credentials that send ``Authorization: Bearer emulator`` (the emulator accepts any token)."""
    from google.oauth2.credentials import Credentials

    return Credentials(token="emulator")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eerest")
    group.addoption("--ee-emulator-data", default=None, help="data directory for the eerest emulator fixtures")
    parser.addini("ee_emulator_data", "data directory for the eerest emulator fixtures", default="")


@pytest.fixture(scope="session")
def ee_emulator_session(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The emulator, started once per test session on a free port of 127.0.0.1."""
    from eerest_emulator import Emulator

    data = request.config.getoption("--ee-emulator-data", default=None)
    if not data:
        try:
            data = request.config.getini("ee_emulator_data") or None
        except ValueError:  # the plugin's options are not registered (fixtures imported directly)
            data = None
    with Emulator(data_dir=data) as emu:
        yield emu


@pytest.fixture
def ee_emulator(ee_emulator_session: Any) -> Iterator[Any]:
    """The session's emulator, reset (faults, request log) around each test; a test starts
    once the previous one's requests have all been answered."""
    ee_emulator_session.faults.wait_idle()
    ee_emulator_session.faults.clear()
    ee_emulator_session.app.clear_requests()
    ee_emulator_session.operations.reset_settings()
    yield ee_emulator_session
    ee_emulator_session.faults.clear()
    ee_emulator_session.app.clear_requests()
    ee_emulator_session.operations.reset_settings()


@pytest.fixture
def ee_client(ee_emulator: Any) -> Iterator[Any]:
    """An `eerest.Client` talking to the emulator."""
    import eerest

    client = eerest.Client(project=EMULATOR_PROJECT, base_url=ee_emulator.url, credentials=emulator_credentials())
    try:
        yield client
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()


async def _ee_async_client(ee_emulator: Any) -> AsyncIterator[Any]:
    """An `eerest.AsyncClient` talking to the emulator, opened and closed on the test's
    event loop (a pytest-asyncio fixture: works in its default strict mode)."""
    import eerest

    async with eerest.AsyncClient(
        project=EMULATOR_PROJECT, base_url=ee_emulator.url, credentials=emulator_credentials()
    ) as client:
        yield client


def _ee_async_client_needs_plugin(ee_emulator: Any) -> None:
    pytest.fail(
        "the ee_async_client fixture needs pytest-asyncio: pip install pytest-asyncio, then mark "
        "async tests with @pytest.mark.asyncio (or set asyncio_mode = 'auto')",
        pytrace=False,
    )


def _async_fixture() -> Any:
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - exercised only without the plugin
        return pytest.fixture(_ee_async_client_needs_plugin, name="ee_async_client")
    return pytest_asyncio.fixture(_ee_async_client, name="ee_async_client")


ee_async_client = _async_fixture()
