"""Realistic ``computeImages`` pages: image assets with 12 bands, 40 properties and a polygon."""

from __future__ import annotations

import json
import random
from typing import Any

__all__ = ["asset", "page", "page_bytes"]

_BANDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12")


def asset(i: int, rng: random.Random) -> dict[str, Any]:
    """One image asset as the service sends it (camelCase, int64 as strings)."""
    x0, y0 = 300000 + 10980 * (i % 50), 5000000 + 10980 * (i // 50 % 50)
    bands = []
    for j, band in enumerate(_BANDS):
        scale = 10 if j in (1, 2, 3, 7) else 20 if j in (4, 5, 6, 8, 10, 11) else 60
        bands.append({
            "id": band,
            "dataType": {"precision": "INT", "range": {"min": 0, "max": 65535}},
            "grid": {
                "crsCode": "EPSG:32633",
                "affineTransform": {"scaleX": scale, "scaleY": -scale, "translateX": x0, "translateY": y0 + 109800},
                "dimensions": {"width": 109800 // scale, "height": 109800 // scale},
            },
            "pyramidingPolicy": "MEAN",
        })
    properties: dict[str, Any] = {}
    for k in range(40):
        kind = k % 4
        key = f"PROPERTY_{k:02d}"
        if kind == 0:
            properties[key] = rng.random() * 100
        elif kind == 1:
            properties[key] = rng.randrange(1 << 30)
        elif kind == 2:
            properties[key] = f"S2B_MSIL2A_{i:06d}_{k}_N0509_R{rng.randrange(1000):03d}"
        else:
            properties[key] = [rng.random() for _ in range(3)]
    lon, lat = 12.0 + (i % 50) * 0.1, 45.0 + (i // 50 % 50) * 0.1
    ring = [[lon, lat], [lon + 0.14, lat], [lon + 0.15, lat + 0.1], [lon + 0.01, lat + 0.11], [lon, lat]]
    day = 1 + i % 28
    return {
        "type": "IMAGE",
        "name": f"projects/earthengine-public/assets/COPERNICUS/S2_SR/2024{1 + i % 12:02d}{day:02d}T100031_{i:06d}",
        "id": f"COPERNICUS/S2_SR/2024{1 + i % 12:02d}{day:02d}T100031_{i:06d}",
        "startTime": f"2024-{1 + i % 12:02d}-{day:02d}T10:00:31.024Z",
        "endTime": f"2024-{1 + i % 12:02d}-{day:02d}T10:00:31.024Z",
        "updateTime": "2024-08-01T12:34:56.789012Z",
        "sizeBytes": str(800_000_000 + i),
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": properties,
        "bands": bands,
    }


def page(start: int, size: int, next_token: str | None, seed: int = 0) -> dict[str, Any]:
    """A ``ComputeImagesResponse`` with images ``start .. start+size-1``."""
    rng = random.Random(seed * 1_000_003 + start)
    body: dict[str, Any] = {"images": [asset(i, rng) for i in range(start, start + size)]}
    if next_token:
        body["nextPageToken"] = next_token
    return body


def page_bytes(start: int, size: int, next_token: str | None) -> bytes:
    return json.dumps(page(start, size, next_token), separators=(",", ":")).encode()
