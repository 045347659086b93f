"""The pytest plugin as a user's project meets it: no conftest, no configuration, async
tests on pytest-asyncio in its default (strict) mode."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # a pytest run in a subprocess

USER_TESTS = '''
import pytest

SCENE = "projects/eerest/assets/sample/scenes/20240504"


def test_sync(ee_client):
    assert ee_client.projects.assets.get(name=SCENE).type == "IMAGE"


@pytest.mark.asyncio
async def test_async(ee_async_client, ee_emulator):
    asset = await ee_async_client.projects.assets.get(name=SCENE)
    assert [b.id for b in asset.bands] == ["blue", "green", "red", "nir"]
    assert ee_emulator.requests[-1].path.endswith("/20240504")


def test_faults_and_the_log_are_cleared_between_tests(ee_emulator, ee_emulator_session):
    assert ee_emulator is ee_emulator_session  # one server per session
    assert not ee_emulator.faults.pending() and not ee_emulator.requests
    ee_emulator.faults.fail(503, count=5)  # must not leak into the next test


def test_after_a_fault_was_left_armed(ee_client):
    assert ee_client.projects.assets.get(name=SCENE).type == "IMAGE"
'''


def test_fixtures_work_without_any_configuration(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::pytest.PytestUnraisableExceptionWarning")
    result.assert_outcomes(passed=4)
