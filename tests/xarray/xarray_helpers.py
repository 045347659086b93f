"""Helpers of the xarray tests (a module of its own: tests/ is on sys.path, so this
directory cannot be a package named xarray)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials

import eerest

SCENES = "projects/eerest/assets/sample/scenes"
ELEVATION = "projects/eerest/assets/sample/elevation"
BANDS = ["blue", "green", "red", "nir"]

#: ``xr.open_dataset(name, engine="eerest", chunks=...)`` with xarray < 2025.7 (the newest on
#: Python 3.10): xarray looks the name up as a file to time-stamp it, inside xarray itself. The
#: README sends readers there to ``eerest.xarray.open_dataset``; strict, so that a fix shows.
engine_with_string_sources = pytest.mark.xfail(
    tuple(int(part) for part in xr.__version__.split(".")[:2]) < (2025, 7),
    reason="xarray < 2025.7 stats string sources when chunking; use eerest.xarray.open_dataset",
    raises=FileNotFoundError,
    strict=True,
)


def write_collection(root: Path, name: str, count: int, *, size: int = 4, shuffle_times: bool = False, pixels: bool = True
) -> list[str]:
    """A collection ``projects/test/assets/<name>`` of ``count`` tiny uint16 images; image
    ``i`` holds the value ``i`` in band ``a`` (value 7 in its first pixel is missing data)
    and ``2 * i`` in band ``b``. With ``shuffle_times`` the start times run against the names;
    without ``pixels`` only the metadata is written (enough to list the collection)."""
    folder = root / "test" / name
    folder.mkdir(parents=True)
    (root / "test" / f"{name}.json").write_text(json.dumps({"type": "IMAGE_COLLECTION", "properties": {"kind": name}}))
    grid = {
        "crsCode": "EPSG:32633",
        "affineTransform": {"scaleX": 10.0, "shearX": 0, "translateX": 500000.0, "shearY": 0, "scaleY": -10.0, "translateY": 5000000.0},
        "dimensions": {"width": size, "height": size},
    }
    dtype = {"precision": "INT", "range": {"min": 0, "max": 65535}}
    names = []
    for i in range(count):
        image = f"img{i:04d}"
        day = (count - i) if shuffle_times else i
        meta = {
            "type": "IMAGE",
            "startTime": _day(day),
            "properties": {"INDEX": i, "LABEL": f"image {i}"},
            "bands": [
                {"id": "a", "dataType": dtype, "grid": grid, "missingData": {"values": [7]}},
                {"id": "b", "dataType": dtype, "grid": grid},
            ],
        }
        (folder / f"{image}.json").write_text(json.dumps(meta))
        names.append(f"projects/test/assets/{name}/{image}")
        if not pixels:
            continue
        data = np.zeros((size, size), dtype=[("a", "<u2"), ("b", "<u2")])
        data["a"] = i
        data["b"] = 2 * i
        data["a"][0, 0] = 7
        np.save(folder / f"{image}.npy", data)
    return names


def _day(day: int) -> str:
    return str(np.datetime64("2020-01-01T00:00:00") + np.timedelta64(day, "D")) + "Z"


def make_client(url: str) -> Any:
    return eerest.Client(project=EMULATOR_PROJECT, base_url=url, credentials=emulator_credentials())
