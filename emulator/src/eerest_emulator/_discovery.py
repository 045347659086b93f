"""The discovery documents the emulator serves at `/$discovery/rest?version=V` and checks messages with.

They are the documents shipped in this package (`discovery/earthengine.<v>.json`, copies of
the repository's `schema/`, a test keeps them equal: Google's complete documents, every
method, including those the emulator does not serve, see `_unserved`), completed, should a
copy lack them, with the methods the emulator serves (`projects.algorithms.list`, which
`earthengine-api` calls at initialisation, value, thumbnails, maps and the listing methods;
Google has `projects.assets.listImages` in v1alpha only), and served with root URLs pointing at the emulator. Never the SDK's
generated code: the emulator is an independent oracle.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from ._listing import with_listing_methods

__all__ = ["VERSIONS", "discovery_document", "document", "method_spec"]

VERSIONS = ("v1alpha", "v1beta", "v1")


@functools.cache
def _base(version: str) -> dict:
    shipped = resources.files(__package__).joinpath("discovery").joinpath(f"earthengine.{version}.json")
    return json.loads(shipped.read_text("utf-8"))


@functools.cache
def document(version: str) -> dict[str, Any]:
    """The emulator's complete document for `version` (do not modify it)."""
    doc = _with_algorithms(copy.deepcopy(_base(version)), version)
    return with_listing_methods(_with_value_and_thumbnails(doc, version), version)


def method_spec(version: str, method_id: str) -> dict[str, Any]:
    """A method of the document by its id without the API name, e.g. ``projects.assets.get``;
    its ``parameters`` include the API's global (query) parameters."""
    doc = document(version)
    *resource_path, name = method_id.split(".")
    node: dict[str, Any] = doc
    for part in resource_path:
        node = node["resources"][part]
    spec = dict(node["methods"][name])
    spec["parameters"] = {**doc.get("parameters", {}), **spec.get("parameters", {})}
    return spec


def _with_algorithms(doc: dict, version: str) -> dict:
    """Add projects.algorithms.list (and its schemas) when the document lacks it."""
    projects = doc.setdefault("resources", {}).setdefault("projects", {})
    algs = projects.setdefault("resources", {}).setdefault("algorithms", {})
    methods = algs.setdefault("methods", {})
    if "list" not in methods:
        methods["list"] = {
            "id": "earthengine.projects.algorithms.list",
            "httpMethod": "GET",
            "path": f"{version}/{{+parent}}/algorithms",
            "flatPath": f"{version}/projects/{{projectsId}}/algorithms",
            "description": "Lists the available algorithms.",
            "parameters": {
                "parent": {
                    "location": "path",
                    "required": True,
                    "type": "string",
                    "pattern": "^projects/[^/]+$",
                    "description": "Required. The project for which to list algorithms, as projects/*.",
                }
            },
            "parameterOrder": ["parent"],
            "response": {"$ref": "ListAlgorithmsResponse"},
            "scopes": [
                "https://www.googleapis.com/auth/cloud-platform",
                "https://www.googleapis.com/auth/cloud-platform.read-only",
                "https://www.googleapis.com/auth/earthengine",
                "https://www.googleapis.com/auth/earthengine.readonly",
            ],
        }
    schemas = doc.setdefault("schemas", {})
    schemas.setdefault("ListAlgorithmsResponse", {
        "id": "ListAlgorithmsResponse",
        "type": "object",
        "description": "Response message for EarthEngineService.ListAlgorithms.",
        "properties": {"algorithms": {"type": "array", "items": {"$ref": "Algorithm"}}},
    })
    schemas.setdefault("Algorithm", {
        "id": "Algorithm",
        "type": "object",
        "description": "Information about an Earth Engine algorithm.",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "returnType": {"type": "string"},
            "arguments": {"type": "array", "items": {"$ref": "AlgorithmArgument"}},
            "deprecated": {"type": "boolean"},
            "deprecationReason": {"type": "string"},
            "hidden": {"type": "boolean"},
            "preview": {"type": "boolean"},
            "sourceCodeUri": {"type": "string"},
        },
    })
    schemas.setdefault("AlgorithmArgument", {
        "id": "AlgorithmArgument",
        "type": "object",
        "description": "Information about an algorithm argument.",
        "properties": {
            "argumentName": {"type": "string"},
            "description": {"type": "string"},
            "type": {"type": "string"},
            "optional": {"type": "boolean"},
            "defaultValue": {"type": "any"},
        },
    })
    return doc


_SCOPES = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/earthengine",
]


def _method(mid: str, http: str, path: str, flat: str, param: str, pattern: str, req: str | None, resp: str) -> dict:
    out: dict = {
        "id": mid,
        "httpMethod": http,
        "path": path,
        "flatPath": flat,
        "parameters": {param: {"location": "path", "required": True, "type": "string", "pattern": pattern}},
        "parameterOrder": [param],
        "response": {"$ref": resp},
        "scopes": _SCOPES,
    }
    if req:
        out["request"] = {"$ref": req}
    return out


