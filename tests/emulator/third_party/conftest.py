"""Third-party suites run against the emulator (slow tier): the emulator serving the
stand-ins of `xee_standins`, and the vendored suites kept out of collection (their runners
load them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

collect_ignore_glob = ["xee_*/*"]


@pytest.fixture(scope="session")
def standin_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(URL, data directory) of an emulator serving the public-dataset stand-ins."""
    from eerest_emulator import Emulator

    from .xee_standins import write_standins

    root = write_standins(tmp_path_factory.mktemp("standins"))
    with Emulator(data_dir=root) as emu:
        yield emu.url, root


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A runner's `EXPECTED_FAILURES` (case name -> reason) become strict xfails."""
    for item in items:
        module = getattr(item, "module", None)
        reason = getattr(module, "EXPECTED_FAILURES", {}).get(item.name)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
