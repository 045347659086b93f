"""eerest: a typed Python SDK for the Google Earth Engine REST API.

``eerest.Client`` / ``eerest.AsyncClient`` are the v1 clients; ``eerest.v1alpha``,
``eerest.v1beta`` and ``eerest.v1`` hold each version's clients and ``types``.

Every public name is imported when first used, so ``import eerest`` costs almost nothing
and a program pays only for what it touches (numpy only for pixels and limits, an API
version's types only when that version is used, extras never). The names are listed once,
in ``__init__.pyi``: add a public name there, as one line.
"""

from ._lazy import attach

__getattr__, __dir__ = attach(__name__, __file__)
del attach
