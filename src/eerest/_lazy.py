"""Public names of a package, imported when first used (PEP 562).

The package's ``__init__.pyi`` is the one list of its public names: type checkers read it
as they read any stub, and :func:`attach` reads the same file (the first time a name is
asked for) to learn which module each name lives in. This is SPEC 1's ``lazy_loader``
stub scheme, in a few lines. A stub line may be

    from .module import name as name        # an attribute of a submodule
    from . import submodule as submodule    # a submodule
    import distribution_module as name      # a module shipped by another distribution
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # not imported from typing: importing eerest should not import typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["attach"]


def attach(package: str, init_file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, from the ``.pyi`` stub beside ``init_file``."""
    table: dict[str, tuple[str, str | None]] = {}  # public name -> (module, attribute or None)

    def names() -> dict[str, tuple[str, str | None]]:
        if not table:
            table.update(_read_stub(package, init_file[: -len(".py")] + ".pyi"))
        return table

    def __getattr__(name: str) -> Any:
        if name == "__all__":
            value: Any = sorted(names())
        elif name in names():
            module, attribute = names()[name]
            value = _load(package, name, module, attribute)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names()})

    return __getattr__, __dir__


def _read_stub(package: str, stub: str) -> dict[str, tuple[str, str | None]]:
    # The stub's lines have three shapes (module docstring): read with a pattern, not with
    # ast, whose import would cost more than reading the stub.
    import re

    line = re.compile(r"^(?:from \.(?P<module>[\w.]*) import (?P<name>\w+)|import (?P<other>[\w.]+)) as (?P<alias>\w+)")
    table: dict[str, tuple[str, str | None]] = {}
    with open(stub, encoding="utf-8") as f:
        for text in f:
            match = line.match(text)
            if match is None:
                continue
            module, name, other, alias = match.group("module", "name", "other", "alias")
            if other is not None:  # import other_distribution as name
                table[alias] = (other, None)
            elif module:  # from .module import name as name
                table[alias] = (f"{package}.{module}", name)
            else:  # from . import submodule as submodule
                table[alias] = (f"{package}.{name}", None)
    return table


def _load(package: str, name: str, module: str, attribute: str | None) -> Any:
    if module.startswith(package + "."):
        loaded = importlib.import_module(module)
        return loaded if attribute is None else getattr(loaded, attribute)
    try:  # a module of another distribution, e.g. eerest.emulator -> eerest_emulator
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
    distribution = module.replace("_", "-")
    raise ImportError(
        f"{package}.{name} is in a separate distribution: pip install {distribution}", name=module
    ) from None
