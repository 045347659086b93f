"""The part of a discovery document the generator emits: the methods ``config.yaml``
selects (``include_methods``) and the schemas they reach. ``codegen diff`` and
``update_schema`` judge changes on this surface, not on the whole document."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["include_methods_for", "surface"]


def _selected_resource(body: Mapping[str, Any], path: tuple[str, ...], name: str, keep: frozenset[str]) -> dict[str, Any] | None:
    methods = {
        m: spec
        for m, spec in sorted((body.get("methods") or {}).items())
        if ".".join((*path, m)) in keep or _short_id(spec.get("id", ""), name) in keep
    }
    resources = {}
    for child, child_body in sorted((body.get("resources") or {}).items()):
        selected = _selected_resource(child_body, (*path, child), name, keep)
        if selected is not None:
            resources[child] = selected
    if not methods and not resources:
        return None
    out = {k: v for k, v in body.items() if k not in ("methods", "resources")}
    if methods:
        out["methods"] = methods
    if resources:
        out["resources"] = resources
    return out


def _short_id(method_id: str, api_name: str) -> str:
    return method_id[len(api_name) + 1 :] if method_id.startswith(api_name + ".") else method_id


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def surface(doc: Mapping[str, Any], include_methods: Iterable[str] = ()) -> dict[str, Any]:
    """``doc`` cut down to the selected methods (ids without the API name; none: all) and
    the schemas their requests and responses reach. Everything else is kept as is."""
    keep = frozenset(include_methods)
    if not keep:
        return dict(doc)
    name = str(doc.get("name", ""))
    top = _selected_resource({"resources": doc.get("resources") or {}}, (), name, keep) or {}
    resources = top.get("resources", {})
    schemas = doc.get("schemas") or {}
    reached: set[str] = set()
    pending = list(_refs(resources))
    while pending:
        ref = pending.pop()
        if ref in reached or ref not in schemas:
            continue
        reached.add(ref)
        pending.extend(_refs(schemas[ref]))
    out = {k: v for k, v in doc.items() if k not in ("resources", "schemas", "methods")}
    out["resources"] = resources
    out["schemas"] = {k: schemas[k] for k in sorted(reached)}
    return out


def include_methods_for(doc: Mapping[str, Any], root: Path) -> frozenset[str]:
    """The project's ``include_methods`` when ``doc`` is one of the APIs ``config.yaml``
    generates (same API name), else nothing (the whole document is the surface)."""
    import json

    from .config import load_config
    from .pipeline import CONFIG_PATH

    config_path = root / CONFIG_PATH
    if not config_path.exists():
        return frozenset()
    config = load_config(config_path)
    for target in config.apis:
        schema = root / target.schema
        if schema.exists() and json.loads(schema.read_text(encoding="utf-8")).get("name") == doc.get("name"):
            return frozenset(config.options.include_methods)
    return frozenset()
