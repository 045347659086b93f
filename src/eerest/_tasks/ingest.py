"""The request of an ingestion (``image.import``, ``table.import``) from a manifest: pure but
for the fresh ``requestId`` that makes a retried request start one task, not two."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from eerest._tasks.submit import new_request_id
from eerest.errors import InvalidRequestError

__all__ = ["INGEST_METHODS", "import_call"]

#: What each kind of ingestion calls, and the request field its manifest goes in.
INGEST_METHODS: Mapping[str, tuple[str, str, str]] = {
    "image": ("projects.image.import", "imageManifest", "ImageManifest"),
    "table": ("projects.table.import", "tableManifest", "TableManifest"),
}


def import_call(
    kind: Literal["image", "table"],
    manifest: Any,
    *,
    overwrite: bool | None = None,
    description: str | None = None,
    request_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The method id and JSON body that ingest ``manifest`` (a typed manifest or its dict form)."""
    method, field, type_name = INGEST_METHODS[kind]
    if hasattr(manifest, "to_dict") and type(manifest).__name__ == type_name:
        body_manifest = dict(manifest.to_dict())
    elif isinstance(manifest, Mapping):
        body_manifest = dict(manifest)
    else:
        raise InvalidRequestError(
            f"import_{kind}: the manifest must be a types.{type_name} or a dict of its fields, "
            f"not {type(manifest).__name__}"
        )
    if not body_manifest.get("name"):
        raise InvalidRequestError(
            f"import_{kind}: the manifest has no 'name': give the asset to create, "
            "e.g. 'projects/my-project/assets/my-asset'"
        )
    body: dict[str, Any] = {field: body_manifest, "requestId": request_id or new_request_id()}
    if overwrite is not None:
        body["overwrite"] = overwrite
    if description is not None:
        body["description"] = description
    return method, body
