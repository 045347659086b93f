"""Running the python blocks of README.md and docs/*.md against the emulator.

Only endpoints and asset names are substituted (``SUBSTITUTIONS``, ``ASSETS``):

- ``eerest.Client(project="my-project")`` / ``eerest.AsyncClient(project="my-project")``
  and ``ee.Initialize(project="my-project")`` also get the emulator's URL and a static token;
- asset names of Earth Engine's public catalogue and of the reader's own project map to the
  emulator's sample assets; a block naming any other such asset fails, saying so;
- with xarray < 2025.7 (the newest on Python 3.10), which looks a string source up as a file
  when chunking, ``xr.open_dataset(NAME, engine="eerest", ...)`` becomes
  ``eerest.xarray.open_dataset(NAME, ...)``, as the docs tell readers on Python 3.10.

Blocks of one file run in order, in one namespace, with top-level ``await`` allowed (as in a
notebook), in a temporary directory. A block preceded by ``<!-- skip: REASON -->`` is not run
(for what the emulator cannot stand in for); a block that starts worker processes (a dask
``LocalCluster``, seconds) runs in the full suite only (``slow``).
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SAMPLE = "projects/eerest/assets/sample"
ASSETS = {
    "projects/earthengine-public/assets/USGS/SRTMGL1_003": f"{SAMPLE}/elevation",
    "projects/earthengine-public/assets/LANDSAT/LC09/C02/T1_L2": f"{SAMPLE}/scenes",
    "projects/my-project/assets/scenes": f"{SAMPLE}/scenes",
    "projects/my-project/assets/scene": f"{SAMPLE}/scenes/20240613",
    "projects/my-project/assets/places": f"{SAMPLE}/places",
    "projects/my-project/assets/scene_again": f"{SAMPLE}/scene_again",  # docs/tasks.md ingests it
}
_ENDPOINT = "base_url=_DOCS_URL, credentials=_DOCS_CREDENTIALS"
SUBSTITUTIONS = {
    'eerest.Client(project="my-project")': f'eerest.Client(project="my-project", {_ENDPOINT})',
    'eerest.AsyncClient(project="my-project")': f'eerest.AsyncClient(project="my-project", {_ENDPOINT})',
    'ee.Initialize(project="my-project")': (
        'ee.Initialize(project="my-project", opt_url=_DOCS_URL, credentials=_DOCS_CREDENTIALS)'
    ),
}
STARTS_PROCESSES = re.compile(r"\bLocalCluster\(")
_UNMAPPED = re.compile(r"projects/(?:earthengine-public|my-project)/assets/[\w/.-]*")
_SKIP = re.compile(r"^<!--\s*skip:\s*(?P<reason>.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    """One ```python block: where it starts (1-based line of its first source line), its
    source, and why it is not run (``None``: it is)."""

    line: int
    source: str
    skip: str | None = None


def python_blocks(text: str) -> list[Block]:
    """Each ```python block, in order, with the reason of a ``<!-- skip: ... -->`` line just
    before it (blank lines between are allowed)."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            skip, j = None, i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            if j >= 0 and (match := _SKIP.match(lines[j].strip())):
                skip = match["reason"]
            start, i = i + 1, i + 1
            while lines[i].strip() != "```":
                i += 1
            blocks.append(Block(start + 1, "\n".join(lines[start:i]) + "\n", skip))
        i += 1
    return blocks


def _xarray_stats_string_sources() -> bool:
    try:
        import xarray
    except ImportError:
        return False
    return tuple(int(part) for part in xarray.__version__.split(".")[:2]) < (2025, 7)


_ENGINE_CALL = re.compile(r'\bxr\.open_dataset\(([^,()]+), engine="eerest", ')


def substitute(source: str) -> str:
    for old, new in SUBSTITUTIONS.items():
        source = source.replace(old, new)
    if _xarray_stats_string_sources():
        source = _ENGINE_CALL.sub(r"__import__('eerest.xarray').xarray.open_dataset(\1, ", source)
    for old in sorted(ASSETS, key=len, reverse=True):  # longest first: .../scenes before .../scene
        source = re.sub(re.escape(old) + r'(?=["/])', ASSETS[old], source)
    unmapped = _UNMAPPED.findall(source)
    if unmapped:
        raise AssertionError(f"the docs name assets the doc test cannot map to the emulator: {unmapped}; see ASSETS")
    return source


def run_block(source: str, filename: str, namespace: dict[str, Any]) -> None:
    code = compile(source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # a coroutine when the block awaits
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def run_blocks(path: Path, name: str, namespace: dict[str, Any], *, with_processes: bool) -> list[Block]:
    """Run every python block of ``path`` that is not skipped; returns the blocks run."""
    blocks = [block for block in python_blocks(path.read_text(encoding="utf-8")) if block.skip is None]
    if not with_processes:
        blocks = [block for block in blocks if not STARTS_PROCESSES.search(block.source)]
    for block in blocks:
        try:
            run_block(substitute(block.source), f"{name}:{block.line}", namespace)
        except Exception as exc:
            raise AssertionError(
                f"the python block at {name}:{block.line} failed: {type(exc).__name__}: {exc}"
            ) from exc
    return blocks


@pytest.fixture
def docs_namespace(ee_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fresh namespace for one file's blocks, in a temporary directory, with the emulator's
    URL and a token for the substituted clients; clients the blocks leave open are closed."""
    from google.oauth2.credentials import Credentials

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {
        "__name__": "docs",
        "_DOCS_URL": ee_emulator.url,
        "_DOCS_CREDENTIALS": Credentials(token="docs"),
    }
    yield namespace
    for value in list(namespace.values()):
        close = getattr(value, "close", None)
        if type(value).__name__ == "Client" and callable(close) and not asyncio.iscoroutinefunction(close):
            close()
    try:
        import ee

        ee.Reset()
    except ImportError:
        pass
