"""The sdist and wheel: contents, metadata, reproducibility, twine check, regeneration from
the sdist, and a smoke test of the wheel in a fresh virtual environment.

Offline, everything but ``test_fresh_venv_smoke`` (marked ``network``) runs when the pinned
hatchling is installed; without it the builds need the package index too.
"""

from __future__ import annotations

import ast
import difflib
import email.message
import email.parser
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

pytestmark = pytest.mark.slow  # builds sdists and wheels

if TYPE_CHECKING:
    from conftest import Build  # tests/packaging/conftest.py (no __init__.py here: see there)

ROOT = Path(__file__).resolve().parents[2]

NAME = "eerest"
VERSION = re.search(r'__version__ = "([^"]+)"', (ROOT / "src/eerest/_version.py").read_text()).group(1)  # type: ignore[union-attr]
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
SDIST_TOP = f"{NAME}-{VERSION}"

#: Import name -> distribution, for what the SDK imports at run time.
RUNTIME_IMPORTS = {
    "httpx": "httpx", "httpcore": "httpcore", "h11": "h11", "google": "google-auth", "pydantic": "pydantic",
    "pydantic_core": "pydantic-core", "numpy": "numpy"
}
#: Runtime dependencies eerest does not import itself: httpcore's async path imports sniffio
#: on every request, and an absent one costs a failed import each time.
INDIRECT_RUNTIME = {"sniffio"}
#: Optional imports (only inside functions or guarded), and the extra that provides each.
OPTIONAL_IMPORTS = {
    "tifffile": ("geotiff", "tifffile"),
    "PIL": ("image", "pillow"),
    "ee": ("ee", "earthengine-api"),
    "tqdm": ("progress", "tqdm"),
    "click": ("cli", "click"),
    "xarray": ("xarray", "xarray"),
    "pyproj": ("xarray", "pyproj"),
    "pyarrow": ("table", "pyarrow"),
    "shapely": ("table", "shapely"),
    "geopandas": ("table", "geopandas"),
    "pandas": ("table", "geopandas"),
    "zarr": ("zarr", "zarr"),
    "zstandard": ("zstd", "zstandard"),
    "dask": ("xarray", "dask"),
}
#: Imported only where the user already has them, never required by eerest: imagecodecs (an
#: optional tifffile speed-up, probed), distributed (cluster_max_concurrency on a cluster the
#: user runs).
PROBED_IMPORTS = {"imagecodecs", "distributed"}
EXTRAS = {"geotiff", "image", "ee", "emulator", "progress", "cli", "xarray", "geo", "table", "zstd", "zarr", "all"}
#: The command line's modules import click at import time: only `eerest._cli.main` imports
#: them, after checking that click is installed (else it names the extra to install).
CLI_MODULES = {
    f"eerest/_cli/{name}.py": {"click"} for name in ("assets", "commands", "options", "params", "table", "tasks", "value")
}
#: Subpackages that are an extra's feature themselves: importing them needs the extra, so
#: their modules import its packages at import time (``import eerest.xarray`` needs xarray).
FEATURE_PACKAGES = {"eerest/xarray/": {"xarray"}, "eerest/_table/": {"pyarrow", "shapely"}}
#: What the sdist must hold for a packager to regenerate, verify and test.
SDIST_DIRS = ("src", "codegen", "schema", "tests", "requirements")
SDIST_FILES = ("pyproject.toml", "noxfile.py", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    return _canonical(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req).group(0))  # type: ignore[union-attr]


def _metadata(text: str) -> email.message.Message:
    return email.parser.Parser().parsestr(text)


def _wheel_metadata(build: Build) -> email.message.Message:
    with zipfile.ZipFile(build.wheel) as whl:
        return _metadata(whl.read(f"{DIST_INFO}/METADATA").decode())