def _with_value_and_thumbnails(doc: dict, version: str) -> dict:
    """Add projects.value.compute, projects.thumbnails.create/getPixels and projects.maps.create/
    tiles.get (what getInfo(), getThumbURL(), getDownloadURL() and getMapId() of the official
    client call) when the document lacks them."""
    res = doc.setdefault("resources", {}).setdefault("projects", {}).setdefault("resources", {})
    value = res.setdefault("value", {}).setdefault("methods", {})
    value.setdefault("compute", _method(
        "earthengine.projects.value.compute", "POST", f"{version}/{{+project}}/value:compute",
        f"{version}/projects/{{projectsId}}/value:compute", "project", "^projects/[^/]+$",
        "ComputeValueRequest", "ComputeValueResponse"))
    thumbs = res.setdefault("thumbnails", {}).setdefault("methods", {})
    thumbs.setdefault("create", _method(
        "earthengine.projects.thumbnails.create", "POST", f"{version}/{{+parent}}/thumbnails",
        f"{version}/projects/{{projectsId}}/thumbnails", "parent", "^projects/[^/]+$", "Thumbnail", "Thumbnail"))
    thumbs.setdefault("getPixels", _method(
        "earthengine.projects.thumbnails.getPixels", "GET", f"{version}/{{+name}}:getPixels",
        f"{version}/projects/{{projectsId}}/thumbnails/{{thumbnailsId}}:getPixels", "name",
        "^projects/[^/]+/thumbnails/[^/]+$", None, "HttpBody"))
    maps = res.setdefault("maps", {})
    maps.setdefault("methods", {}).setdefault("create", _method(
        "earthengine.projects.maps.create", "POST", f"{version}/{{+parent}}/maps",
        f"{version}/projects/{{projectsId}}/maps", "parent", "^projects/[^/]+$", "EarthEngineMap", "EarthEngineMap"))
    tiles = _method(
        "earthengine.projects.maps.tiles.get", "GET", f"{version}/{{+parent}}/tiles/{{zoom}}/{{x}}/{{y}}",
        f"{version}/projects/{{projectsId}}/maps/{{mapsId}}/tiles/{{zoom}}/{{x}}/{{y}}", "parent",
        "^projects/[^/]+/maps/[^/]+$", None, "HttpBody")
    for p in ("zoom", "x", "y"):
        tiles["parameters"][p] = {"location": "path", "required": True, "type": "integer", "format": "int32"}
    tiles["parameterOrder"] = ["parent", "zoom", "x", "y"]
    maps.setdefault("resources", {}).setdefault("tiles", {}).setdefault("methods", {}).setdefault("get", tiles)
    schemas = doc.setdefault("schemas", {})
    pixels = schemas.get("ComputePixelsRequest", {}).get("properties", {})
    schemas.setdefault("ComputeValueRequest", {
        "id": "ComputeValueRequest", "type": "object",
        "description": "Request message for EarthEngineService.ComputeValue.",
        "properties": {"expression": {"$ref": "Expression"}, "workloadTag": {"type": "string"}}})
    schemas.setdefault("ComputeValueResponse", {
        "id": "ComputeValueResponse", "type": "object",
        "description": "Response message for EarthEngineService.ComputeValue.",
        "properties": {"result": {"type": "any"}}})
    thumbnail = {k: copy.deepcopy(v) for k, v in pixels.items()
                 if k in ("expression", "fileFormat", "bandIds", "visualizationOptions", "grid")}
    thumbnail.update(name={"type": "string"}, filenamePrefix={"type": "string"})
    schemas.setdefault("Thumbnail", {
        "id": "Thumbnail", "type": "object",
        "description": "A thumbnail: an image, its format and framing, served at {name}:getPixels.",
        "properties": thumbnail})
    schemas.setdefault("EarthEngineMap", {
        "id": "EarthEngineMap", "type": "object",
        "description": "A map: an image and its visualization, served as Web Mercator tiles at {name}/tiles/{z}/{x}/{y}.",
        "properties": {k: v for k, v in thumbnail.items() if k in ("name", "expression", "fileFormat", "bandIds",
                                                                   "visualizationOptions")}})
    schemas.setdefault("HttpBody", {"id": "HttpBody", "type": "object", "properties": {
        "contentType": {"type": "string"}, "data": {"type": "string", "format": "byte"}}})
    return doc


@functools.lru_cache(maxsize=32)
def _served(version: str, root_url: str) -> bytes:
    doc = copy.deepcopy(document(version))
    doc["rootUrl"] = root_url
    doc["baseUrl"] = root_url + doc.get("servicePath", "")
    if "mtlsRootUrl" in doc:
        doc["mtlsRootUrl"] = root_url
    return json.dumps(doc, indent=1).encode()


def discovery_document(version: str, root_url: str) -> bytes | None:
    """The served document (JSON bytes) for `version` with `root_url` ("http://host:port/"), or None."""
    if version not in VERSIONS:
        return None
    return _served(version, root_url)
