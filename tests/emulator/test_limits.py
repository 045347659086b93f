"""The emulator's busy-server limits: a per-project concurrency cap and a memory limit."""

from __future__ import annotations

import threading

import httpx

GRID = {"dimensions": {"width": 40, "height": 30}, "crsCode": "EPSG:32633",
        "affineTransform": {"scaleX": 10, "scaleY": -10, "translateX": 500000, "translateY": 4100000}}
ASSET = "projects/eerest/assets/sample/scenes/20240504"
AUTH = {"Authorization": "Bearer x"}


def get_pixels(url: str, grid: dict = GRID) -> httpx.Response:
    return httpx.post(f"{url}/v1/{ASSET}:getPixels", json={"fileFormat": "NPY", "grid": grid}, headers=AUTH)


def test_concurrency_cap_answers_429_beyond_it(ee_emulator) -> None:
    ee_emulator.faults.set_limits(max_concurrent=2)
    ee_emulator.faults.slow(0.5, count=3)
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
