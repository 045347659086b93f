"""Optional dependencies: the error that names the extra to install."""

__all__ = ["missing_extra"]


def missing_extra(what: str, module: str, extra: str) -> ImportError:
    """The error for an optional dependency that is not installed, naming the install to run."""
    return ImportError(f"{what} needs {module}, which is not installed: pip install 'eerest[{extra}]'")
