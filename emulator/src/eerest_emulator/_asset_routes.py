"""The methods that change assets and projects: ``projects.assets.create/copy/move/patch/delete``,
the assets' IAM policies (``getIamPolicy``, ``setIamPolicy``, ``testIamPermissions``) and
``projects.getConfig``/``updateConfig``, over the `AssetWriter`. Mixed into `App`; the
dispatcher of `ApiRoutes` finds these handlers through `ROUTES`.
"""

from __future__ import annotations

import re
from typing import Any

from ._asset_writes import AssetWriter
from ._discovery import VERSIONS
from ._errors import invalid_argument
from ._http import Request, Response
from ._messages import build_message, parse_query, parse_request
from ._response_cache import ResponseCache
from ._store import normalize_asset_name

__all__ = ["ROUTES", "METHOD_IDS", "AssetRoutes"]

_V = "(" + "|".join(VERSIONS) + ")"
_ASSET = r"(projects/[^/]+/assets/[^:]+)"
ROUTES = [
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/assets$"), "create_asset"),
    ("POST", re.compile(rf"^/{_V}/{_ASSET}:copy$"), "copy_asset"),
    ("POST", re.compile(rf"^/{_V}/{_ASSET}:move$"), "move_asset"),
    ("POST", re.compile(rf"^/{_V}/{_ASSET}:getIamPolicy$"), "get_iam_policy"),
    ("POST", re.compile(rf"^/{_V}/{_ASSET}:setIamPolicy$"), "set_iam_policy"),
    ("POST", re.compile(rf"^/{_V}/{_ASSET}:testIamPermissions$"), "test_iam_permissions"),
    ("PATCH", re.compile(rf"^/{_V}/{_ASSET}$"), "patch_asset"),
    ("DELETE", re.compile(rf"^/{_V}/{_ASSET}$"), "delete_asset"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+)/config$"), "get_config"),
    ("PATCH", re.compile(rf"^/{_V}/(projects/[^/]+)/config$"), "update_config"),
]
METHOD_IDS = {
    "create_asset": "projects.assets.create",
    "copy_asset": "projects.assets.copy",
    "move_asset": "projects.assets.move",
    "get_iam_policy": "projects.assets.getIamPolicy",
    "set_iam_policy": "projects.assets.setIamPolicy",
    "test_iam_permissions": "projects.assets.testIamPermissions",
    "patch_asset": "projects.assets.patch",
    "delete_asset": "projects.assets.delete",
    "get_config": "projects.getConfig",
    "update_config": "projects.updateConfig",
}
#: Permissions testIamPermissions knows (the caller, the owner, holds them all).
_PERMISSIONS = re.compile(r"^earthengine\.[A-Za-z]+\.[A-Za-z]+$")


def _mask(value: Any) -> list[str]:
    if not value:
        return []
    return [p.strip() for p in str(value).split(",") if p.strip()]


class AssetRoutes:
    """Asset changes, IAM and project configs; mixed into `App`, which sets up the state below."""

    writer: AssetWriter
    cache: ResponseCache
    _asset_message: Any  # ApiRoutes._asset_message(version, record)

    def _changed(self) -> None:
        self.cache.clear()  # answers computed from the assets before the change

    def create_asset(self, req: Request, version: str, parent: str) -> Response:
        query = parse_query(version, "projects.assets.create", req.query)
        body = parse_request(version, "EarthEngineAsset", req.body)
        asset_id = query.get("assetId")
        if asset_id:
            name = f"{parent}/assets/{asset_id.strip('/')}"
        elif body.get("name"):
            name = normalize_asset_name(body["name"])
            if not name.startswith(parent + "/assets/"):
                raise invalid_argument(f"Asset name '{name}' is not in '{parent}'.")
        else:
            raise invalid_argument("Request is missing required field 'assetId' (or the asset's 'name').")
        rec = self.writer.create(name, body, bool(query.get("overwrite")))
        self._changed()
        return Response.json(self._asset_message(version, rec))

    def copy_asset(self, req: Request, version: str, source: str) -> Response:
        body = parse_request(version, "CopyAssetRequest", req.body)
        dest = _destination(body)
        rec = self.writer.copy(source, dest, bool(body.get("overwrite")))
        self._changed()
        return Response.json(self._asset_message(version, rec))

    def move_asset(self, req: Request, version: str, source: str) -> Response:
        body = parse_request(version, "MoveAssetRequest", req.body)
        rec = self.writer.move(source, _destination(body))
        self._changed()
        return Response.json(self._asset_message(version, rec))

    def patch_asset(self, req: Request, version: str, name: str) -> Response:
        body = parse_request(version, "UpdateAssetRequest", req.body)
        rec = self.writer.patch(name, body.get("asset") or {}, _mask(body.get("updateMask")))
        self._changed()
        return Response.json(self._asset_message(version, rec))

    def delete_asset(self, req: Request, version: str, name: str) -> Response:
        self.writer.delete(name)
        self._changed()
        return Response.json({})

    def get_iam_policy(self, req: Request, version: str, name: str) -> Response:
        parse_request(version, "GetIamPolicyRequest", req.body)
        return Response.json(build_message(version, "Policy", self.writer.get_policy(name)))

    def set_iam_policy(self, req: Request, version: str, name: str) -> Response:
        body = parse_request(version, "SetIamPolicyRequest", req.body)
        if "policy" not in body:
            raise invalid_argument("Request is missing required field 'policy'.")
        policy = self.writer.set_policy(name, body["policy"], _mask(body.get("updateMask")))
        return Response.json(build_message(version, "Policy", policy))

    def test_iam_permissions(self, req: Request, version: str, name: str) -> Response:
        body = parse_request(version, "TestIamPermissionsRequest", req.body)
        self.writer.store.get(name)
        perms = body.get("permissions") or []
        bad = [p for p in perms if not _PERMISSIONS.match(p)]
        if bad:
            raise invalid_argument(f"Permission '{bad[0]}' is not valid for this resource.")
        out = {"permissions": perms} if perms else {}
        return Response.json(build_message(version, "TestIamPermissionsResponse", out))

    def get_config(self, req: Request, version: str, project: str) -> Response:
        return Response.json(build_message(version, "ProjectConfig", self.writer.get_config(project)))

    def update_config(self, req: Request, version: str, project: str) -> Response:
        query = parse_query(version, "projects.updateConfig", req.query)
        body = parse_request(version, "ProjectConfig", req.body)
        config = self.writer.update_config(project, body, _mask(query.get("updateMask")))
        return Response.json(build_message(version, "ProjectConfig", config))


def _destination(body: dict[str, Any]) -> str:
    dest = body.get("destinationName")
    if not dest:
        raise invalid_argument("Request is missing required field 'destinationName'.")
    return normalize_asset_name(dest)
