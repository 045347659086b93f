"""The few Earth Engine expressions the backend builds itself (pure JSON, no ``ee``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eerest._fill import call, load, unmask, with_node

__all__ = ["call", "collection_image", "load", "unmask", "with_node"]


def collection_image(collection: Mapping[str, Any], index: str) -> dict[str, Any]:
    """The Image of ``collection`` whose ``system:index`` is ``index``."""
    values = dict(collection["values"])
    match = with_node(
        values,
        "eerest_filter",
        call("Filter.equals", leftField={"constantValue": "system:index"}, rightValue={"constantValue": index}),
    )
    filtered = with_node(
        values,
        "eerest_filtered",
        call("Collection.filter", collection={"valueReference": collection["result"]}, filter={"valueReference": match}),
    )
    first = with_node(values, "eerest_first", call("Collection.first", collection={"valueReference": filtered}))
    return {"result": first, "values": values}
