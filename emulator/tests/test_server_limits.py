"""The emulator's busy-server limits: a per-project concurrency cap and a memory limit."""

from __future__ import annotations

import threading

import httpx
import pytest

GRID = {"dimensions": {"width": 40, "height": 30}, "crsCode": "EPSG:32633",
        "affineTransform": {"scaleX": 10, "scaleY": -10, "translateX": 500000, "translateY": 4100000}}
ASSET = "projects/eerest/assets/sample/scenes/20240504"
AUTH = {"Authorization": "Bearer x"}


def get_pixels(url: str, grid: dict = GRID) -> httpx.Response:
    return httpx.post(f"{url}/v1/{ASSET}:getPixels", json={"fileFormat": "NPY", "grid": grid}, headers=AUTH)


def test_concurrency_cap_answers_429_beyond_it(ee_emulator) -> None:
    ee_emulator.faults.set_limits(max_concurrent=2)
    ee_emulator.faults.slow(0.5, count=2)  # the two admitted; a refused request takes no fault
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(get_pixels(ee_emulator.url).status_code)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 200, 429]
    assert ee_emulator.faults.peak_concurrent == {"eerest": 2} and ee_emulator.faults.rejected == 1
    rejected = [r for r in ee_emulator.requests if r.status == 429]
    assert len(rejected) == 1
    body = get_pixels(ee_emulator.url)
    assert body.status_code == 200  # the count went back down
    limits = httpx.get(f"{ee_emulator.url}/_emulator/limits").json()
    assert limits["maxConcurrent"] == 2 and limits["peakConcurrent"] == {"eerest": 2} and limits["rejected"] == 1


def test_concurrency_error_body(ee_emulator) -> None:
    httpx.post(f"{ee_emulator.url}/_emulator/limits", json={"maxConcurrent": 1})
    ee_emulator.faults.slow(0.5, count=1)
    first = threading.Thread(target=get_pixels, args=(ee_emulator.url,))
    first.start()
    while not ee_emulator.faults.peak_concurrent:
        pass
    second = get_pixels(ee_emulator.url)
    first.join()
    assert second.status_code == 429 and second.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert httpx.delete(f"{ee_emulator.url}/_emulator/limits").status_code == 200
    assert ee_emulator.faults.limits.max_concurrent is None


def test_memory_limit_for_large_requests(ee_emulator) -> None:
    assert get_pixels(ee_emulator.url).status_code == 200  # now cached
    ee_emulator.faults.set_limits(memory_limit_pixels=40 * 30 - 1)
    r = get_pixels(ee_emulator.url)
    assert r.status_code == 400 and r.json()["error"]["message"] == "User memory limit exceeded."
    small = {**GRID, "dimensions": {"width": 40, "height": 29}}
    assert get_pixels(ee_emulator.url, small).status_code == 200
    ee_emulator.faults.clear()
    assert get_pixels(ee_emulator.url).status_code == 200


def test_request_log_shows_grids(ee_emulator) -> None:
    get_pixels(ee_emulator.url)
    (rec,) = ee_emulator.requests
    assert rec.grid == GRID and rec.status == 200
    logged = httpx.get(f"{ee_emulator.url}/_emulator/requests").json()["requests"][0]
    assert logged["grid"] == GRID and logged["status"] == 200


def test_bad_limits_are_400(ee_emulator) -> None:
    for body in ({"maxConcurrent": 0}, {"nope": 1}, {"memoryLimitPixels": "x"}):
        assert httpx.post(f"{ee_emulator.url}/_emulator/limits", json=body).status_code == 400


def _npy(url: str, asset: str, grid: dict) -> bytes:
    r = httpx.post(f"{url}/v1/{asset}:getPixels", json={"fileFormat": "NPY", "grid": grid}, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.content


def test_tiles_equal_the_windows_of_one_request(ee_emulator) -> None:
    """Any window of a grid, asked for with the translated transform, is byte for byte the
    matching window of one request over the whole grid (what read_area relies on)."""
    import io
    import random

    import numpy as np

    rng = random.Random(8)
    for asset in (ASSET, "projects/eerest/assets/sample/elevation"):
        for _ in range(6):
            scale = rng.choice([10.0, 7.5, 13.0, 20.0, 0.1 * 33])
            w, h = rng.randint(2, 120), rng.randint(2, 120)
            x0, y0 = 533120.0 + rng.randint(-30, 90) * 10.0, 5311840.0 - rng.randint(-30, 90) * 10.0
            grid = {"dimensions": {"width": w, "height": h}, "crsCode": "EPSG:32633",
                    "affineTransform": {"scaleX": scale, "scaleY": -scale, "translateX": x0, "translateY": y0}}
            whole = np.load(io.BytesIO(_npy(ee_emulator.url, asset, grid)))
            c, r = rng.randrange(w), rng.randrange(h)
            tw, th = rng.randint(1, w - c), rng.randint(1, h - r)
            tile = {"dimensions": {"width": tw, "height": th}, "crsCode": "EPSG:32633",
                    "affineTransform": {"scaleX": scale, "scaleY": -scale,
                                        "translateX": x0 + scale * c, "translateY": y0 - scale * r}}
            part = np.load(io.BytesIO(_npy(ee_emulator.url, asset, tile)))
            assert part.tobytes() == np.ascontiguousarray(whole[r : r + th, c : c + tw]).tobytes(), (grid, c, r)


def test_wait_idle_outlasts_answers_to_a_client_that_went_away(ee_emulator) -> None:
    """A client that gives up leaves the emulator still answering; the fixtures wait for that
    (so a next test's concurrency cap starts from zero) with ``faults.wait_idle``."""
    ee_emulator.faults.slow(0.5, count=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{ee_emulator.url}/v1/{ASSET}:getPixels", json={"fileFormat": "NPY", "grid": GRID},
                   headers=AUTH, timeout=httpx.Timeout(5.0, read=0.05))
    assert ee_emulator.faults.wait_idle(timeout=10)
    ee_emulator.faults.set_limits(max_concurrent=1)
    assert get_pixels(ee_emulator.url).status_code == 200
