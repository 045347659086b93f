"""The update workflow on a copy of the repository: a harmless Earth Engine revision goes
through ``update_schema`` and the suite untouched; a breaking one is reported, naming the
overlay and the hand-written call sites it breaks.

Each test copies the project's source files into a scratch directory, applies a synthetic
revision with ``python -m codegen.update_schema`` there and runs the copy's own tests with the
copy's ``src/`` (and emulator) ahead of the installed ones.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from source_tree import copy_tree

from codegen.normalize import load

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

#: The copy's tests a schema change can reach: generation, the emulator's request validation
#: (from its own copy of the documents) and its parity with earthengine-api, every generated
#: method on the wire, overlays, tasks and the layering. (Not the deadline, retry and fidelity
#: tests: the whole suite runs those on the same code, and they would double this test's time.)
SUITE = (
    "tests/codegen",
    "tests/emulator",
    "emulator/tests/test_emulator_requests.py",
    "emulator/tests/test_http.py",
    "emulator/tests/test_ee_batch.py",
    "tests/client/test_every_method.py",
    "tests/client/test_methods.py",
    "tests/client/test_request_checks.py",
    "tests/overlays",
    "tests/tasks",
    "tests/test_architecture.py",
)


def _run(repo: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo / "src"), str(repo / "emulator" / "src"), str(repo)])}
    return subprocess.run(
        [sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _revision(doc: dict[str, Any]) -> str:
    return str(int(doc["revision"]) + 1)


def harmless(doc: dict[str, Any]) -> dict[str, Any]:
    """What Google ships most weeks: a new revision, an optional field, a new method."""
    doc = copy.deepcopy(doc)
    doc["revision"] = _revision(doc)
    doc["schemas"]["EarthEngineAsset"]["properties"]["harmlessNote"] = {
        "type": "string",
        "description": "A note (new, optional).",
    }
    assets = doc["resources"]["projects"]["resources"]["assets"]["methods"]
    assets["touch"] = {
        "id": "earthengine.projects.assets.touch",
        "httpMethod": "POST",
        "path": "v1/{+name}:touch",
        "flatPath": "v1/projects/{projectsId}/assets/{assetsId}:touch",
        "parameterOrder": ["name"],
        "parameters": {
            "name": {"location": "path", "required": True, "type": "string", "pattern": "^projects/[^/]+/assets/.*$"}
        },
        "response": {"$ref": "EarthEngineAsset"},
        "scopes": ["https://www.googleapis.com/auth/earthengine"],
        "description": "Marks an asset as used (new).",
    }
    return doc


def breaking(doc: dict[str, Any]) -> dict[str, Any]:
    """The method an overlay is bound to removed; a keyword a hand-written feature passes renamed."""
    doc = copy.deepcopy(doc)
    doc["revision"] = _revision(doc)
    del doc["resources"]["projects"]["resources"]["assets"]["methods"]["getPixels"]
    request = doc["schemas"]["ComputeImagesRequest"]["properties"]
    request["maxResults"] = request.pop("pageSize")
    return doc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_tree(tmp_path / "repo")


def _update(repo: Path, doc: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    incoming = tmp_path / "incoming.json"
    incoming.write_text(json.dumps(doc), encoding="utf-8")
    return _run(repo, "-m", "codegen.update_schema", str(incoming), "--fail-on-breaking")


def test_a_harmless_revision_passes_the_suite_untouched(repo: Path, tmp_path: Path) -> None:
    new = harmless(load(repo / "schema" / "earthengine.v1.json"))
    update = _update(repo, new, tmp_path)
    assert update.returncode == 0, update.stdout + update.stderr
    assert "BREAKS" not in update.stdout
    assert "added method projects.assets.touch" in update.stdout
    emulator_copy = repo / "emulator" / "src" / "eerest_emulator" / "discovery" / "earthengine.v1.json"
    assert emulator_copy.read_bytes() == (repo / "schema" / "earthengine.v1.json").read_bytes()

    check = _run(repo, "-m", "codegen", "check")
    assert check.returncode == 0, check.stderr
    suite = _run(repo, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow and not network", *SUITE)
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    probe = _run(repo, "-c", "import eerest.v1 as v; print(v.DISCOVERY_REVISION, v.__file__)")
    revision, where = probe.stdout.split()
    assert (revision, where.startswith(str(repo))) == (new["revision"], True)


def test_a_breaking_revision_names_what_it_breaks(repo: Path, tmp_path: Path) -> None:
    update = _update(repo, breaking(load(repo / "schema" / "earthengine.v1.json")), tmp_path)
    assert update.returncode == 1, update.stdout + update.stderr
    out = update.stdout
    assert "BREAKING removed method projects.assets.getPixels" in out
    breaks = [line.strip() for line in out.splitlines() if line.startswith("  BREAKS ")]
    named = {line.split(":")[0].removeprefix("BREAKS ") for line in breaks}
    assert {
        "codegen/config.yaml overlays.projects.assets.getPixels",  # the overlay binding
        "src/eerest/_area/job.py",  # read_area names the method
        "src/eerest/xarray/_source.py",  # the xarray backend passes page_size=
    } <= named, breaks
    assert any("eerest._overlays.pixel_requests:GET_PIXELS" in line for line in breaks)
    # Everything is still written (for a bot's pull request) and regenerated.
    assert _run(repo, "-m", "codegen", "check").returncode == 0
    probe = _run(repo, "-c", _HAS_GET_PIXELS)
    assert probe.stdout.split() == ["False", "True"], probe.stderr


_HAS_GET_PIXELS = """
from google.auth.credentials import AnonymousCredentials
import eerest.v1
client = eerest.v1.Client("p", credentials=AnonymousCredentials())
print(hasattr(client.projects.assets, "get_pixels"), hasattr(client.projects.thumbnails, "get_pixels"))
"""
