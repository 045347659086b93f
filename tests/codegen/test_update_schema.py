"""``nox -s update_schema`` (codegen.update_schema) on a temporary copy of the repository."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen import update_schema
from codegen.normalize import dumps, load, normalize
from codegen.update_schema import CHANGELOG_TITLE, main, prepend_changelog

ROOT = Path(__file__).resolve().parents[2]
NEW_REVISION = "20261201"


def schema_revision(version: str = "v1") -> str:
    """The revision of the repository's document for ``version`` (no test hard-codes one)."""
    revision: str = load(ROOT / "schema" / f"earthengine.{version}.json")["revision"]
    assert revision < NEW_REVISION  # the updates below must be newer
    return revision


def _pipeline_available() -> bool:
    try:
        return importlib.util.find_spec("codegen.pipeline") is not None
    except ImportError:
        return False


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A scratch copy of the parts of the repository the update touches."""
    root = tmp_path / "repo"
    for name in ("schema", "codegen", "src"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture
def v1(repo: Path) -> dict[str, Any]:
    """A deep copy of the repo's v1 document, to mutate into the new one."""
    return copy.deepcopy(load(repo / "schema" / "earthengine.v1.json"))


@pytest.fixture
def source(tmp_path: Path) -> Callable[[dict[str, Any]], str]:
    """Write a document as Google would serve it to us *un*-normalised (unsorted, compact)."""

    def write(doc: dict[str, Any]) -> str:
        path = tmp_path / "incoming.json"
        unsorted = dict(reversed(list(doc.items())))
        path.write_text(json.dumps(unsorted, ensure_ascii=True), encoding="utf-8")
        return str(path)

    return write


def run(repo: Path, *args: str) -> int:
    return main([*args, "--root", str(repo), "--no-generate"])


def add_field(doc: dict[str, Any]) -> dict[str, Any]:
    doc["revision"] = NEW_REVISION
    doc["schemas"]["ComputePixelsRequest"]["properties"]["sampleCount"] = {
        "type": "integer",
        "format": "int32",
        "description": "Number of samples.",
    }
    return doc


def remove_method(doc: dict[str, Any]) -> dict[str, Any]:
    doc["revision"] = NEW_REVISION
    del doc["resources"]["projects"]["resources"]["image"]["methods"]["computePixels"]
    return doc


