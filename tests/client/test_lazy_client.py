"""Constructing a client loads only what construction needs: no messages, no httpx, no
pydantic, no google-auth (when the project is given); the first request loads the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

HEAVY = (
    "httpx",
    "pydantic",
    "google",
    "numpy",
    "eerest.v1.types",
    "eerest.v1._resources",
    "eerest.v1._resources.projects",
    "eerest.v1._resources.projects_assets",
    "eerest.v1._resources.projects_operations",
    "eerest.v1._types.earth_engine_asset",
    "eerest.v1._types.operation",
    "eerest.v1._types.expression",
    "eerest.v1.beta",
    "eerest.v1beta",
)


def _loaded_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_client_with_a_project_loads_nothing_heavy() -> None:
    assert _loaded_after("import eerest\nc = eerest.Client('p')\nrepr(c); c.close()") == []
    assert _loaded_after("import eerest\nc = eerest.AsyncClient('p')\nrepr(c)") == []


def test_a_resource_loads_its_own_methods_and_messages_only() -> None:
    loaded = _loaded_after("import eerest\nc = eerest.Client('p')\nc.projects")
    assert {"eerest.v1._resources.projects", "eerest.v1.types", "pydantic"} <= set(loaded)
    assert "eerest.v1._resources.projects_assets" not in loaded  # a child resource: on its first access
    assert "eerest.v1._types.operation" not in loaded  # a message none of its methods uses
    loaded = _loaded_after("import eerest\nc = eerest.Client('p')\nc.projects.assets")
    assert {"eerest.v1._resources.projects_assets", "eerest.v1._types.earth_engine_asset"} <= set(loaded)
    assert not {"eerest.v1._resources.projects_operations", "eerest.v1._types.operation", "eerest.v1beta"} & set(loaded)
    loaded = _loaded_after("import eerest\nc = eerest.Client('p')\nc.projects.operations")
    assert "eerest.v1._types.operation" in loaded


def test_a_method_looked_up_by_id_loads_its_resource_only() -> None:
    code = "import eerest.v1._resources as r\nassert len(r.SPECS) > 50\nr.SPECS['projects.operations.get']"
    loaded = _loaded_after(code)
    assert "eerest.v1._resources.projects_operations" in loaded
    assert "eerest.v1._resources.projects_assets" not in loaded


def test_version_types_load_on_first_use() -> None:
    import pickle

    import eerest.v1
    from eerest.v1 import types

    assert types is eerest.v1.types
    assert eerest.v1.types.PixelGrid is types.PixelGrid
    assert "PixelGrid" in types.__all__ and "PixelGrid" in dir(types)
    grid = types.PixelGrid(crs_code="EPSG:4326", dimensions={"width": 2, "height": 1})
    assert pickle.loads(pickle.dumps(grid)) == grid
    assert _loaded_after("from eerest.v1 import types") == ["eerest.v1.types"]  # no message, not even pydantic
    loaded = _loaded_after("from eerest.v1.types import Expression")
    assert {"eerest.v1._types.expression", "pydantic"} <= set(loaded)
    assert "eerest.v1._types.earth_engine_asset" not in loaded
    assert _loaded_after("from eerest.v1 import types\nhasattr(types, 'Nope')") == ["eerest.v1.types"]


def test_a_sync_call_with_a_bearer_token_loads_neither_google_auth_nor_asyncio(server: Any) -> None:
    """EEREST_ACCESS_TOKEN is sent without google-auth (about 50 ms with the cryptography and
    asyncio it imports), and nothing of a sync call needs asyncio."""
    server.reply(json_body={"name": "projects/p/assets/a", "type": "IMAGE"})
    code = (
        "import os, sys\nos.environ['EEREST_ACCESS_TOKEN'] = 'tok-1'\nimport eerest\n"
        f"c = eerest.Client('p', base_url={server.url!r})\n"
        "assert c.projects.assets.get(name='projects/p/assets/a').type == 'IMAGE'\n"
        "assert not {'asyncio', 'google', 'cryptography'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert server.requests[0].headers["authorization"] == "Bearer tok-1"


def test_the_bearer_token_stays_out_of_reprs_and_cannot_be_refreshed() -> None:
    import google.auth.exceptions
    import pytest

    from eerest._core.auth import Auth, BearerToken

    token = BearerToken("secret-7f3a")
    assert "secret" not in repr(token) and "secret" not in repr(Auth(token, scopes=()))  # type: ignore[arg-type]
    assert Auth(token, scopes=()).headers() == {"authorization": "Bearer secret-7f3a"}  # type: ignore[arg-type]
    with pytest.raises(google.auth.exceptions.RefreshError, match="EEREST_ACCESS_TOKEN"):
        token.refresh(None)
