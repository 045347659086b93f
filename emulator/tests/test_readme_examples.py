"""The ```python blocks of the emulator's README run against it (each on its own emulator)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("ee")

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("source", blocks())
def test_readme_block_runs(source, capsys):
    exec(compile(source, str(README), "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out.strip()
    assert out and out != "[]"
