"""Fault injection: errors with/without Retry-After, slow answers, truncated bodies; handle and admin API."""

from __future__ import annotations

import time

import httpx
import pytest
from emulator_helpers import SCENE

URL = f"/v1/{SCENE}:getPixels"
BODY = {"fileFormat": "NPY", "bandIds": ["nir"]}


@pytest.mark.parametrize("status,name", [(429, "RESOURCE_EXHAUSTED"), (503, "UNAVAILABLE")])
def test_next_n_requests_fail(http, ee_emulator, status, name):
    ee_emulator.faults.fail(status, count=2, retry_after=3)
    for _ in range(2):
        r = http.post(URL, json=BODY)
        assert r.status_code == status and r.headers["retry-after"] == "3"
        assert r.json()["error"]["status"] == name
    assert http.post(URL, json=BODY).status_code == 200


def test_fail_without_retry_after_and_path_filter(http, ee_emulator):
    ee_emulator.inject("error", status=503, path=":computePixels")
    assert http.post(URL, json=BODY).status_code == 200  # not matched
    r = http.post("/v1/projects/eerest/image:computePixels", json={})
    assert r.status_code == 503 and "retry-after" not in r.headers


def test_slow(http, ee_emulator):
    ee_emulator.faults.slow(0.3)
    t = time.perf_counter()
    assert http.post(URL, json=BODY).status_code == 200
    assert time.perf_counter() - t >= 0.3


def test_truncated_body(ee_emulator, http):
    ee_emulator.faults.truncate(fraction=0.5)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(URL, json=BODY)
    assert http.post(URL, json=BODY).status_code == 200


def test_admin_endpoint(ee_emulator, http):
    r = httpx.post(f"{ee_emulator.url}/_emulator/faults", json={"kind": "error", "status": 429, "count": 1, "retryAfter": 1.5})
    assert r.status_code == 200 and r.json()["faults"][0]["status"] == 429
    assert len(httpx.get(f"{ee_emulator.url}/_emulator/faults").json()["faults"]) == 1
    r = http.post(URL, json=BODY)
    assert r.status_code == 429 and r.headers["retry-after"] == "1.5"
    httpx.post(f"{ee_emulator.url}/_emulator/faults", json=[{"kind": "slow", "delay": 0.1}, {"kind": "truncate"}])
    assert len(ee_emulator.faults.pending()) == 2
    assert httpx.delete(f"{ee_emulator.url}/_emulator/faults").status_code == 200
    assert ee_emulator.faults.pending() == []
    assert httpx.post(f"{ee_emulator.url}/_emulator/faults", json={"kind": "explode"}).status_code == 400


def test_faults_are_cleared_between_tests_part1(ee_emulator):
    ee_emulator.faults.fail(503, count=100)


def test_faults_are_cleared_between_tests_part2(ee_emulator, http):
    assert http.post(URL, json=BODY).status_code == 200


@pytest.mark.parametrize("fraction", [0.0, 0.5])
def test_reset_connection(ee_emulator, http, fraction):
    """A reset before any answer, or mid-body: the client's read fails with a reset (RST,
    not a clean close), and the next request is answered."""
    ee_emulator.faults.reset(fraction=fraction, path=":getPixels")
    with pytest.raises(httpx.ReadError) as info:
        http.post(URL, json=BODY)
    assert "reset" in str(info.value).lower() or isinstance(info.value.__cause__, ConnectionResetError)
    assert http.post(URL, json=BODY).status_code == 200
    statuses = [r.status for r in ee_emulator.requests]
    assert statuses == [None if fraction == 0 else 200, 200]


def test_reset_through_the_admin_endpoint(ee_emulator, http):
    r = httpx.post(f"{ee_emulator.url}/_emulator/faults", json={"kind": "reset", "fraction": 0.25, "count": 2})
    assert r.status_code == 200 and r.json()["faults"][0]["kind"] == "reset"
    for _ in range(2):
        with pytest.raises(httpx.ReadError):
            http.post(URL, json=BODY)
    assert http.post(URL, json=BODY).status_code == 200
