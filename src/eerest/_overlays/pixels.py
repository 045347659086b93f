"""Placeholder overlays for the pixel methods (replaced by the overlays work)."""

from eerest._core.overlay import Overlay

COMPUTE_PIXELS = Overlay()
GET_PIXELS = Overlay()
