"""Fixtures for the packaging tests: one pair of reproducible builds per distribution
(eerest, and eerest-emulator from emulator/ when the sources hold it) per session.

The sources are copied twice into temporary directories (the files git knows about, or in an
unpacked sdist every file but caches and build output), the second copy written in reverse
order with other permissions and fresh mtimes, and each copy is built with
``python -m build`` (the sdist, then the wheel from the sdist) under the same
SOURCE_DATE_EPOCH. The build runs without isolation when the pinned hatchling is installed
(offline-friendly, fast), else in build's isolated environment (needs the package index).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from source_tree import source_files

# No __init__.py in this directory, on purpose: tests/conftest.py puts tests/ on sys.path,
# and a regular package named "packaging" there would shadow the real `packaging` library.

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01T00:00:00Z, the earliest a zip can hold


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "network: needs the package index (PyPI); skipped when it is unreachable, "
        "unless EEREST_REQUIRE_NETWORK=1 (CI), which makes that a failure",
    )


# -- sources ------------------------------------------------------------------------------
def copy_sources(dest: Path, files: list[str], *, scramble: bool = False) -> Path:
    """Copy ``files`` from ROOT into ``dest``. ``scramble``: reverse creation order, fresh
    mtimes, group/other permission bits cleared (what must not change the build)."""
    for name in reversed(files) if scramble else files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if scramble:
            shutil.copyfile(ROOT / name, target)
            target.chmod(0o700 if os.access(ROOT / name, os.X_OK) else 0o600)
        else:
            shutil.copy2(ROOT / name, target)
    return dest


# -- building -----------------------------------------------------------------------------
def pinned_backend(project: Path = ROOT) -> str:
    """The [build-system] requirement on hatchling, e.g. ``hatchling==1.33.0``."""
    text = (project / "pyproject.toml").read_text()
    match = re.search(r'^requires\s*=\s*\[\s*"(hatchling==[^"]+)"', text, re.M)
    assert match, "[build-system] requires must pin hatchling"
    return match.group(1)


def can_build_without_isolation() -> bool:
    try:
        return f"hatchling=={importlib.metadata.version('hatchling')}" == pinned_backend()
    except importlib.metadata.PackageNotFoundError:
        return False


def index_reachable() -> bool:
    """Whether pip's package index answers (PIP_INDEX_URL, else PyPI)."""
    if os.environ.get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes"):
        return False
    url = urllib.parse.urlsplit(os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple/")
    if url.scheme == "file":
        return Path(urllib.parse.unquote(url.path)).exists()
    try:
        with socket.create_connection(
            (url.hostname or "pypi.org", url.port or (443 if url.scheme == "https" else 80)), timeout=5
        ):
            return True
    except OSError:
        return False


def require_index(what: str) -> None:
    if not index_reachable():
        if os.environ.get("EEREST_REQUIRE_NETWORK") == "1":
            pytest.fail(f"{what} needs the package index, which is unreachable (EEREST_REQUIRE_NETWORK=1)")
        pytest.skip(f"{what} needs the package index, which is unreachable")


@dataclasses.dataclass
class Build:
    source: Path
    sdist: Path
    wheel: Path
    epoch: int = int(SOURCE_DATE_EPOCH)


def _start_build(source: Path, outdir: Path, isolated: bool, *targets: str) -> subprocess.Popen[bytes]:
    """``python -m build``: by default the sdist, then the wheel from the unpacked sdist."""
    cmd = [sys.executable, "-m", "build", *targets, "--outdir", str(outdir), str(source)]
    if not isolated:
        cmd.insert(3, "--no-isolation")
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    return subprocess.Popen(cmd, cwd=source, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait(proc: subprocess.Popen[bytes], source: Path) -> None:
    output = proc.communicate()[0].decode(errors="replace")
    assert proc.returncode == 0, f"python -m build failed in {source}:\n{output}"


#: The distributions this repository builds: eerest (the root) and eerest-emulator (emulator/;
#: not in eerest's sdist, which holds the SDK only).
PROJECTS = {
    dist: sub for dist, sub in {"eerest": ".", "eerest-emulator": "emulator"}.items() if (ROOT / sub / "pyproject.toml").is_file()
}


@pytest.fixture(scope="session")
def all_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Build, Build, Path]]:
    """For each distribution: two builds (sdist, then wheel from sdist) of the same sources from
    two differently written copies of the checkout, and a wheel built straight from the second
    copy; all in parallel."""
    pytest.importorskip("build", reason="the packaging tests need `build` (requirements/test.txt)")
    isolated = not can_build_without_isolation()
    if isolated:
        require_index(f"building in an isolated environment (no {pinned_backend()} installed)")
    files = source_files()
    base = tmp_path_factory.mktemp("packaging")
    a, b = copy_sources(base / "a" / "eerest", files), copy_sources(base / "b" / "eerest", files, scramble=True)
    procs = []
    for dist, sub in PROJECTS.items():
        out = base / dist
        procs += [
            (_start_build(a / sub, out / "a", isolated), a / sub),
            (_start_build(b / sub, out / "b", isolated), b / sub),
            (_start_build(b / sub, out / "direct", isolated, "--wheel"), b / sub),
        ]
    for proc, source in procs:
        _wait(proc, source)
    result = {}
    for dist, sub in PROJECTS.items():
        out = base / dist
        (a_sdist,), (a_wheel,) = (out / "a").glob("*.tar.gz"), (out / "a").glob("*.whl")
        (b_sdist,), (b_wheel,) = (out / "b").glob("*.tar.gz"), (out / "b").glob("*.whl")
        (direct_wheel,) = (out / "direct").glob("*.whl")
        result[dist] = (Build(a / sub, a_sdist, a_wheel), Build(b / sub, b_sdist, b_wheel), direct_wheel)
    return result


