"""Build ``schema/earthengine.{v1alpha,v1beta,v1}.json`` from the sources vendored in
``schema/sources/`` (see ``schema/README.md``): ``python -m codegen.build_schema``.

The reference pages are the source (``pages.py`` reads them, ``assemble.py`` turns one
version's pages into a discovery document); the supplement and Google's shared types fill
in what the pages link to but do not show. The output is what ``codegen.update_schema``
would write for the same document (``codegen.normalize``), byte for byte on every run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..normalize import dumps, normalize
from . import google_types, sources
from .assemble import build_document
from .model import FieldDef, Page, TypeExpr
from .pages import read_page

__all__ = ["build", "build_all", "read_pages", "read_supplement_fields", "revision", "schema_file"]


def revision() -> str:
    """The documents' ``revision``: the day the reference pages were captured, as Google
    writes revisions (``YYYYMMDD``)."""
    return sources.REFERENCE_SNAPSHOT.replace("-", "")


def read_pages(folder: Path) -> dict[str, Page]:
    """Every page under ``folder``, by path relative to it (``projects.assets/get.md``)."""
    return {
        rel: read_page(folder, rel)
        for rel in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.md"))
    }


_SCALARS = ("boolean", "string", "integer", "number")


def read_supplement_fields(path: Path) -> dict[str, tuple[FieldDef, ...]]:
    """``supplement/fields.yaml``: by message, the fields the pages omit that Google's clients send."""
    import yaml

    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    out: dict[str, tuple[FieldDef, ...]] = {}
    for message, fields in (raw or {}).items():
        defs = []
        for name, spec in (fields or {}).items():
            where = f"{path.name}: {message}.{name}"
            if not isinstance(spec, dict) or spec.get("type") not in _SCALARS or not spec.get("evidence"):
                raise ValueError(f"{where}: needs a type ({', '.join(_SCALARS)}), a description and evidence")
            defs.append(FieldDef(name, TypeExpr(spec["type"]), False, " ".join(str(spec.get("description", "")).split()),
                                 False, where))
        out[message] = tuple(defs)
    return out


def build(version: str, root: Path = sources.ROOT) -> dict[str, Any]:
    """The normalised discovery document of ``version``."""
    base = root / sources.SOURCES.relative_to(sources.ROOT)
    service = json.loads((base / sources.SERVICE.name).read_text(encoding="utf-8"))
    doc = build_document(
        version,
        revision(),
        service,
        read_pages(base / sources.REFERENCE.name / version),
        read_pages(base / sources.SUPPLEMENT.name),
        google_types.load(root / sources.GOOGLE_TYPES.relative_to(sources.ROOT)),
        read_supplement_fields(root / sources.SUPPLEMENT_FIELDS.relative_to(sources.ROOT)),
    )
    return normalize(doc)


def schema_file(version: str, root: Path = sources.ROOT) -> Path:
    return root / "schema" / f"earthengine.{version}.json"


def build_all(root: Path = sources.ROOT) -> dict[Path, str]:
    """Each schema file's path and the text the builder writes there."""
    return {schema_file(v, root): dumps(build(v, root)) for v in sources.VERSIONS}
