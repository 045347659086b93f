"""The overlays of ``computePixels`` and ``getPixels`` (bound in ``codegen/config.yaml``):
``ee`` objects as expressions, limit checks before sending, and ``Pixels`` results."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from urllib.parse import unquote

from eerest._core.overlay import Body, Fetch, Overlay, Prepare
from eerest.errors import InvalidRequestError, ResponseDecodeError

if TYPE_CHECKING:
    from eerest._core.call import Call
    from eerest._overlays.pixel_checks import Demand
    from eerest.pixels import Pixels

# The checks and Pixels need numpy: they are imported by the first pixel call, so that
# constructing a client does not import numpy.

__all__ = ["COMPUTE_PIXELS", "GET_PIXELS", "ComputePixelsOverlay", "GetPixelsOverlay", "asset_name"]


_DEMAND = "_demand"  # where prepare() leaves the request's Demand for result()


def _checked(call: Call, demand: Demand) -> Call:
    """The call to send, knowing how large its answer can be and what it must hold."""
    from eerest._overlays.pixel_checks import body_limits

    extras = {**call.extras, _DEMAND: demand}
    return dataclasses.replace(call, extras=extras, body_limits=body_limits(call.request, demand))


def _pixels(call: Call, body: Body) -> Pixels:
    from eerest._formats.npy import DecodeProblem
    from eerest._overlays.pixel_checks import check_npy_answer
    from eerest.pixels import Pixels

    request = call.request
    try:
        pixels = Pixels(
            body.content,
            file_format=getattr(request, "file_format", None),
            content_type=body.content_type,
            band_ids=getattr(request, "band_ids", None),
            grid=getattr(request, "grid", None),
        )
        demand = call.extras.get(_DEMAND)
        if pixels._npy is not None and demand is not None:
            check_npy_answer(request, demand, pixels._npy)
    except ResponseDecodeError as exc:
        raise ResponseDecodeError(f"{call.spec.id}: {exc.message}", request=exc.request) from None
    except DecodeProblem as exc:
        raise ResponseDecodeError(f"{call.spec.id}: pixel response: {exc}") from None
    return pixels


class ComputePixelsOverlay(Overlay["Pixels"]):
    """``expression=`` may be an ``ee`` object; checks use ``band_dtypes=`` when given."""

    def prepare(self, call: Call) -> Prepare:
        from eerest._overlays.pixel_checks import check_demand, compute_pixels_demand

        demand = compute_pixels_demand(call.request, call.extras.get("band_dtypes"))
        check_demand("computePixels", call.request, demand)
        return _checked(call, demand)
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
        from eerest._overlays.pixel_checks import check_demand, get_pixels_demand, needs_asset

        asset = None
        if needs_asset(call.request):
            asset = yield Fetch("projects.assets.get", {"name": asset_name(call)})
        demand = get_pixels_demand(call.request, asset)
        check_demand("getPixels", call.request, demand)
        return _checked(call, demand)

    def result(self, call: Call, body: Body) -> Pixels:
        return _pixels(call, body)


COMPUTE_PIXELS = ComputePixelsOverlay()
GET_PIXELS = GetPixelsOverlay()
