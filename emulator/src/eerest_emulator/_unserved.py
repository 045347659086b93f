"""Earth Engine REST methods the emulator does not serve, listed so that clients can call them.

The official client reaches each method through the discovery document; a method missing
there fails inside the client with an AttributeError. So the served documents list these
too (paths as in Google's documents), and a call answers a 400 that names the method.
"""

from __future__ import annotations

import re
from functools import cache

from ._errors import ApiError, invalid_argument

__all__ = ["UNSERVED", "not_served", "unserved_method", "with_unserved_methods"]

_P = "^projects/[^/]+$"
#: method id -> (HTTP method, path after the version, path parameter, its pattern, request schema or None)
UNSERVED: dict[str, tuple[str, str, str, str, str | None]] = {
    "projects.assets.copy": ("POST", "{+sourceName}:copy", "sourceName", "^projects/[^/]+/assets/.*$", "CopyAssetRequest"),
    "projects.assets.create": ("POST", "{+parent}/assets", "parent", _P, "EarthEngineAsset"),
    "projects.assets.delete": ("DELETE", "{+name}", "name", "^projects/[^/]+/assets/.*$", None),
    "projects.assets.getIamPolicy": ("POST", "{+resource}:getIamPolicy", "resource", "^projects/[^/]+/assets/.*$", "GetIamPolicyRequest"),
    "projects.assets.listFeatures": ("GET", "{+parent}:listFeatures", "parent", "^projects/[^/]+/assets/.*$", None),
    "projects.assets.move": ("POST", "{+sourceName}:move", "sourceName", "^projects/[^/]+/assets/.*$", "MoveAssetRequest"),
    "projects.assets.patch": ("PATCH", "{+name}", "name", "^projects/[^/]+/assets/.*$", "UpdateAssetRequest"),
    "projects.assets.setIamPolicy": ("POST", "{+resource}:setIamPolicy", "resource", "^projects/[^/]+/assets/.*$", "SetIamPolicyRequest"),
    "projects.assets.testIamPermissions": ("POST", "{+resource}:testIamPermissions", "resource", "^projects/[^/]+/assets/.*$", "TestIamPermissionsRequest"),
    "projects.classifier.export": ("POST", "{+project}/classifier:export", "project", _P, "ExportClassifierRequest"),
    "projects.featureView.create": ("POST", "{+parent}/featureView", "parent", _P, "FeatureView"),
    "projects.filmstripThumbnails.create": ("POST", "{+parent}/filmstripThumbnails", "parent", _P, "FilmstripThumbnail"),
    "projects.filmstripThumbnails.getPixels": ("GET", "{+name}:getPixels", "name", "^projects/[^/]+/filmstripThumbnails/[^/]+$", None),
    "projects.getConfig": ("GET", "{+name}", "name", "^projects/[^/]+/config$", None),
    "projects.image.export": ("POST", "{+project}/image:export", "project", _P, "ExportImageRequest"),
    "projects.image.import": ("POST", "{+project}/image:import", "project", _P, "ImportImageRequest"),
    "projects.map.export": ("POST", "{+project}/map:export", "project", _P, "ExportMapRequest"),
    "projects.operations.cancel": ("POST", "{+name}:cancel", "name", "^projects/[^/]+/operations/.*$", "CancelOperationRequest"),
    "projects.operations.delete": ("DELETE", "{+name}", "name", "^projects/[^/]+/operations/.*$", None),
    "projects.operations.get": ("GET", "{+name}", "name", "^projects/[^/]+/operations/.*$", None),
    "projects.operations.list": ("GET", "{+name}/operations", "name", _P, None),
    "projects.operations.wait": ("POST", "{+name}:wait", "name", "^projects/[^/]+/operations/.*$", "WaitOperationRequest"),
    "projects.table.computeFeatures": ("POST", "{+project}/table:computeFeatures", "project", _P, "ComputeFeaturesRequest"),
    "projects.table.export": ("POST", "{+project}/table:export", "project", _P, "ExportTableRequest"),
    "projects.table.import": ("POST", "{+project}/table:import", "project", _P, "ImportTableRequest"),
    "projects.tables.create": ("POST", "{+parent}/tables", "parent", _P, "Table"),
    "projects.updateConfig": ("PATCH", "{+name}", "name", "^projects/[^/]+/config$", "ProjectConfig"),
    "projects.video.export": ("POST", "{+project}/video:export", "project", _P, "ExportVideoRequest"),
    "projects.videoMap.export": ("POST", "{+project}/videoMap:export", "project", _P, "ExportVideoMapRequest"),
    "projects.videoThumbnails.create": ("POST", "{+parent}/videoThumbnails", "parent", _P, "VideoThumbnail"),
    "projects.videoThumbnails.getPixels": ("GET", "{+name}:getPixels", "name", "^projects/[^/]+/videoThumbnails/[^/]+$", None),
}


#: Query parameters of the unserved methods that clients send.
_QUERY: dict[str, tuple[str, ...]] = {
    "projects.assets.create": ("assetId", "overwrite"),
    "projects.assets.listFeatures": ("pageSize", "pageToken", "region", "filter", "parentQuery"),
    "projects.assets.patch": ("updateMask",),
    "projects.operations.list": ("pageSize", "pageToken", "filter"),
}


def with_unserved_methods(doc: dict, version: str) -> dict:
    """List each unserved method the document lacks (its request schema as an open object)."""
    schemas = doc.setdefault("schemas", {})
    for method_id, (http, path, param, pattern, request) in UNSERVED.items():
        *resources, name = method_id.split(".")
        node = doc
        for r in resources:
            node = node.setdefault("resources", {}).setdefault(r, {})
        methods = node.setdefault("methods", {})
        if name in methods:
            continue
        spec: dict = {
            "id": f"earthengine.{method_id}",
            "httpMethod": http,
            "path": f"{version}/{path}",
            "parameters": {param: {"location": "path", "required": True, "type": "string", "pattern": pattern}},
            "parameterOrder": [param],
            "description": "Not implemented in the eerest emulator (a call answers 400 saying so).",
            "response": {"$ref": "Empty"},
        }
        for q in _QUERY.get(method_id, ()):
            spec["parameters"][q] = {"location": "query", "type": "string"}
        if request:
            spec["request"] = {"$ref": request}
            schemas.setdefault(request, {"id": request, "type": "object", "properties": {}})
        methods[name] = spec
    schemas.setdefault("Empty", {"id": "Empty", "type": "object", "properties": {}})
    return doc


@cache
def _routes() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    out = []
    for method_id, (http, path, _param, pattern, _req) in UNSERVED.items():
        var = pattern.strip("^$")
        rx = re.escape(path).replace(re.escape("{+" + _param + "}"), f"({var})")
        out.append((method_id, http, re.compile(rf"^/v1(?:alpha|beta)?/{rx}$")))
    return tuple(out)


def unserved_method(http: str, path: str) -> str | None:
    """The id of the unserved method `http path` calls, or None."""
    for method_id, method, rx in _routes():
        if method == http and rx.match(path):
            return method_id
    return None


def not_served(method_id: str) -> ApiError:
    return invalid_argument(
        f"{method_id} is not implemented in the eerest emulator: it serves computePixels, getPixels, "
        "computeImages, value.compute, thumbnails, maps, algorithms.list, assets.get and the listing methods."
    )
