"""``read_area``: large areas read in many concurrent requests (see :mod:`eerest.tiling`)."""

from eerest._area.client import AsyncReadAreaMixin, SyncReadAreaMixin

__all__ = ["SyncReadAreaMixin", "AsyncReadAreaMixin"]
