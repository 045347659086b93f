"""The eerest-emulator sdist and wheel (built from emulator/): contents, metadata, entry points,
reproducibility and twine check. Its fresh-venv smoke test runs with eerest's, in
test_packaging.py (the SDK's wheel alone first, then with this one added)."""

from __future__ import annotations

import email.message
import email.parser
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Build  # tests/packaging/conftest.py (no __init__.py here: see there)

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "emulator"
NAME, PACKAGE = "eerest-emulator", "eerest_emulator"
VERSION = re.search(r'__version__ = "([^"]+)"', (PROJECT / "src" / PACKAGE / "_version.py").read_text()).group(1)  # type: ignore[union-attr]
DIST_INFO = f"{PACKAGE}-{VERSION}.dist-info"
SDIST_TOP = f"{PACKAGE}-{VERSION}"

pytestmark = [
    pytest.mark.slow,  # builds sdists and wheels
    pytest.mark.skipif(not PROJECT.is_dir(), reason="these sources do not hold emulator/"),
]


def _metadata(text: str) -> email.message.Message:
    return email.parser.Parser().parsestr(text)


def _wheel_read(build: Build, name: str) -> str:
    with zipfile.ZipFile(build.wheel) as whl:
        return whl.read(f"{DIST_INFO}/{name}").decode()


def test_same_pinned_backend_as_the_sdk():
    pin = re.compile(r'^requires\s*=\s*\["(hatchling==[^"]+)"\]', re.M)
    assert pin.search((PROJECT / "pyproject.toml").read_text()).group(1) == pin.search((ROOT / "pyproject.toml").read_text()).group(1)  # type: ignore[union-attr]


def test_license_is_the_repositorys():
    assert (PROJECT / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()


def test_wheel_holds_exactly_the_emulator_package(emulator_build: Build) -> None:
    source = emulator_build.source / "src" / PACKAGE
    expected = {
        f"{PACKAGE}/{p.relative_to(source).as_posix()}": p
        for p in sorted(source.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    with zipfile.ZipFile(emulator_build.wheel) as whl:
        names = whl.namelist()
        assert len(names) == len(set(names))
        package = {n for n in names if not n.startswith(f"{DIST_INFO}/")}
        assert package == set(expected), sorted(package ^ set(expected))
        for name, path in expected.items():
            assert whl.read(name) == path.read_bytes(), name
        meta = {n.removeprefix(f"{DIST_INFO}/") for n in names if n.startswith(f"{DIST_INFO}/")}
    assert meta == {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE"}
    # the server, the pytest plugin, the sample data and the discovery documents it checks against
    assert {f"{PACKAGE}/__init__.py", f"{PACKAGE}/__main__.py", f"{PACKAGE}/testing.py", f"{PACKAGE}/py.typed"} <= package
    assert sum(n.startswith(f"{PACKAGE}/data/") and n.endswith(".npy") for n in package) == 30  # 5 scenes, elevation, 24 monthly
    assert {f"{PACKAGE}/discovery/earthengine.{v}.json" for v in ("v1alpha", "v1beta", "v1")} <= package
    assert not [n for n in package if n.startswith("eerest/")], "the emulator wheel must not ship the SDK"


def test_wheel_tags_entry_points_and_metadata(emulator_build: Build) -> None:
    assert emulator_build.wheel.name == f"{PACKAGE}-{VERSION}-py3-none-any.whl"
    wheel = _metadata(_wheel_read(emulator_build, "WHEEL"))
    assert wheel["Root-Is-Purelib"] == "true" and wheel.get_all("Tag") == ["py3-none-any"]
    entry_points = _wheel_read(emulator_build, "entry_points.txt")
    assert "[pytest11]\neerest-emulator = eerest_emulator.testing" in entry_points
    assert "[console_scripts]\neerest-emulator = eerest_emulator.__main__:main" in entry_points
    meta = _metadata(_wheel_read(emulator_build, "METADATA"))
    assert meta["Name"] == NAME and meta["Version"] == VERSION and meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] == "Apache-2.0" and meta.get_all("License-File") == ["LICENSE"]
    assert meta["Description-Content-Type"] == "text/markdown" and "python -m eerest_emulator" in meta.get_payload()
    requires = {re.match(r"[A-Za-z0-9._-]+", r).group(0).lower() for r in meta.get_all("Requires-Dist")}  # type: ignore[union-attr]
    assert requires == {"numpy", "tifffile", "pillow", "pyproj"}  # independent of the SDK it tests
    assert "Framework :: Pytest" in meta.get_all("Classifier")


def test_sdist_holds_the_sources(emulator_build: Build) -> None:
    with tarfile.open(emulator_build.sdist) as tar:
        members = tar.getmembers()
    files = {m.name.removeprefix(f"{SDIST_TOP}/") for m in members if m.isfile()}
    expected = {
        p.relative_to(emulator_build.source).as_posix()
        for d in ("src", "tools", "tests")
        for p in (emulator_build.source / d).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    } | {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO", ".gitignore"}  # the ignore rules travel along
    assert files == expected, sorted(files ^ expected)
    assert {"tests/conftest.py", "tests/emulator_helpers.py", "tests/test_http.py"} <= files  # its own tests travel along
    for m in members:
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), m.name
        assert m.mtime == emulator_build.epoch, m.name


def test_its_tests_run_from_the_unpacked_sdist(emulator_unpacked_sdist: Path, tmp_path: Path) -> None:
    """`python -m pytest tests` in the unpacked sdist, against the sdist's own sources: its
    conftest, helpers and pytest configuration are all there, and the SDK is not needed.
    Every test is collected; the ones that reach the sdist's files (sample data, README, CLI)
    run, the rest already ran from this checkout in the same suite."""
    top = emulator_unpacked_sdist
    (tmp_path / "eerest.py").write_text('raise ImportError("the emulator\'s tests must not need the SDK")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(top / "src"), str(tmp_path)])}

    def pytest_in_sdist(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::pytest.PytestConfigWarning", *args],
            cwd=top, env=env, capture_output=True, text=True,
        )
        assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
        return proc.stdout.splitlines()[-1]

    collected = pytest_in_sdist("tests", "--collect-only")
    assert re.search(r"^\d{3,}(/\d+)? tests collected", collected) and "error" not in collected, collected
    ran = pytest_in_sdist("tests/test_cli_and_sample.py", "tests/test_readme_examples.py", "tests/test_pixels.py")
    assert re.search(r"^\d+ passed", ran) and " failed" not in ran and "skipped" not in ran, ran


def test_builds_are_reproducible(emulator_builds: tuple[Build, Build, Path]) -> None:
    a, b, direct_wheel = emulator_builds
    assert a.wheel.read_bytes() == b.wheel.read_bytes()
    assert a.sdist.read_bytes() == b.sdist.read_bytes()
    assert a.wheel.read_bytes() == direct_wheel.read_bytes()


def test_twine_check_strict(emulator_build: Build) -> None:
    pytest.importorskip("twine", reason="needs twine (requirements/test.txt)")
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(emulator_build.sdist), str(emulator_build.wheel)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
