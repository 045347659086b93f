"""Placeholder for the Pixels result type (replaced by the overlays work)."""

Pixels = bytes
