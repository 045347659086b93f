"""eerest: a typed Python SDK for the Google Earth Engine REST API."""

from pkgutil import extend_path

# Hand-written code lives in src/eerest, generated code in generated/eerest; in a
# wheel they are one directory, in a source checkout this joins them.
__path__ = extend_path(__path__, __name__)

from ._version import __version__

__all__ = ["__version__"]