def _package_files(source: Path) -> dict[str, Path]:
    """What the wheel's eerest/ must hold: src/eerest, generated API packages included."""
    return {
        path.relative_to(source / "src").as_posix(): path
        for path in sorted((source / "src" / NAME).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


# -- the wheel ----------------------------------------------------------------------------
def test_wheel_holds_exactly_the_runtime_package(build: Build) -> None:
    expected = _package_files(build.source)
    with zipfile.ZipFile(build.wheel) as whl:
        names = whl.namelist()
        assert len(names) == len(set(names)), "duplicate entries in the wheel"
        package = {n for n in names if not n.startswith(f"{DIST_INFO}/")}
        assert package == set(expected), (
            f"missing: {sorted(set(expected) - package)}; unexpected: {sorted(package - set(expected))}"
        )
        for name, path in expected.items():
            assert whl.read(name) == path.read_bytes(), name
        meta = {n.removeprefix(f"{DIST_INFO}/") for n in names if n.startswith(f"{DIST_INFO}/")}
        entry_points = whl.read(f"{DIST_INFO}/entry_points.txt").decode()
    assert meta == {"METADATA", "WHEEL", "RECORD", "licenses/LICENSE", "entry_points.txt"}
    # the `eerest` command and the xarray backend; no pytest plugin (that is eerest-emulator's)
    assert entry_points.split() == [
        "[console_scripts]", "eerest", "=", "eerest._cli:main",
        "[xarray.backends]", "eerest", "=", "eerest.xarray:EeRestBackendEntrypoint",
    ]
    # the package: typed, every version; no tooling
    assert {"eerest/py.typed", "eerest/__init__.py", "eerest/_version.py"} <= package
    for v in ("v1alpha", "v1beta", "v1"):
        assert {f"eerest/{v}/__init__.py", f"eerest/{v}/_client.py", f"eerest/{v}/types.py"} <= package
    # the emulator, its sample data and the pytest plugin are eerest-emulator's, not the SDK's
    assert all(n.startswith("eerest/") for n in package), sorted(package)
    assert not [n for n in package if n.startswith("eerest/emulator") or n == "eerest/testing.py"]
    assert not [n for n in package if not n.endswith((".py", ".pyi", "py.typed"))], "data files in the SDK wheel"
    assert not [n for n in names if re.match(r"(codegen|tests|schema|generated|src|tools|requirements)/", n)]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]


def test_wheel_tags(build: Build) -> None:
    assert build.wheel.name == f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(build.wheel) as whl:
        wheel = _metadata(whl.read(f"{DIST_INFO}/WHEEL").decode())
    assert wheel["Root-Is-Purelib"] == "true" and wheel.get_all("Tag") == ["py3-none-any"]


def test_wheel_metadata(build: Build) -> None:
    meta = _wheel_metadata(build)
    assert meta["Name"] == NAME and meta["Version"] == VERSION
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] == "Apache-2.0" and meta.get_all("License-File") == ["LICENSE"]
    assert meta["Summary"] and meta["Description-Content-Type"] == "text/markdown"
    assert "eerest" in meta.get_payload()  # the README is the long description
    classifiers = set(meta.get_all("Classifier"))
    assert {
        "Typing :: Typed",
        "Programming Language :: Python :: 3 :: Only",
        "Topic :: Scientific/Engineering :: GIS",
    } <= classifiers
    assert {f"Programming Language :: Python :: 3.{m}" for m in range(10, 14)} <= classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the license expression says it
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    assert all(u.startswith("https://") for u in urls.values())

    requires = meta.get_all("Requires-Dist")
    runtime = {_requirement_name(r) for r in requires if "extra ==" not in r}
    assert runtime == set(RUNTIME_IMPORTS.values()) | INDIRECT_RUNTIME
    assert set(meta.get_all("Provides-Extra")) == EXTRAS
    by_extra: dict[str, set[str]] = {}
    for r in requires:
        if m := re.search(r"""extra == ['"]([^'"]+)['"]""", r):
            by_extra.setdefault(m.group(1), set()).add(_requirement_name(r))
    assert set(by_extra) == EXTRAS
    for extra, dist in OPTIONAL_IMPORTS.values():
        assert dist in by_extra[extra], (extra, by_extra[extra])
    assert by_extra["emulator"] == {"eerest-emulator"}  # the separate distribution, only on request
    # every SDK feature; the emulator is a test tool, installed only on request
    sdk_extras = set().union(*(by_extra[e] for e in EXTRAS - {"all", "emulator"}))
    assert by_extra["all"] == {"eerest"} or by_extra["all"] == sdk_extras, by_extra["all"]


