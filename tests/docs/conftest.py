from eerest.testing import ee_emulator, ee_emulator_session  # noqa: F401
