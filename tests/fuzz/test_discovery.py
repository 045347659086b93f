"""The generator's discovery loading against mutated documents: an IR or DiscoveryError."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from codegen.discovery import DiscoveryError, Options, load_api

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "schema" / "earthengine.v1.json").read_text())
OPTIONS = Options(include_methods=frozenset({"projects.assets.get", "projects.image.computePixels"}))
JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


def _paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    out = [prefix]
    if depth > 6:
        return out
    if isinstance(node, dict):
        for k in sorted(node)[:40]:
            out += _paths(node[k], (*prefix, k), depth + 1)
    elif isinstance(node, list):
        for i, v in enumerate(node[:5]):
            out += _paths(v, (*prefix, i), depth + 1)
    return out


PATHS = [p for p in _paths(DOC) if p and (p[0] != "schemas" or len(p) < 5)]


@given(st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=3))
def test_mutated_document(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    doc = copy.deepcopy(DOC)
    for path, junk in mutations:
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue
    with contextlib.suppress(DiscoveryError):
        load_api(doc, OPTIONS)


@given(JUNK)
def test_not_a_document(junk: Any) -> None:
    with contextlib.suppress(DiscoveryError):
        load_api(junk, OPTIONS)