def _imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(every absolute import's top-level name, those executed unguarded at import time)."""
    everywhere = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
    }
    at_import: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                at_import.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                at_import.add(node.module.split(".")[0])
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
                if not any("ImportError" in c or "ModuleNotFoundError" in c for c in caught):
                    visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, (ast.ClassDef, ast.With)):
                visit(node.body)

    visit(tree.body)
    return everywhere, at_import


def test_runtime_dependencies_are_what_the_sdk_imports(build: Build) -> None:
    """Every third-party import of the wheel's code is a runtime dependency (at import time)
    or an extra's (imported lazily); every runtime dependency is imported."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    used: set[str] = set()
    with zipfile.ZipFile(build.wheel) as whl:
        for name in whl.namelist():
            if not name.endswith(".py"):
                continue
            everywhere, at_import = (m - stdlib - {NAME} for m in _imports(ast.parse(whl.read(name), name)))
            unknown = everywhere - set(RUNTIME_IMPORTS) - set(OPTIONAL_IMPORTS) - PROBED_IMPORTS
            assert not unknown, f"{name} imports {sorted(unknown)}, which no dependency or extra provides"
            feature = next((mods for pkg, mods in FEATURE_PACKAGES.items() if name.startswith(pkg)), set())
            eager = at_import - set(RUNTIME_IMPORTS) - CLI_MODULES.get(name, set()) - feature
            assert not eager, f"{name} imports the optional {sorted(eager)} at import time"
            used |= everywhere & set(RUNTIME_IMPORTS)
    assert {RUNTIME_IMPORTS[m] for m in used} | INDIRECT_RUNTIME == {_requirement_name(r) for r in _runtime_requires(build)}


def _runtime_requires(build: Build) -> list[str]:
    return [r for r in _wheel_metadata(build).get_all("Requires-Dist") if "extra ==" not in r]


# -- the sdist ----------------------------------------------------------------------------
def test_sdist_holds_the_sources_to_regenerate_and_test(build: Build) -> None:
    with tarfile.open(build.sdist) as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert len(names) == len(members), "duplicate entries in the sdist"
    assert all(n.startswith(f"{SDIST_TOP}/") for n in names)
    files = {m.name.removeprefix(f"{SDIST_TOP}/") for m in members if m.isfile()}
    for f in SDIST_FILES:
        assert f in files, f
    # every source file of those directories is there, and nothing else of them
    for d in SDIST_DIRS:
        expected = {
            p.relative_to(build.source).as_posix()
            for p in (build.source / d).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        }
        shipped = {f for f in files if f.startswith(f"{d}/")}
        assert expected and shipped == expected, (d, sorted(expected ^ shipped))
    assert {"schema", "codegen", "tests", "requirements"} <= {f.split("/")[0] for f in files}
    assert not [f for f in files if f.startswith("emulator/")], "the emulator has its own sdist"
    assert "codegen/templates/_client.py.j2" in files and "codegen/config.yaml" in files
    assert "requirements/codegen.txt" in files and "tests/packaging/test_packaging.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc") or re.match(r"\.(nox|venv|git)/|dist/", f)]
    # normalised metadata: no owner, fixed mtime, 644/755
    for m in members:
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), m.name
        assert m.mtime == build.epoch, m.name
        assert m.mode & 0o777 in (0o644, 0o755), (m.name, oct(m.mode))


def test_sdist_metadata_is_the_wheels(build: Build) -> None:
    with tarfile.open(build.sdist) as tar:
        pkg_info = tar.extractfile(f"{SDIST_TOP}/PKG-INFO").read().decode()  # type: ignore[union-attr]
    sdist, wheel = _metadata(pkg_info), _wheel_metadata(build)
    for field in ("Name", "Version", "Requires-Python", "License-Expression", "Summary"):
        assert sdist[field] == wheel[field], field
    for field in ("Requires-Dist", "Provides-Extra", "Classifier", "Project-URL", "License-File"):
        assert sdist.get_all(field) == wheel.get_all(field), field


def test_codegen_check_passes_in_unpacked_sdist(unpacked_sdist: Path) -> None:
    """A packager can regenerate from the sdist alone: the API packages match schema/ + codegen/."""
    pytest.importorskip("jinja2", reason="needs requirements/codegen.txt")
    pytest.importorskip("black", reason="needs requirements/codegen.txt")
    where = subprocess.run(
        [sys.executable, "-c", "import codegen; print(codegen.__file__)"],
        cwd=unpacked_sdist,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(unpacked_sdist), where  # the sdist's codegen, not the checkout's
    proc = subprocess.run(
        [sys.executable, "-m", "codegen", "check"], cwd=unpacked_sdist, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout


# -- both ---------------------------------------------------------------------------------
def test_builds_are_reproducible(builds: tuple[Build, Build, Path]) -> None:
    """Same sources and SOURCE_DATE_EPOCH, copies written in another order with other
    permissions and mtimes, built in other directories: byte-identical sdist and wheel; and
    the wheel built straight from the source tree is the one built from the sdist."""
    a, b, direct_wheel = builds
    assert (a.sdist.name, a.wheel.name) == (b.sdist.name, b.wheel.name) == (b.sdist.name, direct_wheel.name)
    for x, y in ((a.wheel, b.wheel), (a.sdist, b.sdist), (a.wheel, direct_wheel)):
        if x.read_bytes() != y.read_bytes():
            pytest.fail(f"{x.name} differs between two builds:\n{_explain_difference(x, y)}")


def _explain_difference(x: Path, y: Path) -> str:
    def listing(p: Path) -> list[str]:
        if p.suffix == ".whl":
            with zipfile.ZipFile(p) as z:
                return [f"{i.filename} {i.date_time} {i.external_attr >> 16:o} {i.CRC:08x}" for i in z.infolist()]
        with tarfile.open(p) as t:
            return [f"{m.name} {m.mtime} {m.mode:o} {m.uid}:{m.gid} {m.size}" for m in t.getmembers()]

    diff = list(difflib.unified_diff(listing(x), listing(y), lineterm="", n=0))
    return "\n".join(diff[:40]) or "(same members; archive-level bytes differ)"


def test_twine_check_strict(build: Build) -> None:
    pytest.importorskip("twine", reason="needs twine (requirements/test.txt)")
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(build.sdist), str(build.wheel)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


@pytest.mark.network
def test_fresh_venv_smoke(
    fresh_venv: Path, build: Build, emulator_build: Build, pip_install: Callable[..., None], tmp_path: Path
) -> None:
    """The eerest wheel alone, with its runtime dependencies from the index and no extras:
    every module and version imports, clients build, and neither an emulator nor a pytest
    plugin came with it. Then ``eerest[emulator]`` (resolved to the eerest-emulator wheel
    built here): calls against its bundled emulator work."""
    installed = _installed(fresh_venv)
    assert {NAME, *RUNTIME_IMPORTS.values()} <= installed
    assert not installed & {"eerest-emulator", "tifffile", "pillow", "earthengine-api", "pytest", "jinja2", "black"}, installed
    _pip_check(fresh_venv)
    _smoke(fresh_venv, tmp_path, "--sdk-only")

    pip_install(fresh_venv, "--find-links", emulator_build.wheel.parent, f"{build.wheel}[emulator]")
    installed = _installed(fresh_venv)
    assert {"eerest-emulator", "numpy", "tifffile", "pillow"} <= installed
    assert not installed & {"earthengine-api", "pytest"}, installed
    _pip_check(fresh_venv)
    _smoke(fresh_venv, tmp_path)


def _installed(python: Path) -> set[str]:
    freeze = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {_canonical(line.split("==")[0]) for line in freeze.splitlines() if "==" in line}


def _pip_check(python: Path) -> None:
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _smoke(python: Path, cwd: Path, *args: str) -> None:
    smoke = Path(__file__).with_name("smoke.py")
    proc = subprocess.run(
        [str(python), "-I", str(smoke), VERSION, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"from {python.parent.parent}" in proc.stdout, proc.stdout  # the venv's eerest, not the checkout's
    assert proc.stdout.rstrip().endswith("smoke ok"), proc.stdout
