"""The overlays of ``computePixels`` and ``getPixels`` (bound in ``codegen/config.yaml``):
``ee`` objects as expressions, limit checks before sending, and ``Pixels`` results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from eerest._core.overlay import Body, Fetch, Overlay, Prepare
from eerest._ee import to_expression
from eerest.errors import InvalidRequestError, ResponseDecodeError

if TYPE_CHECKING:
    from eerest._core.call import Call
    from eerest.pixels import Pixels

# The checks and Pixels need numpy: they are imported by the first pixel call, so that
# constructing a client does not import numpy.

__all__ = ["COMPUTE_PIXELS", "GET_PIXELS", "ComputePixelsOverlay", "GetPixelsOverlay", "asset_name"]


def _pixels(call: Call, body: Body) -> Pixels:
    from eerest.pixels import Pixels

    request = call.request
    try:
        return Pixels(
            body.content,
            file_format=getattr(request, "file_format", None),
            content_type=body.content_type,
            band_ids=getattr(request, "band_ids", None),
            grid=getattr(request, "grid", None),
        )
    except ResponseDecodeError as exc:
        raise ResponseDecodeError(f"{call.spec.id}: {exc.message}", request=exc.request) from None


class ComputePixelsOverlay(Overlay["Pixels"]):
    """``expression=`` may be an ``ee`` object; checks use ``band_dtypes=`` when given."""

    def adapt_body(self, body: dict[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
        if "expression" in body:
            body = {**body, "expression": to_expression(body["expression"])}
        return body

    def prepare(self, call: Call) -> Prepare:
        from eerest._overlays.checks import check_demand, compute_pixels_demand

        demand = compute_pixels_demand(call.request, call.extras.get("band_dtypes"))
        check_demand("computePixels", call.request, demand)
        return call
        yield  # pragma: no cover - a generator that never needs to fetch

    def result(self, call: Call, body: Body) -> Pixels:
        return _pixels(call, body)


def asset_name(call: Call) -> str:
    """The ``name`` path parameter of a getPixels call, recovered from its expanded path."""
    template = call.spec.path  # e.g. "v1/{+name}:getPixels"
    prefix, _, rest = template.partition("{")
    suffix = rest.partition("}")[2]
    path = call.path
    if not (path.startswith(prefix) and path.endswith(suffix)):
        raise InvalidRequestError(f"{call.spec.id}: cannot find the asset name in {path!r}")
    return unquote(path[len(prefix) : len(path) - len(suffix)])


class GetPixelsOverlay(Overlay["Pixels"]):
    """Checks use the asset's band types and native grid, fetched (once per client) only
    when they can matter."""

    def prepare(self, call: Call) -> Prepare:
        from eerest._overlays.checks import check_demand, get_pixels_demand, needs_asset

        asset = None
        if needs_asset(call.request):
            asset = yield Fetch("projects.assets.get", {"name": asset_name(call)})
        check_demand("getPixels", call.request, get_pixels_demand(call.request, asset))
        return call

    def result(self, call: Call, body: Body) -> Pixels:
        return _pixels(call, body)


COMPUTE_PIXELS = ComputePixelsOverlay()
GET_PIXELS = GetPixelsOverlay()
