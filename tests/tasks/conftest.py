"""The emulator fixtures (eerest_emulator.testing) for compute_value, thumbnails, maps and exports end to end."""

from __future__ import annotations

import sys
from pathlib import Path

EMULATOR_TESTS = Path(__file__).resolve().parents[2] / "emulator" / "tests"

if EMULATOR_TESTS.is_dir():
    sys.path.insert(0, str(EMULATOR_TESTS))
    from eerest_emulator.testing import ee_async_client, ee_client, ee_emulator, ee_emulator_session  # noqa: F401
else:  # an unpacked eerest sdist: the emulator is another distribution's
    collect_ignore_glob = ["test_emulator.py"]