@pytest.fixture(scope="session")
def builds(all_builds: dict[str, tuple[Build, Build, Path]]) -> tuple[Build, Build, Path]:
    return all_builds["eerest"]


@pytest.fixture(scope="session")
def build(builds: tuple[Build, Build, Path]) -> Build:
    return builds[0]


@pytest.fixture(scope="session")
def emulator_builds(all_builds: dict[str, tuple[Build, Build, Path]]) -> tuple[Build, Build, Path]:
    if "eerest-emulator" not in all_builds:
        pytest.skip("these sources do not hold emulator/ (an unpacked eerest sdist)")
    return all_builds["eerest-emulator"]


@pytest.fixture(scope="session")
def emulator_build(emulator_builds: tuple[Build, Build, Path]) -> Build:
    return emulator_builds[0]


def unpack(sdist: Path, dest: Path) -> Path:
    """Extract ``sdist`` into the empty directory ``dest``; its top directory."""
    with tarfile.open(sdist) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python without extraction filters
            tar.extractall(dest)
    (top,) = dest.iterdir()
    return top


@pytest.fixture(scope="session")
def unpacked_sdist(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(build.sdist, tmp_path_factory.mktemp("sdist"))


@pytest.fixture(scope="session")
def emulator_unpacked_sdist(emulator_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(emulator_build.sdist, tmp_path_factory.mktemp("emulator-sdist"))


@pytest.fixture(scope="session")
def fresh_venv(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new virtual environment with only the eerest wheel and its runtime dependencies
    installed; yields its python."""
    require_index("installing the wheel's dependencies into a fresh venv")
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _pip_install(python, build.wheel)
    yield python


@pytest.fixture(scope="session")
def pip_install() -> Callable[..., None]:
    """``pip_install(python, *requirements)``: install wheels (or ``wheel[extra]``, or pip
    options) into a fresh venv, dependencies from the index."""
    return _pip_install


def _pip_install(python: Path, *requirements: str | Path) -> None:
    """``pip install REQUIREMENT...`` into the venv of ``python``, dependencies from the index."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", *map(str, requirements)],
        capture_output=True,
        text=True,
        env=env,
    )
    names = " ".join(Path(r).name if isinstance(r, Path) else r for r in requirements)
    assert proc.returncode == 0, f"pip install {names} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def index() -> Callable[[str], None]:
    """``index(what)``: skip (or with EEREST_REQUIRE_NETWORK=1 fail) when the package index is unreachable."""
    return require_index


@pytest.fixture(scope="session")
def codegen_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The eerest-codegen wheel, built from codegen/ (the distribution's directory) of this checkout."""
    out = tmp_path_factory.mktemp("codegen-dist")
    proc = _start_build(ROOT / "codegen", out, not can_build_without_isolation(), "--wheel")
    _wait(proc, ROOT / "codegen")
    (wheel,) = out.glob("*.whl")
    return wheel
