from eerest_emulator.testing import ee_emulator, ee_emulator_session  # noqa: F401
