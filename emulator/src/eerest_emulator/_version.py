"""The single source of truth for eerest-emulator's version."""

__version__ = "0.1.0"
