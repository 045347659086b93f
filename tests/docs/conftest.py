from eerest_emulator.testing import ee_emulator, ee_emulator_session  # noqa: F401

from tests.docs.doc_blocks import docs_namespace  # noqa: F401
