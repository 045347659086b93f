"""The pytest plugin as a user meets it: installed eerest-emulator, fixtures with no import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = '''
import asyncio

import pytest

SCENE = "projects/eerest/assets/sample/scenes/20240504"


def test_sync(ee_client, ee_emulator):
    assert ee_client.projects.assets.get(name=SCENE).bands[0].id == "blue"
    assert [r.path for r in ee_emulator.requests] == ["/v1/" + SCENE]


def test_faults_are_cleared_between_tests(ee_emulator):
    assert not ee_emulator.faults.pending() and not ee_emulator.requests
    ee_emulator.faults.fail(503, count=5)


def test_async(ee_async_client):
    async def main():
        async with ee_async_client as client:
            return (await client.projects.assets.get(name=SCENE)).type

    assert str(asyncio.run(main())).endswith("IMAGE")


def test_one_server_per_session(ee_emulator_session, ee_emulator):
    assert ee_emulator_session is ee_emulator and ee_emulator.url.startswith("http://127.0.0.1:")
'''


def test_fixtures_come_from_the_installed_plugin(tmp_path: Path):
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout
