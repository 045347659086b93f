"""A user's type checker sees exact types: mypy on ``check_surface.py`` passes, and on
code that forgets a required argument or expects the wrong result it fails."""

from __future__ import annotations

import importlib.util
import json
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


HERE = Path(__file__).parent
USER_SCRIPTS = [str(HERE / "check_surface.py"), str(HERE / "user_script.py")]


def test_every_result_type_is_exact() -> None:
    result = _mypy(*USER_SCRIPTS)
    assert result.returncode == 0, result.stdout + result.stderr


def _pyright(tmp_path: Path, *files: str) -> list[dict[str, object]]:
    """pyright (strict) on ``files``: its diagnostics. Skips when pyright is missing or cannot start
    (the PyPI package fetches Node.js on first use)."""
    if importlib.util.find_spec("pyright") is None:
        pytest.skip("pyright is not installed (pip install -r requirements/test.txt)")
    config = tmp_path / "pyrightconfig.json"
    config.write_text(json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.10"}))
    done = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, "-p", str(config), "--outputjson", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.skip(f"pyright could not start (exit {done.returncode}): {(done.stderr or done.stdout)[-500:]}")
    return list(report["generalDiagnostics"])


def test_pyright_strict_sees_the_same_exact_types(tmp_path: Path) -> None:
    """The user scripts (20-odd generated methods, messages built by their Python names, the
    task helpers) type-check under pyright's strict mode too, not only mypy's pydantic plugin."""
    problems = [d for d in _pyright(tmp_path, *USER_SCRIPTS) if d["severity"] != "information"]
    assert problems == [], json.dumps(problems, indent=1)


def test_pyright_catches_wrong_calls(tmp_path: Path) -> None:
    user = tmp_path / "user_code.py"
    user.write_text(WRONG + 'types.PixelGrid(crs_code=4326)\ntypes.PixelGrid(crsCode="EPSG:4326", dimensions=3)\n')
    messages = " | ".join(str(d["message"]) for d in _pyright(tmp_path, str(user)) if d["severity"] == "error")
    assert 'Argument missing for parameter "name"' in messages
    assert 'No parameter named "quotaUser"' in messages
    assert '"EarthEngineAsset" is not assignable to declared type "PixelGrid"' in messages
    assert 'Literal[4326]" cannot be assigned to parameter "crs_code"' in messages
    assert 'cannot be assigned to parameter "dimensions"' in messages


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
