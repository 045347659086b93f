"""eerest-codegen, the generator as its own distribution (codegen/pyproject.toml).

Offline: its wheel holds the generator without Earth Engine's configuration or schema
builder, plus eerest's runtime sources (the files of src/eerest, byte for byte); its version
and its generated packages' dependencies are eerest's. With the package index
(``network``): ``pip install ./codegen`` in a fresh venv, ``eerest-codegen generate --schema
storage.v1.json --out x``, and the package works against a loopback server importing nothing
of eerest or ``ee`` (standalone_smoke.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+: the slow tier runs on the newest

ROOT = Path(__file__).resolve().parents[2]
CODEGEN = ROOT / "codegen"

pytestmark = pytest.mark.slow


def _project(path: Path) -> dict[str, object]:
    project: dict[str, object] = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    return project


def test_the_wheel_is_the_generator_and_the_runtime_sources(codegen_wheel: Path) -> None:
    with zipfile.ZipFile(codegen_wheel) as z:
        names = [n for n in z.namelist() if not n.startswith("eerest_codegen-")]
        runtime = {n.removeprefix("eerest_codegen/_runtime_src/"): z.read(n) for n in names if "/_runtime_src/" in n}
        entry_points = z.read(next(n for n in z.namelist() if n.endswith("entry_points.txt"))).decode()
    assert all(n.startswith("eerest_codegen/") for n in names), names
    modules = {n.removeprefix("eerest_codegen/") for n in names if "/_runtime_src/" not in n}
    assert {"cli.py", "pipeline.py", "runtime.py", "render.py", "templates/_client.py.j2"} <= modules
    # Earth Engine's configuration and schema builder, and the corpus harness, stay in the checkout
    assert not [
        m for m in modules
        if m.startswith("build_schema/") or m in ("config.yaml", "corpus.py", "corpus_calls.py", "corpus_values.py", "hatch_build.py")
    ]
    expected = {
        p.relative_to(ROOT / "src" / "eerest").as_posix() for p in (ROOT / "src" / "eerest" / "_core").glob("*.py")
    }
    assert set(runtime) == expected | {"errors.py", "_version.py"}
    for name, data in runtime.items():
        assert data == (ROOT / "src" / "eerest" / name).read_bytes(), name  # the same files, not a second copy
    assert re.search(r"^eerest-codegen = eerest_codegen\.cli:main$", entry_points, re.M), entry_points


def test_version_and_dependencies_are_eerests() -> None:
    codegen, sdk = _project(CODEGEN / "pyproject.toml"), _project(ROOT / "pyproject.toml")
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "src" / "eerest" / "_version.py").read_text())
    assert version and codegen["version"] == version.group(1)
    runtime = [d for d in sdk["dependencies"] if not str(d).startswith("numpy")]  # type: ignore[attr-defined]
    assert set(runtime) <= set(codegen["dependencies"])  # type: ignore[arg-type]
    pins = {
        line.split("#")[0].strip()
        for line in (ROOT / "requirements" / "codegen.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    }
    assert set(codegen["dependencies"]) - set(runtime) == pins  # type: ignore[arg-type]


@pytest.mark.network
def test_generate_storage_in_a_fresh_venv(
    index: Callable[[str], None], pip_install: Callable[..., None], tmp_path: Path
) -> None:
    index("installing eerest-codegen's dependencies into a fresh venv")
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("google-api-python-client (where storage.v1.json comes from) is not installed")
    storage = Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents" / "storage.v1.json"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip_install(python, CODEGEN)  # pip install ./codegen
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    installed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, env=env
    )
    assert not [
        line for line in installed.stdout.splitlines() if line.lower().startswith(("eerest==", "earthengine-api=="))
    ]

    work = tmp_path / "work"
    work.mkdir()
    (work / "storage.v1.json").write_bytes(storage.read_bytes())
    generate = subprocess.run(
        [str(venv / "bin" / "eerest-codegen"), "generate", "--schema", "storage.v1.json", "--out", "x"],
        cwd=work, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert generate.returncode == 0, generate.stdout + generate.stderr
    assert (work / "x" / "storage_v1" / "_runtime" / "client.py").is_file()
    smoke = subprocess.run(
        [str(python), str(Path(__file__).parent / "standalone_smoke.py"), str(work / "x")],
        cwd=work, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    ok, loaded = smoke.stdout.splitlines()
    assert ok == "ok" and "storage_v1._runtime.client" in loaded.split()
