"""The loopback server every benchmark talks to: the eerest emulator (it serves the discovery
document and ``algorithms.list`` that ``ee.Initialize`` needs) with the measured methods
answering prebuilt bodies, so the server's own work stays out of the numbers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["start_server"]


def _emulator() -> tuple[Any, Any, Any]:
    try:  # the separate distribution (pip install eerest-emulator)
        from eerest_emulator import Emulator
        from eerest_emulator._app import App
        from eerest_emulator._http import Response
    except ImportError:
        from eerest.emulator import Emulator
        from eerest.emulator._app import App, Response
    return Emulator, App, Response


def start_server(
    *,
    pixels: Mapping[str, tuple[bytes, str]] | None = None,
    pages: Mapping[str | None, bytes] | None = None,
    asset: bytes | None = None,
) -> Any:
    """Start a server on 127.0.0.1: ``pixels`` maps a ``fileFormat`` to (body, content type)
    for ``computePixels`` and ``getPixels``, ``pages`` a ``pageToken`` (``None`` for the
    first) to a ``computeImages`` body, ``asset`` is the body of every ``assets.get``.
    Returns the running emulator (``.url``, ``.stop()``)."""
    Emulator, App, Response = _emulator()

    class BenchApp(App):  # type: ignore[misc, valid-type]
        def compute_pixels(self, req: Any, version: str, project: str) -> Any:
            if pixels is None:
                return super().compute_pixels(req, version, project)
            body, content_type = pixels[json.loads(req.body).get("fileFormat", "NPY")]
            return Response(200, body, content_type)

        def get_pixels(self, req: Any, version: str, name: str) -> Any:
            if pixels is None:
                return super().get_pixels(req, version, name)
            body, content_type = pixels[json.loads(req.body).get("fileFormat", "NPY")]
            return Response(200, body, content_type)

        def compute_images(self, req: Any, version: str, project: str) -> Any:
            if pages is None:
                return super().compute_images(req, version, project)
            return Response(200, pages[json.loads(req.body).get("pageToken")])

        def get_asset(self, req: Any, version: str, name: str) -> Any:
            if asset is None:
                return super().get_asset(req, version, name)
            return Response(200, asset)

    emu = Emulator(require_auth=False)
    emu.app = BenchApp(emu.store, emu.faults, require_auth=False)
    return emu.start()


Fetch = Callable[[], Any]