def test_writes_normalised_schema_and_prints_report(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(repo, source(add_field(v1))) == 0
    written = (repo / "schema" / "earthengine.v1.json").read_text(encoding="utf-8")
    assert written == dumps(normalize(v1))
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"earthengine v1: revision {schema_revision()} → {NEW_REVISION}"
    assert "  added field ComputePixelsRequest.sampleCount (integer:int32)\n" in out
    assert out.splitlines()[-1] == "summary: 1 change (1 added, 0 removed, 0 changed), 0 breaking"


def test_schema_diff_is_small(
    repo: Path, v1: dict[str, Any], source: Callable[[dict[str, Any]], str]
) -> None:
    before = (repo / "schema" / "earthengine.v1.json").read_text(encoding="utf-8").splitlines()
    assert run(repo, source(add_field(v1))) == 0
    after = (repo / "schema" / "earthengine.v1.json").read_text(encoding="utf-8").splitlines()
    assert len(after) - len(before) == 5  # the 5-line field; the revision line is replaced
    assert len(set(after) - set(before)) <= 6


def test_changelog_created_then_prepended_newest_first(
    repo: Path, v1: dict[str, Any], source: Callable[[dict[str, Any]], str]
) -> None:
    changelog = repo / "CHANGELOG.md"
    assert run(repo, source(add_field(v1))) == 0
    text = changelog.read_text(encoding="utf-8")
    assert text.startswith(f"{CHANGELOG_TITLE}\n\n## earthengine v1 — revision {NEW_REVISION}\n")
    assert "- added field `ComputePixelsRequest.sampleCount` (integer:int32)\n" in text

    remove_method(v1)
    v1["revision"] = "20270101"
    assert run(repo, source(v1)) == 0
    text = changelog.read_text(encoding="utf-8")
    assert text.count(CHANGELOG_TITLE) == 1
    newest = text.index("## earthengine v1 — revision 20270101")
    older = text.index(f"## earthengine v1 — revision {NEW_REVISION}")
    assert newest < older
    assert "- **BREAKING** removed method `projects.image.computePixels`" in text[newest:older]


def test_changelog_keeps_existing_title_and_intro(
    repo: Path, v1: dict[str, Any], source: Callable[[dict[str, Any]], str]
) -> None:
    shutil.copy(ROOT / "CHANGELOG.md", repo / "CHANGELOG.md")
    intro = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert run(repo, source(add_field(v1))) == 0
    text = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith(
        intro.rstrip("\n") + f"\n\n## earthengine v1 — revision {NEW_REVISION}\n"
    )


def test_prepend_changelog() -> None:
    entry = "## api v1 — revision 2\n\n- added x\n"
    assert prepend_changelog("", entry) == f"{CHANGELOG_TITLE}\n\n{entry}"
    old = f"{CHANGELOG_TITLE}\n\nIntro.\n\n## api v1 — revision 1\n\n- added y\n"
    assert prepend_changelog(old, entry) == (
        f"{CHANGELOG_TITLE}\n\nIntro.\n\n{entry}\n## api v1 — revision 1\n\n- added y\n"
    )
    assert prepend_changelog("## api v1 — revision 1\n", entry) == (
        f"{CHANGELOG_TITLE}\n\n{entry}\n## api v1 — revision 1\n"
    )


def test_unchanged_document_leaves_changelog_alone(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(repo, source(v1)) == 0
    assert not (repo / "CHANGELOG.md").exists()
    assert "no API changes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mutate", "flags", "code"),
    [
        (add_field, [], 0),
        (add_field, ["--fail-on-breaking"], 0),
        (remove_method, [], 0),
        (remove_method, ["--fail-on-breaking"], 1),
    ],
)
def test_exit_codes_and_fail_on_breaking(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    mutate: Callable[[dict[str, Any]], dict[str, Any]],
    flags: list[str],
    code: int,
) -> None:
    assert run(repo, source(mutate(v1)), *flags) == code
    # Even a failing run writes everything, so a bot can open the pull request.
    assert load(repo / "schema" / "earthengine.v1.json")["revision"] == NEW_REVISION


def test_enum_and_type_changes_reported_breaking(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fmt = v1["schemas"]["ComputePixelsRequest"]["properties"]["fileFormat"]
    fmt["enum"].remove("NPY")
    fmt["enum"].append("WEBP")
    v1["schemas"]["ComputePixelsRequest"]["properties"]["workloadTag"]["type"] = "integer"
    assert run(repo, source(v1), "--fail-on-breaking") == 1
    out = capsys.readouterr().out
    assert "  BREAKING removed enum value ComputePixelsRequest.fileFormat=NPY\n" in out
    assert "  added enum value ComputePixelsRequest.fileFormat=WEBP\n" in out
    assert (
        "  BREAKING changed field ComputePixelsRequest.workloadTag: type: string → integer\n" in out
    )
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "- **BREAKING** removed enum value `ComputePixelsRequest.fileFormat=NPY`\n" in changelog


def test_new_version_is_reported_as_new(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    v1["version"] = "v2"
    assert run(repo, source(v1), "--version", "v2", "--fail-on-breaking") == 0
    assert (repo / "schema" / "earthengine.v2.json").exists()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"earthengine v2: new API version, revision {schema_revision()}"
    assert "  added method projects.image.computePixels (POST " in out
    assert " removed " not in out and "BREAKING" not in out
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## earthengine v2 — revision {schema_revision()}\n\nNew API version:" in changelog


def test_version_mismatch_is_an_error(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = repo / "schema"
    before = {path: path.read_bytes() for path in schema.rglob("*") if path.is_file()}
    assert run(repo, source(add_field(v1)), "--version", "v1beta") == 2
    err = capsys.readouterr().err
    assert "--version v1beta disagrees with the document's version 'v1'" in err
    assert {path: path.read_bytes() for path in schema.rglob("*") if path.is_file()} == before
    assert not (repo / "CHANGELOG.md").exists()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(name="storage"), "describes API 'storage', not 'earthengine'"),
        (lambda d: d.pop("version"), "no 'version' field; pass --version"),
        (lambda d: d.update(version="../v1"), "unusable version '../v1'"),
    ],
)
def test_bad_documents_are_errors(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    capsys: pytest.CaptureFixture[str],
    mutate: Callable[[dict[str, Any]], Any],
    message: str,
) -> None:
    mutate(v1)
    assert run(repo, source(v1)) == 2
    assert message in capsys.readouterr().err


