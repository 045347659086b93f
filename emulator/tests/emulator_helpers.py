"""What the emulator's tests share: the bundled sample's assets, builders of grids and
expressions, and ``http``, a raw httpx client of the emulator (a fixture: conftests import it).

The SDK-side tests of the emulator (tests/emulator/ at the repository's root) import it too:
their conftest puts this folder on ``sys.path``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

SCENES = "projects/eerest/assets/sample/scenes"
SCENE = f"{SCENES}/20240504"
ELEVATION = "projects/eerest/assets/sample/elevation"
PLACES = "projects/eerest/assets/sample/places"
X0, Y0 = 533120.0, 5311840.0


def grid(w: int = 224, h: int = 224, scale: float = 10.0, x0: float = X0, y0: float = Y0, crs: str = "EPSG:32633") -> dict:
    return {
        "crsCode": crs,
        "affineTransform": {"scaleX": scale, "shearX": 0, "translateX": x0, "shearY": 0, "scaleY": -scale, "translateY": y0},
        "dimensions": {"width": w, "height": h},
    }


def call(fn: str, **args: dict) -> dict:
    """A functionInvocationValue node with already-built ValueNode arguments."""
    return {"functionInvocationValue": {"functionName": fn, "arguments": args}}


def const(v: object) -> dict:
    return {"constantValue": v}


def expr(node: dict, **extra: dict) -> dict:
    return {"result": "0", "values": {"0": node, **extra}}


@pytest.fixture
def http(ee_emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ee_emulator.url, headers={"Authorization": "Bearer test-token"}, timeout=30) as c:
        yield c
