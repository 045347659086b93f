"""The batch methods: ``projects.operations.*`` (get, list, cancel, delete, wait), exports
(``image.export``, ``table.export``) and ingestion (``image.import``, ``table.import``), each
submitting an operation to the `OperationQueue` whose work writes files or assets (`_exports`).
Mixed into `App`, like `ApiRoutes`, whose dispatcher finds these handlers through `ROUTES`.
"""

from __future__ import annotations

import re
from typing import Any

from ._algorithms import Context
from ._asset_writes import AssetWriter
from ._discovery import VERSIONS
from ._errors import ApiError, invalid_argument
from ._exports import Storage, image_export_work, image_import_work, table_export_work, table_import_work
from ._expression import evaluate
from ._http import Request, Response
from ._image import Image
from ._listing import decode_page_token, encode_page_token
from ._messages import build_message, parse_query, parse_request
from ._operations import OperationQueue, operation_filter
from ._store import AssetStore
from ._values import FeatureCollection

__all__ = ["ROUTES", "METHOD_IDS", "TaskRoutes"]

_V = "(" + "|".join(VERSIONS) + ")"
_OP = r"(projects/[^/]+/operations/[^:]+)"
ROUTES = [
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+)/operations$"), "list_operations"),
    ("POST", re.compile(rf"^/{_V}/{_OP}:cancel$"), "cancel_operation"),
    ("POST", re.compile(rf"^/{_V}/{_OP}:wait$"), "wait_operation"),
    ("GET", re.compile(rf"^/{_V}/{_OP}$"), "get_operation"),
    ("DELETE", re.compile(rf"^/{_V}/{_OP}$"), "delete_operation"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/image:export$"), "export_image"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/table:export$"), "export_table"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/image:import$"), "import_image"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/table:import$"), "import_table"),
]
METHOD_IDS = {
    "list_operations": "projects.operations.list",
    "cancel_operation": "projects.operations.cancel",
    "wait_operation": "projects.operations.wait",
    "get_operation": "projects.operations.get",
    "delete_operation": "projects.operations.delete",
    "export_image": "projects.image.export",
    "export_table": "projects.table.export",
    "import_image": "projects.image.import",
    "import_table": "projects.table.import",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d{0,9})?)s\s*$")
_DEFAULT_PAGE_SIZE = 1000


class TaskRoutes:
    """Operations, exports and ingestion; mixed into `App`, which sets up the state below."""

    store: AssetStore
    operations: OperationQueue
    writer: AssetWriter
    storage: Storage

    def _operation(self, version: str, op: Any) -> Response:
        return Response.json(build_message(version, "Operation", self.operations.snapshot(op)))

    # -- operations ---------------------------------------------------------------------
    def get_operation(self, req: Request, version: str, name: str) -> Response:
        return self._operation(version, self.operations.get(name))

    def delete_operation(self, req: Request, version: str, name: str) -> Response:
        self.operations.delete(name)
        return Response.json({})

    def cancel_operation(self, req: Request, version: str, name: str) -> Response:
        parse_request(version, "CancelOperationRequest", req.body)
        self.operations.cancel(name)
        return Response.json({})

    def wait_operation(self, req: Request, version: str, name: str) -> Response:
        body = parse_request(version, "WaitOperationRequest", req.body)
        timeout = None
        if body.get("timeout") is not None:
            m = _DURATION.match(str(body["timeout"]))
            if m is None:
                raise invalid_argument(
                    f"Invalid value at 'timeout' (type.googleapis.com/google.protobuf.Duration), \"{body['timeout']}\""
                )
            timeout = float(m.group(1))
        return self._operation(version, self.operations.wait(name, timeout))

    def list_operations(self, req: Request, version: str, project: str) -> Response:
        query = parse_query(version, "projects.operations.list", req.query)
        keep = operation_filter(query.get("filter") or "")
        page_size = query.get("pageSize") or _DEFAULT_PAGE_SIZE
        if page_size < 0:
            raise invalid_argument("page_size must not be negative.")
        scope = f"operations {project} {query.get('filter') or ''}"
        offset = 0
        if query.get("pageToken"):
            got = decode_page_token(query["pageToken"], scope)
            if got is None:
                raise invalid_argument("Invalid page token.")
            offset = got
        ops = [s for s in (self.operations.snapshot(op) for op in self.operations.list(project)) if keep(s)]
        out: dict[str, Any] = {"operations": ops[offset : offset + page_size]}
        if offset + page_size < len(ops):
            out["nextPageToken"] = encode_page_token(offset + page_size, scope)
        if not out["operations"]:
            del out["operations"]
        return Response.json(build_message(version, "ListOperationsResponse", out))

    # -- exports ------------------------------------------------------------------------
    def _evaluate(self, body: dict[str, Any]) -> Any:
        if "expression" not in body:
            raise invalid_argument("Request is missing required field 'expression'.")
        return evaluate(body["expression"], Context(self.store))

    def _submit(self, version: str, project: str, kind: str, body: dict[str, Any], work: Any, uris: list[str]) -> Response:
        op = self.operations.submit(
            project, version, kind, work, description=body.get("description") or "", priority=body.get("priority"),
            request_id=body.get("requestId"), destination_uris=uris,
        )
        return self._operation(version, op)

    def export_image(self, req: Request, version: str, project: str) -> Response:
        body = parse_request(version, "ExportImageRequest", req.body)
        _one_destination(body, ("fileExportOptions", "assetExportOptions"))
        image = self._evaluate(body)
        if not isinstance(image, Image):
            raise invalid_argument("ExportImage: the expression must evaluate to an Image.")
        work, uris = image_export_work(image, body, self.storage, self.writer)
        return self._submit(version, project, "EXPORT_IMAGE", body, work, uris)

    def export_table(self, req: Request, version: str, project: str) -> Response:
        body = parse_request(version, "ExportTableRequest", req.body)
        _one_destination(body, ("fileExportOptions", "assetExportOptions", "bigqueryExportOptions", "featureViewExportOptions"))
        fc = self._evaluate(body)
        if not isinstance(fc, FeatureCollection):
            raise invalid_argument("ExportTable: the expression must evaluate to a FeatureCollection.")
        work, uris = table_export_work(fc, body, self.storage, self.writer)
        return self._submit(version, project, "EXPORT_FEATURES", body, work, uris)

    # -- ingestion ----------------------------------------------------------------------
    def import_image(self, req: Request, version: str, project: str) -> Response:
        body = parse_request(version, "ImportImageRequest", req.body)
        work, uris = image_import_work(body.get("imageManifest") or {}, bool(body.get("overwrite")), self.storage, self.writer)
        return self._submit(version, project, "INGEST_IMAGE", body, work, uris)

    def import_table(self, req: Request, version: str, project: str) -> Response:
        body = parse_request(version, "ImportTableRequest", req.body)
        work, uris = table_import_work(body.get("tableManifest") or {}, bool(body.get("overwrite")), self.storage, self.writer)
        return self._submit(version, project, "INGEST_TABLE", body, work, uris)


def _one_destination(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    given = [f for f in fields if f in body]
    if len(given) != 1:
        raise ApiError(
            400, f"Exactly one of {', '.join(fields)} must be set" + (f" (got {', '.join(given)})." if given else "."),
            "INVALID_ARGUMENT",
        )
