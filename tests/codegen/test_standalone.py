"""``generate --schema``: a package for any Google API that carries its own copy of eerest's
runtime (codegen/runtime.py) and imports nothing of eerest or Earth Engine."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from test_architecture import ALLOWED

from codegen import runtime
from codegen.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "tests" / "packaging" / "standalone_smoke.py"


def _storage() -> Path:
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("google-api-python-client is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents" / "storage.v1.json"


def test_the_copied_runtime_is_what_the_core_may_import() -> None:
    # The runtime is eerest._core and what the architecture lets it import: nothing more to copy.
    assert set(runtime._MODULES) | set(runtime._PASS_THROUGH) == ALLOWED["eerest._core"] | {"eerest._core"}


def test_imports_are_pointed_at_the_package() -> None:
    source = "from eerest._core.client import X\nimport eerest.errors\nfrom eerest._ee import to_expression\n"
    assert runtime.use_runtime(source, "a.b") == (
        "from a.b._runtime.client import X\nimport a.b._runtime.errors\nfrom a.b._runtime._passthrough import to_expression\n"
    )
    assert (
        runtime.use_runtime("import eerest_emulator, eerest.pixels\n", "p") == "import eerest_emulator, eerest.pixels\n"
    )


def test_a_runtime_module_importing_more_of_eerest_stops_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "eerest"
    for name in ("_core/__init__.py", "_core/client.py", "errors.py", "_version.py"):
        (sources / name).parent.mkdir(parents=True, exist_ok=True)
        (sources / name).write_text('__version__ = "1"\n', encoding="utf-8")
    (sources / "_core" / "client.py").write_text("from eerest.pixels import Pixels\n", encoding="utf-8")
    monkeypatch.setattr(runtime, "runtime_sources", lambda: sources)
    with pytest.raises(
        runtime.StandaloneError, match=r"eerest\._core\.client imports eerest\.pixels, which is not part of"
    ):
        runtime.runtime_files("p")
    (sources / "_core" / "client.py").write_text("from eerest._ee import is_ee_object, serializer\n", encoding="utf-8")
    with pytest.raises(runtime.StandaloneError, match="more than a standalone runtime passes through"):
        runtime.runtime_files("p")


def test_schema_needs_out(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["generate", "--schema", "x.json"])
    assert "--schema needs --out" in capsys.readouterr().err


@pytest.mark.slow
def test_storage_with_its_own_runtime_works_without_eerest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--schema", str(_storage()), "--out", str(tmp_path / "x")]) == 0
    assert "package storage_v1 in" in capsys.readouterr().out
    package = tmp_path / "x" / "storage_v1"
    header = (package / "_runtime" / "client.py").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# Copied by eerest codegen from eerest ") and header.endswith("(eerest._core.client).")
    # -I: no PYTHONPATH, no checkout on sys.path; the smoke script makes eerest and ee unimportable
    smoke = subprocess.run([sys.executable, "-I", str(SMOKE), str(tmp_path / "x")], capture_output=True, text=True)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert smoke.stdout.splitlines()[0] == "ok"
