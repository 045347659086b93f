from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scripted_server import ScriptedServer

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ("v1alpha", "v1beta", "v1")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    s = ScriptedServer()
    yield s
    s.close()
