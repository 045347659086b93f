"""`Image.connectedPixelCount` and `Number.expression` through earthengine-api, against
independent oracles: a breadth-first flood fill in plain Python over the sample's elevation
file, and Python's own arithmetic."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

ee = pytest.importorskip("ee")

from emulator_helpers import ELEVATION  # noqa: E402


@pytest.fixture(scope="module")
def ee_session(ee_emulator_session):
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator_session.url)
    yield ee_emulator_session
    ee.Reset()


def _elevation() -> np.ndarray:
    from eerest_emulator import BUNDLED_DATA

    return np.load(BUNDLED_DATA / "eerest" / "sample" / "elevation.npy").astype(np.float64)


def _flood_counts(classes: np.ndarray, valid: np.ndarray, eight: bool, cap: int) -> np.ndarray:
    h, w = classes.shape
    steps = [(0, 1), (1, 0), (0, -1), (-1, 0)] + ([(1, 1), (1, -1), (-1, 1), (-1, -1)] if eight else [])
    out = np.zeros((h, w), dtype=np.int64)
    seen = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            if seen[i, j] or not valid[i, j]:
                continue
            region, todo = [], deque([(i, j)])
            seen[i, j] = True
            while todo:
                y, x = todo.popleft()
                region.append((y, x))
                for dy, dx in steps:
                    v, u = y + dy, x + dx
                    if 0 <= v < h and 0 <= u < w and not seen[v, u] and valid[v, u] and classes[v, u] == classes[y, x]:
                        seen[v, u] = True
                        todo.append((v, u))
            for y, x in region:
                out[y, x] = min(len(region), cap)
    return out


@pytest.mark.parametrize(("eight", "cap"), [(True, 40), (False, 40), (True, 1024)])
def test_connected_pixel_count_is_a_flood_fill(ee_session, eight, cap):
    elev = _elevation()
    classes = np.floor(elev / 20)
    valid = classes != np.floor(280 / 20)  # one class masked: its pixels count nothing, stop nothing
    img = ee.Image(ELEVATION).divide(20).floor()
    img = img.updateMask(img.neq(14)).connectedPixelCount(cap, eight)
    got = ee.data.computePixels({"expression": img, "fileFormat": "NUMPY_NDARRAY"})["elevation"]
    want = _flood_counts(classes, valid, eight, cap)
    np.testing.assert_array_equal(np.where(valid, got, 0), want)
    assert 1 < want.max() <= cap


def test_connected_pixel_count_refuses_sizes_the_service_refuses(ee_session):
    with pytest.raises(ee.EEException, match="maxSize"):
        ee.Image(ELEVATION).connectedPixelCount(2000).reduceRegion(ee.Reducer.max(), None, 20).getInfo()


@pytest.mark.parametrize(
    ("expression", "variables", "want"),
    [
        ("a * b + 1", {"a": 2, "b": 3}, 7),
        ("(a - b) / (a + b)", {"a": 0.42, "b": 0.07}, (0.42 - 0.07) / (0.42 + 0.07)),
        ("sqrt(x) + abs(-y) ** 2", {"x": 16, "y": 1.5}, 4 + 1.5**2),
        ("x > 3 && x < 10 ? x % 4 : -1", {"x": 7}, 3),
        ("x > 3 && x < 10 ? x % 4 : -1", {"x": 11}, -1),
        ("2 * Math.PI * r", {"r": 3}, 2 * math.pi * 3),
        ("d.a + d['b'] - min(d.a, 1)", {"d": {"a": 5, "b": 2.5}}, 5 + 2.5 - 1),
        ("!(x == 2) + hypot(3, 4)", {"x": 2}, 5),
    ],
)
def test_number_expression(ee_session, expression, variables, want):
    got = ee.Number.expression(expression, variables).getInfo()
    assert got == pytest.approx(want, rel=1e-12)


def test_number_expression_refuses_what_is_no_number(ee_session):
    with pytest.raises(ee.EEException, match="not one of its variables"):
        ee.Number.expression("a + q", {"a": 1}).getInfo()
    with pytest.raises(ee.EEException, match="unknown function"):
        ee.Number.expression("b(0) + 1", {}).getInfo()
