"""A user's type checker sees exact types: mypy on ``check_surface.py`` passes, and on
code that forgets a required argument or expects the wrong result it fails."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

WRONG = '''
import eerest
from eerest.v1 import types

client = eerest.Client(project="p")
client.projects.assets.get()
client.projects.assets.get_pixels(file_format="NPY")
asset: types.PixelGrid = client.projects.assets.get(name="projects/p/assets/a")
client.projects.assets.get(name="projects/p/assets/a", quotaUser="me")
client.projects.update_config(name="projects/p/config", registration_state="REGISTERED")
client.projects.assets.list_assets(parent="projects/p", view="FULLER")
'''


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install -r requirements/test.txt)")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", str(ROOT / "pyproject.toml"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_every_result_type_is_exact() -> None:
    result = _mypy(str(Path(__file__).with_name("check_surface.py")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_missing_required_argument_and_wrong_result_are_type_errors(tmp_path: Path) -> None:
    user = tmp_path / "user_code.py"
    user.write_text(WRONG)
    result = _mypy(str(user))
    assert result.returncode == 1
    out = result.stdout
    assert 'Missing named argument "name" for "get" of "ProjectsAssetsResource"' in out
    assert 'Missing named argument "name" for "get_pixels" of "ProjectsAssetsResource"' in out
    assert 'Incompatible types in assignment (expression has type "EarthEngineAsset"' in out
    assert 'Unexpected keyword argument "quotaUser"' in out
    # enums are Literals of their values, in bodies as in queries
    assert 'Argument "registration_state" to "update_config" of "ProjectsResource" has incompatible type' in out
    assert 'Argument "view" to "list_assets" of "ProjectsAssetsResource" has incompatible type' in out
