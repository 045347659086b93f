"""The few Earth Engine expressions the backend builds itself (pure JSON, no ``ee``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["call", "collection_image", "load", "unmask", "with_node"]


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A ``functionInvocationValue`` node of ``name`` with these argument nodes."""
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def load(function: str, asset: str) -> dict[str, Any]:
    """``Image.load`` / ``ImageCollection.load`` of ``asset``, as an Expression."""
    return {"result": "0", "values": {"0": call(function, id={"constantValue": asset})}}


def with_node(values: dict[str, Any], base: str, node: dict[str, Any]) -> str:
    """Add ``node`` to ``values`` under a key starting with ``base`` not used yet; the key."""
    key, n = base, 0
    while key in values:
        n += 1
        key = f"{base}{n}"
    values[key] = node
    return key


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


def unmask(image: Mapping[str, Any], fills: list[int | float]) -> dict[str, Any]:
    """``image`` with masked pixels replaced by ``fills`` (one per band, in band order) on
    the server, also outside the image's footprint."""
    values = dict(image["values"])
    constant = fills[0] if len(set(fills)) == 1 else list(fills)
    fill = with_node(values, "eerest_fill", call("Image.constant", value={"constantValue": constant}))
    result = with_node(
        values,
        "eerest_unmask",
        call(
            "Image.unmask",
            input={"valueReference": image["result"]},
            value={"valueReference": fill},
            sameFootprint={"constantValue": False},
        ),
    )
    return {"result": result, "values": values}
