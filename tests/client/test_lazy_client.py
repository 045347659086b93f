"""Constructing a client loads only what construction needs: no messages, no httpx, no
pydantic, no google-auth (when the project is given); the first request loads the rest."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("httpx", "pydantic", "google", "numpy", "eerest.v1.types", "eerest.v1._resources", "eerest.v1beta")


def _loaded_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_client_with_a_project_loads_nothing_heavy() -> None:
    assert _loaded_after("import eerest\nc = eerest.Client('p')\nrepr(c); c.close()") == []
    assert _loaded_after("import eerest\nc = eerest.AsyncClient('p')\nrepr(c)") == []


def test_first_resource_loads_the_version_s_methods_and_messages() -> None:
    loaded = _loaded_after("import eerest\nc = eerest.Client('p')\nc.projects.assets")
    assert {"eerest.v1._resources", "eerest.v1.types", "pydantic"} <= set(loaded)
    assert "eerest.v1beta" not in loaded


def test_version_types_load_on_first_use() -> None:
    import eerest.v1

    assert eerest.v1.types.PixelGrid.__module__ == "eerest.v1.types"
    from eerest.v1 import types

    assert types is eerest.v1.types
    assert _loaded_after("from eerest.v1 import types") == ["eerest.v1.types", "pydantic"]
