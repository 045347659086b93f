"""Reading ``codegen/config.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .discovery import Options, OverlayBinding

__all__ = ["ApiTarget", "Config", "load_config"]


@dataclass(frozen=True)
class ApiTarget:
    schema: str  # path relative to the project root
    package: str  # dotted package name, e.g. "eerest.v1"


@dataclass(frozen=True)
class Config:
    output: str
    apis: tuple[ApiTarget, ...]
    options: Options
    scopes: tuple[str, ...] = ()
    type_imports: tuple[str, ...] = field(default_factory=tuple)
    # Hand-written classes the generated clients inherit from ("module:Class"), by kind.
    sync_mixins: tuple[str, ...] = ()
    async_mixins: tuple[str, ...] = ()

    def options_for(self, target: ApiTarget) -> Options:
        return Options(
            include_methods=self.options.include_methods,
            enum_names=self.options.enum_names,
            overlays=self.options.overlays,
            source=target.schema,
        )


def load_config(path: Path) -> Config:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    overlays = {
        method: OverlayBinding(
            overlay=body["overlay"],
            returns=body.get("returns"),
            extra_params=tuple(
                (p["name"], p["annotation"], str(p.get("default", "None")), " ".join(str(p.get("doc", "")).split()))
                for p in body.get("extra_params") or ()
            ),
        )
        for method, body in (raw.get("overlays") or {}).items()
    }
    return Config(
        output=raw.get("output", "src"),
        apis=tuple(ApiTarget(a["schema"], a["package"]) for a in raw.get("apis") or ()),
        options=Options(
            include_methods=frozenset(raw.get("include_methods") or ()),
            enum_names=dict(raw.get("enum_names") or {}),
            overlays=overlays,
        ),
        scopes=tuple(raw.get("scopes") or ()),
        type_imports=tuple(raw.get("type_imports") or ()),
        sync_mixins=tuple((raw.get("client_mixins") or {}).get("sync") or ()),
        async_mixins=tuple((raw.get("client_mixins") or {}).get("async") or ()),
    )
