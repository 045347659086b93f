"""Bodies of thumbnails and maps, and :class:`MapTiles` (a map's name and tile URL template): pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eerest._ee import to_expression

if TYPE_CHECKING:
    from eerest._core.client import _ClientBase

__all__ = ["MapTiles", "map_body", "thumbnail_body"]


@dataclass(frozen=True)
class MapTiles:
    """A map made by ``client.map_tiles``: ``name`` (``projects/P/maps/ID``) and ``url_template``
    with ``{z}``, ``{x}`` and ``{y}`` (requests need the client's credentials)."""

    name: str
    url_template: str

    @classmethod
    def of(cls, client: _ClientBase[Any], name: str) -> MapTiles:
        return cls(name, f"{client.base_url}/{client._api.version}/{name}/tiles/{{z}}/{{x}}/{{y}}")


def _options(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body.update({k: v for k, v in fields.items() if v is not None})
    return body


def thumbnail_body(
    expression: object,
    file_format: str | None,
    grid: Mapping[str, Any] | None,
    band_ids: Sequence[str] | None,
    visualization_options: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return _options(
        {"expression": to_expression(expression)},
        fileFormat=file_format,
        grid=grid,
        bandIds=list(band_ids) if band_ids is not None else None,
        visualizationOptions=visualization_options,
    )


def map_body(
    expression: object,
    visualization_options: Mapping[str, Any] | None,
    band_ids: Sequence[str] | None,
    file_format: str | None,
) -> dict[str, Any]:
    return _options(
        {"expression": to_expression(expression)},
        fileFormat=file_format,
        bandIds=list(band_ids) if band_ids is not None else None,
        visualizationOptions=visualization_options,
    )
