"""The cache of pixel responses: repeated requests answer without recomputing."""

from __future__ import annotations

import threading
from collections import OrderedDict

from ._http import Response

__all__ = ["ResponseCache"]


class ResponseCache:
    """An LRU of pixel responses, bounded in bytes: repeated requests answer without recomputing."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._d: OrderedDict[str, Response] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Response | None:
        with self._lock:
            r = self._d.get(key)
            if r is not None:
                self._d.move_to_end(key)
            return r

    def put(self, key: str, r: Response) -> None:
        n = len(r.body)
        if n > self.max_bytes:
            return
        with self._lock:
            if key in self._d:
                return
            self._d[key] = r
            self._size += n
            while self._size > self.max_bytes:
                _, old = self._d.popitem(last=False)
                self._size -= len(old.body)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._size = 0
