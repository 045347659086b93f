"""The single source of truth for eerest's version."""

__version__ = "0.1.0"
