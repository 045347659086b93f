"""The emulator's own tests: the fixtures of its pytest plugin (``eerest_emulator.testing``)
and a raw httpx client. They need eerest-emulator and its test dependencies (pytest,
httpx, hypothesis; earthengine-api, xee and tifffile for the tests that skip without
them), never the SDK: ``cd emulator && python -m pytest tests``, or from the repository's
root as part of the project's suite.
"""

from __future__ import annotations

from eerest_emulator.testing import ee_emulator, ee_emulator_session  # noqa: F401
from emulator_helpers import http  # noqa: F401
