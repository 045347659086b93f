"""The CLI prints its URL first and serves; the sample generator is deterministic."""

from __future__ import annotations

import filecmp
import importlib.util
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

EMULATOR = Path(__file__).resolve().parents[1]  # the distribution: emulator/ here, or an unpacked sdist


@pytest.mark.slow
def test_cli_prints_url_and_serves(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "eerest_emulator", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        r = httpx.get(f"{url}/v1/projects/eerest/assets/sample/scenes", headers={"Authorization": "Bearer t"}, timeout=10)
        assert r.status_code == 200 and r.json()["type"] == "IMAGE_COLLECTION"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_cli_version():
    import eerest_emulator

    out = subprocess.run([sys.executable, "-m", "eerest_emulator", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"eerest-emulator {eerest_emulator.__version__}"


def test_sample_generator_reproduces_bundled_data(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sample_data", EMULATOR / "tools" / "make_sample_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(tmp_path)
    from eerest_emulator import BUNDLED_DATA

    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    bundled = sorted(p.relative_to(BUNDLED_DATA) for p in BUNDLED_DATA.rglob("*") if p.is_file())
    assert made == bundled
    for rel in made:
        assert filecmp.cmp(tmp_path / rel, BUNDLED_DATA / rel, shallow=False), rel
    assert sum((BUNDLED_DATA / p).stat().st_size for p in bundled) < 3_000_000
