"""Every ```python block of docs/*.md runs, file by file, against the emulator
(tests/docs/doc_blocks.py says what is substituted, and how a block is marked as not run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.docs.doc_blocks import STARTS_PROCESSES, python_blocks, run_blocks

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
#: Blocks not run, in all the docs: keep it small. Each needs a reason in its marker.
MAX_SKIPPED = 3


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _params() -> list[Any]:
    params = []
    for page in PAGES:
        blocks = python_blocks(page.read_text(encoding="utf-8"))
        if not any(block.skip is None for block in blocks):
            continue
        params.append(pytest.param(page, False, id=f"{_name(page)}-in-process"))
        if any(STARTS_PROCESSES.search(block.source) for block in blocks if block.skip is None):
            params.append(pytest.param(page, True, id=f"{_name(page)}-every-block", marks=pytest.mark.slow))
    return params


@pytest.mark.parametrize(("page", "with_processes"), _params())
def test_docs_python_blocks_run_against_the_emulator(
    page: Path, with_processes: bool, docs_namespace: dict[str, Any]
) -> None:
    run_blocks(page, _name(page), docs_namespace, with_processes=with_processes)


def test_docs_pages_have_examples_and_few_skips() -> None:
    assert PAGES, "docs/ has no pages"
    skipped = [
        (_name(page), block.line, block.skip)
        for page in PAGES
        for block in python_blocks(page.read_text(encoding="utf-8"))
        if block.skip is not None
    ]
    assert all(reason for _, _, reason in skipped), f"a skip marker needs a reason: {skipped}"
    assert len(skipped) <= MAX_SKIPPED, f"too many python blocks are not run: {skipped}"


def test_skip_marker_is_read() -> None:
    text = "<!-- skip: needs Google -->\n\n```python\nx = 1\n```\n```python\ny = 2\n```\n"
    first, second = python_blocks(text)
    assert (first.skip, first.line, first.source) == ("needs Google", 4, "x = 1\n")
    assert second.skip is None
