"""Parsing request bodies and building response bodies, through the generated message classes.

When the generated `eerest.<version>.types` module is importable, bodies are validated
and normalised by its pydantic classes (`Model.model_validate` / `model_dump(by_alias=True)`);
otherwise plain JSON dicts are used, checked against the discovery document's field names.
Either way handlers see camelCase JSON dicts.
"""

from __future__ import annotations

import functools
import importlib
import json
from typing import Any

from ._discovery import request_fields
from ._errors import invalid_argument

__all__ = ["parse_request", "build_message", "types_module"]


@functools.cache
def types_module(version: str) -> Any | None:
    """The generated `eerest.<version>.types` module, or None before it exists."""
    try:
        return importlib.import_module(f"eerest.{version}.types")
    except ImportError:
        return None


def _model(version: str, name: str) -> Any | None:
    mod = types_module(version)
    return getattr(mod, name, None) if mod is not None else None


def parse_request(version: str, schema: str, body: bytes) -> dict[str, Any]:
    """Decode and validate a JSON request body of message type `schema`; a 400 if invalid."""
    if not body.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise invalid_argument(f"Invalid JSON payload received. {e}") from None
    if not isinstance(data, dict):
        raise invalid_argument(
            "Invalid JSON payload received. Expected an object for the request body."
        )
    fields = request_fields(version, schema)
    if fields is not None:
        for k in data:
            if k not in fields:
                raise invalid_argument(f'Invalid JSON payload received. Unknown name "{k}": Cannot find field.')
    model = _model(version, schema)
    if model is not None:
        try:
            m = model.model_validate(data)
        except Exception as e:  # pydantic.ValidationError; kept generic to avoid importing pydantic here
            raise invalid_argument(f"Invalid JSON payload received. {_first_line(e)}") from None
        data = m.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data


def build_message(version: str, schema: str, data: dict[str, Any]) -> dict[str, Any]:
    """Normalise a response body through the generated class of `schema` when there is one."""
    model = _model(version, schema)
    if model is None:
        return data
    return model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_unset=True)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return " ".join(t.strip() for t in text[:3])
