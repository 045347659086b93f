"""README.md: short, its two commands first, and every ```python block runs, in order, in one
namespace, against the emulator (tests/docs/doc_blocks.py says what is substituted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.docs.doc_blocks import SAMPLE, python_blocks, run_blocks, substitute

README = ROOT / "README.md"
MAX_LINES = 220
COMMANDS = (
    "python3 -m venv .venv && .venv/bin/python -m pip install -q nox==2026.10.20 uv==0.13.9 && .venv/bin/python -m nox -s demo",
    "python3 -m venv .venv && .venv/bin/python -m pip install -q nox==2026.10.20 uv==0.13.9 && .venv/bin/python -m nox -s tests",
)


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines; the rest belongs in docs/ or CONTRIBUTING.md"
    content = [line for line in lines if line.strip() and not line.startswith("# ")]
    assert content[0] == "```bash", "the README's first content is the block of its two commands"
    commands = [line.split("#")[0].strip() for line in content[1:3]]
    assert tuple(commands) == COMMANDS
    assert content[3] == "```"


def test_the_readme_commands_are_the_ci_command_and_nox_sessions() -> None:
    ci = ROOT / ".ci" / "run"
    if ci.exists():  # a checkout (an sdist has no .ci/)
        assert "-m nox -s tests" in ci.read_text(encoding="utf-8")
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert "def demo(" in noxfile and "def tests(" in noxfile


def test_substitution_maps_only_names_and_endpoints() -> None:
    source = 'c = eerest.Client(project="my-project")\nx = "projects/my-project/assets/scene/sub"\n'
    assert substitute(source) == (
        'c = eerest.Client(project="my-project", base_url=_DOCS_URL, credentials=_DOCS_CREDENTIALS)\n'
        f'x = "{SAMPLE}/scenes/20240613/sub"\n'
    )
    with pytest.raises(AssertionError, match="cannot map"):
        substitute('name = "projects/earthengine-public/assets/COPERNICUS/S2"')


def test_readme_python_blocks_run_against_the_emulator(
    docs_namespace: dict[str, Any], ee_client: Any, ee_emulator: Any
) -> None:
    assert python_blocks(README.read_text(encoding="utf-8")), "README.md has no python blocks"
    run_blocks(README, "README.md", docs_namespace, with_processes=False)
    ns = docs_namespace
    assert ns["scene"].shape == (224, 224) and ns["scene"].dtype.names == ("red", "nir")
    assert Path("scene.tif").stat().st_size > 0
    assert dict(ns["ds"].sizes) == {"time": 5, "y": 224, "x": 224}
    ns["test_retries_a_busy_server"](ee_client, ee_emulator)  # the test the README shows passes
