"""`import eerest` loads nothing heavy; names and submodules load on first use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import eerest

STUB = Path(eerest.__file__).with_suffix(".pyi")


def _run(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_import_and_client_load_only_what_they_use() -> None:
    result = _run(
        "import json, sys\n"
        "heavy = ('numpy', 'httpx', 'pydantic', 'google', 'eerest.v1', 'eerest.v1beta', 'eerest.v1alpha', 'typing')\n"
        "loaded = lambda: sorted(m for m in heavy if m in sys.modules)\n"
        "import eerest\n"
        "after_import = loaded()\n"
        "from google.auth.credentials import AnonymousCredentials\n"
        "client = eerest.Client('p', credentials=AnonymousCredentials())\n"
        "after_client = loaded()\n"
        "eerest.limits.suggest_tile(4096, 4096, ['float32'])\n"
        "print(json.dumps({'import': after_import, 'client': after_client, 'limits': loaded()}))"
    )
    assert result["import"] == []
    assert "numpy" not in result["client"] and "eerest.v1beta" not in result["client"]  # type: ignore[operator]
    assert "numpy" in result["limits"]  # type: ignore[operator]


def test_public_names_resolve_from_the_stub() -> None:
    names = {
        alias.asname or alias.name
        for node in ast.parse(STUB.read_text()).body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert set(eerest.__all__) == names
    assert names <= set(dir(eerest))
    for name in names - {"emulator"}:
        assert getattr(eerest, name) is not None
    assert eerest.v1beta.Client.__module__ == "eerest.v1beta._client"
    assert eerest.v1alpha.types.PixelGrid.__name__ == "PixelGrid"
    assert eerest.Client is eerest.v1.Client
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        eerest.nope  # noqa: B018


def test_emulator_attribute() -> None:
    pytest.importorskip("eerest_emulator")
    assert eerest.emulator.__name__ == "eerest_emulator"
    result = _run(
        "import json, sys\n"
        "sys.modules['eerest_emulator'] = None  # as if not installed\n"
        "import eerest\n"
        "try:\n"
        "    eerest.emulator\n"
        "except ImportError as e:\n"
        "    print(json.dumps({'error': str(e)}))\n"
    )
    assert "pip install eerest-emulator" in str(result["error"])
