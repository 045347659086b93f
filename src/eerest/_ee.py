"""Interop with the official ``earthengine-api`` client: build with ``ee``, fetch with eerest.

``ee`` is never imported here unless it already is: an ``ee`` object cannot exist without
its module being loaded, so ``sys.modules`` tells whether one may have been passed.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_ee_object", "to_expression"]


def is_ee_object(value: Any) -> bool:
    """Whether ``value`` is an ``ee.ComputedObject`` (``ee.Image``, ``ee.ImageCollection``, ...)."""
    ee = sys.modules.get("ee")
    computed = getattr(ee, "ComputedObject", None) if ee is not None else None
    return isinstance(computed, type) and isinstance(value, computed)


def to_expression(value: Any) -> Any:
    """An ``ee`` object as the Expression dict of the REST API; anything else unchanged."""
    if not is_ee_object(value):
        return value
    from ee import serializer  # already loaded: the object came from it

    return serializer.encode(value, for_cloud_api=True)
