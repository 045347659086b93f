from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from google.auth.credentials import AnonymousCredentials


def version(name: str) -> ModuleType:
    return importlib.import_module(f"eerest.{name}")


def client(name: str, url: str, **kw: Any) -> Any:
    kw.setdefault("credentials", AnonymousCredentials())
    kw.setdefault("max_retries", 0)
    return version(name).Client("my-proj", base_url=url, **kw)


def async_client(name: str, url: str, **kw: Any) -> Any:
    kw.setdefault("credentials", AnonymousCredentials())
    kw.setdefault("max_retries", 0)
    return version(name).AsyncClient("my-proj", base_url=url, **kw)


EXPRESSION = {
    "result": "0",
    "values": {
        "0": {
            "functionInvocationValue": {
                "functionName": "Image.load",
                "arguments": {"id": {"constantValue": "projects/eerest/assets/sample/scenes/s1"}},
            }
        }
    },
}
ASSET = {
    "type": "IMAGE",
    "name": "projects/eerest/assets/sample/scenes/s1",
    "id": "sample/scenes/s1",
    "startTime": "2024-06-01T10:00:00.123456789Z",
    "sizeBytes": "9007199254740993",
    "properties": {"cloud": 3.5},
    "bands": [
        {
            "id": "red",
            "dataType": {"precision": "INT", "range": {"min": 0, "max": 65535}},
            "grid": {"crsCode": "EPSG:32633", "dimensions": {"width": 256, "height": 256}},
            "pyramidingPolicy": "MEAN",
        }
    ],
}


def npy_body(shape: tuple[int, int] = (2, 2), dtype: object = (("b", "u1"),)) -> bytes:
    """A real .npy body: a structured array (2x2 with one uint8 band unless told)."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.zeros(shape, dtype=list(dtype)))  # type: ignore[call-overload]
    return buffer.getvalue()


def png_body() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    return buffer.getvalue()


NPY = {"content-type": "application/octet-stream"}
