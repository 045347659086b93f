"""Request bodies and query strings parsed, and response bodies shaped, by the emulator's
discovery documents (`_discovery.document`), never by the SDK's generated classes.

Handlers see camelCase JSON dicts, already checked: a bad request is a 400 INVALID_ARGUMENT
with Google's wording and a google.rpc.BadRequest detail naming the field. A response the
emulator builds that its own schema refuses is the emulator's bug: a 500 saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._discovery import document, method_spec
from ._errors import ApiError, invalid_argument
from ._schema import FieldViolation, check_message, check_query

__all__ = ["parse_request", "parse_query", "build_message"]

_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def _package(version: str) -> str:
    return f"google.earthengine.{version}"


def _rejected(e: FieldViolation) -> ApiError:
    err = invalid_argument(e.message)
    err.details = [{"@type": _BAD_REQUEST, "fieldViolations": [{"field": e.field, "description": e.message}]}]
    return err


def parse_request(version: str, schema: str, body: bytes) -> dict[str, Any]:
    """Decode a JSON request body and check it as message `schema`; a 400 if it is not one."""
    if not body.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise invalid_argument(f"Invalid JSON payload received. {e}") from None
        except RecursionError:
            raise invalid_argument("Invalid JSON payload received. Message nested too deeply.") from None
    try:
        return check_message(document(version)["schemas"], schema, data, package=_package(version))
    except FieldViolation as e:
        raise _rejected(e) from None
    except RecursionError:
        raise invalid_argument("Invalid JSON payload received. Message nested too deeply.") from None


def parse_query(version: str, method_id: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
    """The query parameters of a call of `method_id` (e.g. ``projects.assets.listAssets``), checked."""
    try:
        return check_query(method_spec(version, method_id)["parameters"], query)
    except FieldViolation as e:
        raise _rejected(e) from None


def build_message(version: str, schema: str, data: dict[str, Any], *, source: Path | None = None) -> dict[str, Any]:
    """A response body checked and normalised as message `schema` (int64 as strings); `source`
    names the data file it comes from, to blame when it does not fit."""
    try:
        return check_message(document(version)["schemas"], schema, data, package=_package(version))
    except FieldViolation as e:
        if source is not None:
            raise ApiError(500, f"The asset file {source} does not hold a valid {schema}: {e.message}") from None
        raise ApiError(500, f"The emulator built an invalid {schema} ({e.message}); this is a bug in the emulator.") from None