def test_missing_source_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(repo, str(repo / "nope.json")) == 2
    assert "error:" in capsys.readouterr().err


def test_regenerates_through_the_pipeline(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Path] = []

    def generate(root: Path) -> list[Path]:
        calls.append(root)
        assert load(root / "schema" / "earthengine.v1.json")["revision"] == NEW_REVISION
        return [root / "src" / "eerest" / "v1" / "x.py"]

    monkeypatch.setattr(update_schema, "_load_generate", lambda: generate)
    assert main([source(add_field(v1)), "--root", str(repo)]) == 0
    assert calls == [repo.resolve()]


def test_failed_regeneration_rolls_back(
    repo: Path,
    v1: dict[str, Any],
    source: Callable[[dict[str, Any]], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = (repo / "schema" / "earthengine.v1.json").read_bytes()

    def generate(root: Path) -> list[Path]:
        raise RuntimeError("template exploded")

    monkeypatch.setattr(update_schema, "_load_generate", lambda: generate)
    assert main([source(add_field(v1)), "--root", str(repo)]) == 3
    assert (repo / "schema" / "earthengine.v1.json").read_bytes() == before
    assert not (repo / "CHANGELOG.md").exists()
    assert "template exploded" in capsys.readouterr().err


# Imports the regenerated package from the scratch root's src/ (ahead of the checkout on sys.path).
_PROBE = """
import inspect, sys
import eerest.v1 as v1
from eerest.v1 import _resources, types
assert v1.__file__.startswith(sys.argv[1]), v1.__file__
print(v1.DISCOVERY_REVISION)
print("sample_count" in types.ComputePixelsRequest.model_fields)
print(types.ComputePixelsRequest.model_fields["file_format"].annotation)
print(any(
    "sample_count" in inspect.signature(cls.compute_pixels).parameters
    for cls in vars(_resources).values()
    if isinstance(cls, type) and hasattr(cls, "compute_pixels")
))
from eerest.v1._enums import ImageFileFormat
print(ImageFileFormat.WEBP.value)
"""


@pytest.mark.slow
@pytest.mark.skipif(not _pipeline_available(), reason="codegen.pipeline not available")
def test_end_to_end_regenerated_package_exposes_change_and_passes_drift_check(
    repo: Path, v1: dict[str, Any], source: Callable[[dict[str, Any]], str]
) -> None:
    from codegen.pipeline import check_project

    fmt = v1["schemas"]["ComputePixelsRequest"]["properties"]["fileFormat"]
    fmt["enum"].append("WEBP")
    fmt["enumDescriptions"].append("A WebP image.")
    assert check_project(repo) == []
    assert main([source(add_field(v1)), "--root", str(repo)]) == 0
    assert check_project(repo) == []

    env = {
        **os.environ,
        "PYTHONPATH": str(repo / "src"),
    }
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(repo)],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    revision, field, annotation, param, webp = probe.stdout.splitlines()
    assert (revision, field, param, webp) == (NEW_REVISION, "True", "True", "WEBP")
    assert "ImageFileFormat" in annotation
