"""Developer and CI tasks. Every session installs what it needs into its own venv.

    nox -s demo           # the main job: emulator + a user's script, results in out/
    nox -s tests          # the whole test suite (drift check included), then the default tier on
                          # the oldest and newest supported Python (tests_pythons) and the docs build; what CI runs
    nox -s tests_pythons  # the default tier on Python 3.10 and 3.13 (an interpreter the machine lacks is skipped)
    nox -s docs           # the documentation site (mkdocs build --strict) into build/site/; -- serve to preview
    nox -s generate       # regenerate the API packages (src/eerest/v1alpha, v1beta, v1) from schema/ + codegen/
    nox -s check          # fail if the generated API packages are stale or hand-edited
    nox -s lint typecheck build
    nox -s update_schema -- SOURCE [--version V] [--fail-on-breaking]
    nox -s build_schema   # rebuild schema/*.json from schema/sources/ (-- --check: fail if stale)
    nox -s benchmarks
    nox -s corpus         # the generator over every discovery document google-api-python-client ships
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import nox

# uv when it is installed (README's commands and .ci/run install it: environments in seconds, not
# minutes), else the standard library's venv and pip.
nox.options.default_venv_backend = "uv|venv"
# uv must not download a Python this machine lacks: such a Python is skipped (below).
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
# A supported Python this machine lacks is skipped with nox's "Missing interpreters" message,
# on CI too (nox's default there is to fail).
nox.options.error_on_missing_interpreters = False

#: The oldest and newest Python eerest supports (pyproject.toml's classifiers): `tests_pythons`
#: runs the default tier on each.
SUPPORTED_PYTHONS = ["3.10", "3.13"]


def _runs(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", ""], capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _expose_pyenv_pythons() -> None:
    """Make pyenv's installed Pythons findable when its shims cannot run them (a version
    installed but not selected with `pyenv global`): a folder of links to them goes first
    on PATH, nothing else of theirs does."""
    links = Path(".nox", "pythons").resolve()
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
    for version in SUPPORTED_PYTHONS:
        name = f"python{version}"
        found = shutil.which(name)
        if found and (Path(found).parent == links or _runs(found)):
            continue
        installs = sorted(root.glob(f"{version}.*/bin/{name}"), key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()])
        if installs and _runs(str(installs[-1])):
            links.mkdir(parents=True, exist_ok=True)
            (links / name).unlink(missing_ok=True)
            (links / name).symlink_to(installs[-1])
    if links.is_dir() and str(links) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = str(links) + os.pathsep + os.environ.get("PATH", "")


_expose_pyenv_pythons()

CODEGEN = ("-r", "requirements/codegen.txt")
#: The SDK and the emulator (its own distribution, emulator/), both editable from this checkout.
SDK_AND_EMULATOR = ("-e", ".[all]", "-e", "./emulator")
TESTS = ("-r", "requirements/test.txt")
DOCS = ("-r", "requirements/docs.txt")

#: What every install in this file is made from: when none of these changed, a reused
#: environment already holds what the session asks for (the two projects are editable installs,
#: so edits to their sources need no reinstall).
INSTALL_INPUTS = (
    "pyproject.toml",
    "emulator/pyproject.toml",
    "src/eerest/_version.py",
    "emulator/src/eerest_emulator/_version.py",
    *sorted(str(path) for path in Path("requirements").glob("*.txt")),
)


def install(session: nox.Session, *args: str) -> None:
    """``session.install(*args)``, skipped when the session reuses an environment this same
    install (the same arguments, and the same INSTALL_INPUTS) already went into.

    pip would resolve everything again and rebuild both editable projects: about 5 s of a 1 s demo.
    A changed pyproject.toml or requirements file, or a new environment (``nox -N`` / a first
    run), installs again.
    """
    location = getattr(session.virtualenv, "location", None)
    digest = hashlib.sha256("\0".join(args).encode())
    for name in INSTALL_INPUTS:
        path = Path(name)
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    stamp = Path(location, ".eerest-install") if location else None
    if stamp is not None and stamp.exists() and stamp.read_text() == digest.hexdigest():
        session.log("requirements unchanged since this environment was installed: skipping pip (nox -N to rebuild)")
        return
    session.install(*args)
    if stamp is not None:
        stamp.write_text(digest.hexdigest())


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate the API packages (src/eerest/v1alpha, v1beta, v1) from schema/ + codegen/."""
    install(session, *CODEGEN)
    session.run("python", "-m", "codegen", "generate")


