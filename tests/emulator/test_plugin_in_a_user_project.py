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
'''


def test_fixtures_work_without_any_configuration(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::pytest.PytestUnraisableExceptionWarning")
    result.assert_outcomes(passed=2)
