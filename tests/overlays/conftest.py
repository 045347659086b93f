"""Fixtures for the pixel overlay tests: the scripted loopback server (for hostile bodies;
``tests/scripted_server.py``), the emulator, and a helper that makes the same call
through every API version with the sync or the async client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pixhelp import KINDS, VERSIONS, RawServer


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    with RawServer() as server:
        yield server


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[Any]:
    from eerest_emulator import Emulator

    with Emulator(require_auth=False) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_session: Any) -> Iterator[Any]:
    emulator_session.reset()
    yield emulator_session
    emulator_session.reset()


@pytest.fixture(params=[(v, k) for v in VERSIONS for k in KINDS], ids=lambda p: f"{p[0]}-{p[1]}")
def flavour(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(version, "sync" | "async"): every test using it runs for each of the six clients."""
    return request.param  # type: ignore[no-any-return]
