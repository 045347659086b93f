"""Earth Engine's algorithm catalogue: the real signature of every algorithm the service has.

`algorithms.json.gz` is the real service's `projects.algorithms.list` answer, as shipped by
earthengine-api (`emulator/tools/make_emulator_catalogue.py` refreshes it). The emulator lists all
of them, so that the official client builds every method it knows, and answers a call of
one it does not implement with `not_implemented(name)`, a 400 that says so.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

from ._errors import ApiError, invalid_argument

__all__ = ["CATALOGUE_FILE", "catalogue", "listing", "not_implemented", "signature"]

CATALOGUE_FILE = Path(__file__).with_name("algorithms.json.gz")

_NOT_IMPLEMENTED_NOTE = " (Not implemented in the eerest emulator.)"


@functools.cache
def catalogue() -> dict[str, dict[str, Any]]:
    """Algorithm name (e.g. "Image.add") -> its `Algorithm` JSON object as the service lists it."""
    data = json.loads(gzip.decompress(CATALOGUE_FILE.read_bytes()))
    return {a["name"].removeprefix("algorithms/"): a for a in data["algorithms"]}


def signature(name: str) -> dict[str, Any]:
    """The catalogue entry of `name`; a KeyError for an algorithm Earth Engine does not have."""
    return catalogue()[name]


def listing(implemented: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """`projects.algorithms.list`: every real algorithm, plus any the emulator adds; those it
    does not implement say so at the end of their description."""
    out = {}
    for name, entry in catalogue().items():
        if name in implemented:
            out[name] = entry
        else:
            out[name] = {**entry, "description": entry.get("description", "") + _NOT_IMPLEMENTED_NOTE}
    for name, entry in implemented.items():
        out.setdefault(name, entry)
    return [out[k] for k in sorted(out)]


def not_implemented(name: str, count: int) -> ApiError:
    """The 400 for a real Earth Engine algorithm the emulator has no implementation of."""
    return invalid_argument(
        f"{name} is not implemented in the eerest emulator (it implements {count} of Earth Engine's "
        f"{len(catalogue())} algorithms; those it lacks say 'Not implemented in the eerest emulator' "
        "in projects.algorithms.list). Use the real service for it, or compute it from the "
        "emulator's pixels locally."
    )
