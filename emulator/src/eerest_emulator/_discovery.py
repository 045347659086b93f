"""The discovery documents the emulator serves at `/$discovery/rest?version=V`.

They are the project's documents (from the generated `eerest.<v>._discovery` module, or
`schema/earthengine.<v>.json` in a source checkout), completed with the
`projects.algorithms.list` method that `earthengine-api` calls at initialisation, and
with root URLs pointing at the emulator.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
from pathlib import Path

__all__ = ["VERSIONS", "discovery_document"]

VERSIONS = ("v1alpha", "v1beta", "v1")


@functools.cache
def _base(version: str) -> dict:
    try:
        mod = importlib.import_module(f"eerest.{version}._discovery")
        return json.loads(mod.DISCOVERY_JSON)
    except (ImportError, AttributeError):
        pass
    for parent in Path(__file__).resolve().parents:
        p = parent / "schema" / f"earthengine.{version}.json"
        if p.is_file():
            return json.loads(p.read_text())
    return _minimal(version)


def _minimal(version: str) -> dict:
    """A small stand-in document covering the methods the emulator serves."""

    def m(mid: str, http: str, path: str, params: dict, req: str | None, resp: str) -> dict:
        out = {
            "id": mid,
            "httpMethod": http,
            "path": path,
            "flatPath": path,
            "parameters": params,
            "parameterOrder": list(params),
            "response": {"$ref": resp},
            "scopes": ["https://www.googleapis.com/auth/earthengine"],
        }
        if req:
            out["request"] = {"$ref": req}
        return out

    def p(name: str) -> dict:
        return {name: {"location": "path", "required": True, "type": "string", "pattern": "^projects/.*$"}}

    obj = {"type": "object", "properties": {}}
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"earthengine:{version}",
        "name": "earthengine",
        "version": version,
        "title": "Google Earth Engine API",
        "protocol": "rest",
        "rootUrl": "https://earthengine.googleapis.com/",
        "servicePath": "",
        "basePath": "",
        "baseUrl": "https://earthengine.googleapis.com/",
        "batchPath": "batch",
        "fullyEncodeReservedExpansion": True,
        "parameters": {
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json", "media", "proto"]},
            "prettyPrint": {"type": "boolean", "location": "query", "default": "true"},
            "fields": {"type": "string", "location": "query"},
            "key": {"type": "string", "location": "query"},
        },
        "resources": {
            "projects": {
                "resources": {
                    "assets": {
                        "methods": {
                            "get": m("earthengine.projects.assets.get", "GET", f"{version}/{{+name}}", p("name"), None, "EarthEngineAsset"),
                            "getPixels": m("earthengine.projects.assets.getPixels", "POST", f"{version}/{{+name}}:getPixels", p("name"), "GetPixelsRequest", "HttpBody"),
                        }
                    },
                    "image": {
                        "methods": {
                            "computePixels": m("earthengine.projects.image.computePixels", "POST", f"{version}/{{+project}}/image:computePixels", p("project"), "ComputePixelsRequest", "HttpBody"),
                        }
                    },
                    "imageCollection": {
                        "methods": {
                            "computeImages": m("earthengine.projects.imageCollection.computeImages", "POST", f"{version}/{{+project}}/imageCollection:computeImages", p("project"), "ComputeImagesRequest", "ComputeImagesResponse"),
                        }
                    },
                }
            }
        },
        "schemas": {
            n: {"id": n, **copy.deepcopy(obj)}
            for n in ("EarthEngineAsset", "GetPixelsRequest", "ComputePixelsRequest", "ComputeImagesRequest", "ComputeImagesResponse", "HttpBody")
        },
    }


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


@functools.lru_cache(maxsize=32)
def _served(version: str, root_url: str) -> bytes:
    doc = _with_algorithms(copy.deepcopy(_base(version)), version)
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


def request_fields(version: str, schema: str) -> set[str] | None:
    """The JSON field names of a request message, for rejecting unknown fields (None: unknown)."""
    s = _base(version).get("schemas", {}).get(schema)
    if not s or not s.get("properties"):
        return None
    return set(s["properties"])
