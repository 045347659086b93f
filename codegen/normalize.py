"""Canonical on-disk form of a Google API Discovery document in ``schema/``.

Google serves discovery documents with sorted keys; we keep them sorted, indented
and newline-terminated so that an API change shows up as a small, reviewable diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["FETCH_TIMEOUT", "dumps", "is_url", "load", "normalize"]

#: Seconds allowed for fetching a discovery document over HTTP(S).
FETCH_TIMEOUT = 30.0


def normalize(doc: dict[str, Any]) -> dict[str, Any]:
    """Return a deep copy of ``doc`` with every mapping's keys sorted (JSON types only)."""
    copied: dict[str, Any] = _sorted(json.loads(json.dumps(doc, ensure_ascii=False)))
    return copied


def _sorted(value: Any) -> Any:
    """Recursively rebuild dicts in key order; lists keep their order (it is meaningful)."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def dumps(doc: dict[str, Any]) -> str:
    """Serialise ``doc`` in the canonical form written to ``schema/*.json``."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def is_url(source: str | os.PathLike[str]) -> bool:
    """True if ``source`` is an http(s) URL rather than a filesystem path."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def load(source: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a discovery document from a path or an http(s) URL (fetched with httpx)."""
    if is_url(source):
        import httpx  # imported lazily: only URL sources need the network stack

        response = httpx.get(str(source), timeout=FETCH_TIMEOUT, follow_redirects=True)
        response.raise_for_status()
        doc = response.json()
    else:
        doc = json.loads(Path(source).read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: a discovery document must be a JSON object")
    return doc
