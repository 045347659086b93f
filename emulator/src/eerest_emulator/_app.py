"""`App`, the emulator's request handling independent of the HTTP server: the Earth Engine
methods (`_api_routes`; asset changes `_asset_routes`; operations, exports and ingestion
`_task_routes`) and the admin API with its request log (`_admin_api`), over one asset store,
fault injector, response cache, operation queue and local storage (Cloud Storage and Drive).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, deque
from pathlib import Path

from ._admin_api import LOG_SIZE, AdminApi
from ._api_routes import ApiRoutes
from ._asset_routes import AssetRoutes
from ._asset_writes import AssetWriter
from ._exports import Storage
from ._faults import FaultInjector
from ._http import RecordedRequest
from ._media_routes import MediaRoutes
from ._operations import OperationQueue
from ._response_cache import ResponseCache
from ._store import AssetStore
from ._task_routes import TaskRoutes

__all__ = ["App"]


class App(ApiRoutes, TaskRoutes, AssetRoutes, MediaRoutes, AdminApi):
    """Routes requests to the Earth Engine methods (`handle`) and the admin API (`handle_admin`)."""

    def __init__(
        self,
        store: AssetStore,
        faults: FaultInjector | None = None,
        *,
        require_auth: bool = True,
        cache_bytes: int = 512 * 1024 * 1024,
        storage_dir: str | Path | None = None,
        operations: OperationQueue | None = None,
    ) -> None:
        self.store = store
        self.faults = faults or FaultInjector()
        self.require_auth = require_auth
        self.cache = ResponseCache(cache_bytes)
        self._log: deque[RecordedRequest] = deque(maxlen=LOG_SIZE)
        self._log_lock = threading.Lock()
        self._received: Counter[str] = Counter()
        self._saved: OrderedDict[str, dict] = OrderedDict()
        self._saved_lock = threading.Lock()
        self.operations = operations or OperationQueue()
        self.writer = AssetWriter(store)
        self.writer.on_change = self.cache.clear
        self.storage = Storage(Path(storage_dir) if storage_dir is not None else store.root)
