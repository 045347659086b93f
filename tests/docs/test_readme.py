"""Every ```python block of README.md runs, in order, in one namespace, against the emulator.

Only endpoints and asset names are substituted (``SUBSTITUTIONS``, ``ASSETS``):

- ``eerest.Client(project="my-project")`` / ``eerest.AsyncClient(project="my-project")``
  and ``ee.Initialize(project="my-project")`` also get the emulator's URL and a static token;
- asset names of Earth Engine's public catalogue and of the reader's own project map to the
  emulator's sample assets; a block naming any other such asset fails here, saying so;
- with xarray < 2025.7 (the newest on Python 3.10), which looks a string source up as a file
  when chunking, ``xr.open_dataset(NAME, engine="eerest", ...)`` becomes
  ``eerest.xarray.open_dataset(NAME, ...)``, as the README tells readers on Python 3.10.

Blocks run with top-level ``await`` allowed (as in a notebook), in a temporary directory.
A block that starts worker processes (a dask ``LocalCluster``, seconds) runs in the full
suite only (``slow``, like tests/xarray/test_xarray_distributed.py); the default run skips it.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

SAMPLE = "projects/eerest/assets/sample"
ASSETS = {
    "projects/earthengine-public/assets/USGS/SRTMGL1_003": f"{SAMPLE}/elevation",
    "projects/earthengine-public/assets/LANDSAT/LC09/C02/T1_L2": f"{SAMPLE}/scenes",
    "projects/my-project/assets/scenes": f"{SAMPLE}/scenes",
    "projects/my-project/assets/scene": f"{SAMPLE}/scenes/20240613",
}
_ENDPOINT = 'base_url=_README_URL, credentials=_README_CREDENTIALS'
SUBSTITUTIONS = {
    'eerest.Client(project="my-project")': f'eerest.Client(project="my-project", {_ENDPOINT})',
    'eerest.AsyncClient(project="my-project")': f'eerest.AsyncClient(project="my-project", {_ENDPOINT})',
    'ee.Initialize(project="my-project")': (
        'ee.Initialize(project="my-project", opt_url=_README_URL, credentials=_README_CREDENTIALS)'
    ),
}
_STARTS_PROCESSES = re.compile(r"\bLocalCluster\(")
_UNMAPPED = re.compile(r"projects/(?:earthengine-public|my-project)/assets/[\w/.-]*")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, source) of each ```python block, in order."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start, i = i + 1, i + 1
            while lines[i].strip() != "```":
                i += 1
            blocks.append((start + 1, "\n".join(lines[start:i]) + "\n"))
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
        raise AssertionError(f"README names assets the doc test cannot map to the emulator: {unmapped}; see ASSETS")
    return source


def run_block(source: str, filename: str, namespace: dict[str, Any]) -> None:
    code = compile(source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # a coroutine when the block awaits
    if asyncio.iscoroutine(result):
        asyncio.run(result)


@pytest.fixture
def readme_namespace(ee_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from google.oauth2.credentials import Credentials

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {
        "__name__": "readme",
        "_README_URL": ee_emulator.url,
        "_README_CREDENTIALS": Credentials(token="readme"),
    }
    yield namespace
    client = namespace.get("client")
    if client is not None and hasattr(client, "close") and not asyncio.iscoroutinefunction(client.close):
        client.close()
    try:
        import ee

        ee.Reset()
    except ImportError:
        pass


def test_substitution_maps_only_names_and_endpoints() -> None:
    source = 'c = eerest.Client(project="my-project")\nx = "projects/my-project/assets/scene/sub"\n'
    assert substitute(source) == (
        'c = eerest.Client(project="my-project", base_url=_README_URL, credentials=_README_CREDENTIALS)\n'
        f'x = "{SAMPLE}/scenes/20240613/sub"\n'
    )
    with pytest.raises(AssertionError, match="cannot map"):
        substitute('name = "projects/earthengine-public/assets/COPERNICUS/S2"')


@pytest.mark.parametrize(
    "with_processes", [pytest.param(False, id="in-process"), pytest.param(True, id="every-block", marks=pytest.mark.slow)]
)
def test_readme_python_blocks_run_against_the_emulator(readme_namespace: dict[str, Any], with_processes: bool) -> None:
    blocks = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "README.md has no python blocks"
    if not with_processes:
        blocks = [(line, source) for line, source in blocks if not _STARTS_PROCESSES.search(source)]
    for line, source in blocks:
        try:
            run_block(substitute(source), f"README.md:{line}", readme_namespace)
        except Exception as exc:
            raise AssertionError(f"the README's python block at line {line} failed: {type(exc).__name__}: {exc}") from exc
    ns = readme_namespace
    assert ns["array"].dtype.names == ("elevation",) and ns["array"].shape == (100, 100)
    assert ns["rgb"].dtype == "uint8" and ns["rgb"].shape[-1] == 3
    assert ns["arr"].shape == (100, 100)
    for written in ("true_colour.png", "big.tif", "tile.npy"):
        assert Path(written).stat().st_size > 0, written