@nox.session
def check(session: nox.Session) -> None:
    """Fail when the generated API packages differ from what the generator would write."""
    install(session, *CODEGEN)
    session.run("python", "-m", "codegen", "check")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite: the drift check, then pytest with every tier (``-m ""`` undoes the
    default ``-m "not slow"`` of the inner loop: codegen, packaging and typing tests run too)."""
    if not session.posargs:  # the whole suite: then every supported Python, and the docs (even if it fails)
        for version in SUPPORTED_PYTHONS:  # notify("tests_pythons") would queue only the first
            session.notify(f"tests_pythons-{version}")
        session.notify("docs")
    install(session, *SDK_AND_EMULATOR, *CODEGEN, *TESTS)
    session.run("python", "-m", "codegen", "check")
    session.run("python", "-m", "pytest", "-q", "-m", "", "--durations=25", *session.posargs)


@nox.session(python=SUPPORTED_PYTHONS)
def tests_pythons(session: nox.Session) -> None:
    """The default tier (``-m "not slow"``) on the oldest and newest supported Python;
    `nox -s tests` runs these after the whole suite. A Python this machine lacks is skipped."""
    install(session, *SDK_AND_EMULATOR, *CODEGEN, *TESTS)
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (mkdocs-material, API reference by mkdocstrings) into build/site/,
    with ``--strict``: any warning fails. ``nox -s docs -- serve`` previews it."""
    install(session, *DOCS)
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:])
    else:
        session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: start the emulator on the bundled sample and run the demo against it."""
    install(session, *SDK_AND_EMULATOR)
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    install(session, "ruff==0.17.6")
    session.run("ruff", "check", "src", "codegen", "tests", "benchmarks", "examples", "emulator", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy (strict, warn_unused_ignores) on src/eerest (generated packages included), the emulator, codegen/ and the test helpers."""
    install(session, *SDK_AND_EMULATOR, *CODEGEN, *TESTS, "types-PyYAML")
    session.run("mypy")


@nox.session
def corpus(session: nox.Session) -> None:
    """Generate a package for every discovery document google-api-python-client ships, in two
    processes with different PYTHONHASHSEEDs whose outputs must be byte-identical; import it
    and call every method, sync and async, with hostile values, comparing the wire with
    google-api-python-client and decoding responses built from the schemas. Not in the
    default run (tens of minutes).

        nox -s corpus                              # every document (--all)
        nox -s corpus -- --only storage.v1 drive.v3 --keep out/corpus
    """
    install(session, "-e", ".", *CODEGEN, *TESTS)
    session.run("python", "-m", "codegen.corpus", *(session.posargs or ["--all"]))


@nox.session
def build(session: nox.Session) -> None:
    """sdist + wheel of eerest, eerest-emulator and eerest-codegen into a fresh dist/, then `twine check --strict`.

    The sdist is built from the working tree (what .gitignore ignores is left out), the wheel
    from the sdist. Reproducible: SOURCE_DATE_EPOCH (default: the last commit's time) fixes
    every timestamp, so building the same sources twice gives byte-identical files
    (tests/packaging proves it). Build from a clean checkout or an unpacked sdist for a release.
    """
    import os
    import shutil
    import subprocess
    from pathlib import Path

    install(session, "build>=1.2", "twine>=5")
    env = {}
    if "SOURCE_DATE_EPOCH" not in os.environ and shutil.which("git") and Path(".git").exists():
        last_commit = subprocess.run(["git", "log", "-1", "--format=%ct"], capture_output=True, text=True, check=False)
        if last_commit.returncode == 0 and last_commit.stdout.strip():
            env["SOURCE_DATE_EPOCH"] = last_commit.stdout.strip()
    dist = Path("dist")
    shutil.rmtree(dist, ignore_errors=True)
    for project in (".", "emulator", "codegen"):  # eerest, eerest-emulator, eerest-codegen
        session.run("python", "-m", "build", "--outdir", str(dist), project, env=env)
    session.run("python", "-m", "twine", "check", "--strict", *sorted(str(p) for p in dist.iterdir()))


@nox.session
def build_schema(session: nox.Session) -> None:
    """Rebuild schema/earthengine.*.json from the sources vendored in schema/sources/ (schema/README.md),
    and the emulator's copies. ``-- --check`` only fails if a file is stale."""
    install(session, *CODEGEN)
    session.run("python", "-m", "codegen.build_schema", *session.posargs)
    if "--check" not in session.posargs:
        import shutil
        from pathlib import Path

        for path in sorted(Path("schema").glob("earthengine.*.json")):
            shutil.copyfile(path, Path("emulator/src/eerest_emulator/discovery") / path.name)


@nox.session
def update_schema(session: nox.Session) -> None:
    """Take a new discovery document: normalise it into schema/, regenerate, report changes."""
    install(session, "-e", ".", *CODEGEN)
    session.run("python", "-m", "codegen.update_schema", *session.posargs)


#: benchmarks/ scripts `nox -s benchmarks` runs, in this order (docs/performance.md).
BENCHMARKS = (
    "bench_import.py", "bench_small.py", "bench_listing.py", "bench_npy.py", "bench_geotiff.py", "bench_tiles.py",
    "bench_area.py", "bench_submit.py",
)


@nox.session
def benchmarks(session: nox.Session) -> None:
    """eerest vs raw httpx vs earthengine-api, side by side in fresh processes: import time,
    small calls, a 10,000-image listing, NPY and GeoTIFF tiles, many concurrent tiles.
    `nox -s benchmarks -- --quick` for a smoke run; other arguments go to every script."""
    install(session, *SDK_AND_EMULATOR)
    for script in BENCHMARKS:
        session.run("python", f"benchmarks/{script}", *session.posargs)
