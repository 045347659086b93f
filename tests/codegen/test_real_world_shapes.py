"""Shapes real discovery documents have that once broke the generator, in one crafted
document: name collisions (renamed, every method reachable), top-level methods, map
responses, media download and upload, apiVersion, global parameters, pagers."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials

from codegen import pipeline
from codegen.discovery import DiscoveryError, Options, load_api

STRING = {"type": "string", "location": "query"}
NAME = {"type": "string", "location": "path", "required": True}


def method(method_id: str, path: str, http: str = "GET", **extra: Any) -> dict[str, Any]:
    return {"id": method_id, "path": path, "httpMethod": http, **extra}


DOC: dict[str, Any] = {
    "kind": "discovery#restDescription",
    "id": "shapes:v1",
    "name": "shapes",
    "version": "v1",
    "revision": "1",
    "rootUrl": "https://shapes.example.com/",
    "servicePath": "shapes/v1/",
    "parameters": {
        "fields": {"type": "string", "location": "query"},
        "quotaUser": {"type": "string", "location": "query"},
        "prettyPrint": {"type": "boolean", "location": "query", "default": "true"},
        "key": {"type": "string", "location": "query"},
        "alt": {"type": "string", "location": "query"},
    },
    "methods": {"tokeninfo": method("shapes.tokeninfo", "tokeninfo", "POST", response={"$ref": "Message"})},
    "resources": {
        "accounts": {
            "methods": {"accounts": method("shapes.accounts.accounts", "accounts", response={"$ref": "Field"})},
            "resources": {"accounts": {"methods": {"get": method("shapes.accounts.accounts.get", "a/{name}",
                                                                  parameters={"name": NAME},
                                                                  response={"$ref": "Labels"})}}},
        },
        "projects": {"resources": {"locations": {"methods": {"list": method(
            "shapes.projects.locations.list", "locations", parameters={"pageToken": STRING},
            response={"$ref": "ListResponse"})}}}},
        "projectsLocations": {"methods": {"list": method(
            "shapes.projectsLocations.list", "pl", parameters={"pageToken": STRING}, response={"$ref": "MapPage"})}},
        "files": {"methods": {
            "get": method("shapes.files.get", "files/{name}", parameters={"name": NAME},
                          response={"$ref": "Message"}, supportsMediaDownload=True, apiVersion="v1_20240101"),
            "insert": method("shapes.files.insert", "files", "POST", request={"$ref": "Message"},
                             response={"$ref": "Message"},
                             mediaUpload={"accept": ["text/*"], "maxSize": "1KB",
                                          "protocols": {"simple": {"multipart": True, "path": "/upload/shapes/v1/files"}}}),
        }},
    },
    "schemas": {
        "Message": {"id": "Message", "type": "object", "properties": {"text": {"type": "string"}}},
        "Field": {"id": "Field", "type": "object", "properties": {"message": {"$ref": "Message"}}},
        "Labels": {"id": "Labels", "type": "object", "additionalProperties": {"$ref": "Message"}},
        "ListResponse": {"id": "ListResponse", "type": "object", "properties": {
            "nextPageToken": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": "Message"}},
            "unreachable": {"type": "array", "items": {"type": "string"}}}},
        "MapPage": {"id": "MapPage", "type": "object", "properties": {
            "nextPageToken": {"type": "string"},
            "items": {"type": "object", "additionalProperties": {"$ref": "Message"}}}},
    },
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("shapes")
    doc = out / "shapes.v1.json"
    doc.write_text(json.dumps(DOC))
    pipeline.generate_standalone(doc, out, "shapes_v1")
    sys.path.insert(0, str(out))
    try:
        import shapes_v1  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(out))
    return shapes_v1


def client(module: Any, url: str) -> Any:
    return module.Client("p", credentials=AnonymousCredentials(), base_url=url, max_retries=0)


def test_collisions_are_renamed_and_every_method_reachable(shapes: Any, server: Any) -> None:
    from eerest._core.message import Message

    assert shapes.types.Message is Message  # the base class keeps its name: the schema is renamed
    assert issubclass(shapes.types.MessageModel, Message) and "MessageModel" in shapes.types.__all__
    assert "message" in shapes.types.FieldModel.model_fields
    server.reply(json_body={"message": {"text": "t"}})
    server.reply(json_body={"k": {"text": "v"}})
    server.reply(json_body={"text": "hi"})
    with client(shapes, server.url) as c:
        assert c.accounts.accounts().message.text == "t"  # the method ...
        labels = c.accounts.accounts_.get(name="n")      # ... and the resource of the same name
        assert labels == {"k": shapes.types.MessageModel(text="v")}  # a map response
        assert c.root.tokeninfo().text == "hi"                          # a top-level method
        assert type(c.projects.locations).__name__ == "ProjectsLocationsResource"
        assert type(c.projects_locations).__name__ == "ProjectsLocations2Resource"
    assert [r.path for r in server.requests] == ["/shapes/v1/accounts", "/shapes/v1/a/n", "/shapes/v1/tokeninfo"]


def test_lost_method_fails_generation() -> None:
    doc = json.loads(json.dumps(DOC))
    doc["resources"]["files"]["methods"]["with_streaming_response"] = method("shapes.files.wsr", "wsr")
    doc["resources"]["files"]["methods"]["withStreamingResponse"] = method("shapes.files.wsr2", "wsr2")
    api = load_api(doc)  # renamed, not lost
    names = {m.py_name for r in api.all_resources() if r.name == "files" for m in r.methods}
    assert {"with_streaming_response_", "with_streaming_response__"} <= names
    from codegen import discovery

    with pytest.raises(DiscoveryError, match=r"shapes\.files\.gone: not generated"):
        discovery.check_reachable(api, ["shapes.files.gone"])
    assert load_api(DOC, Options(include_methods=frozenset({"files.get"}))).all_methods()[0].id == "shapes.files.get"


def test_media_download_api_version_and_global_params(shapes: Any, server: Any) -> None:
    server.reply(json_body={"text": "meta"})
    server.reply(body=b"\x00raw bytes", headers={"content-type": "application/octet-stream"})
    with client(shapes, server.url) as c:
        assert c.files.get(name="f", fields="text", quota_user="q", pretty_print=False).text == "meta"
        assert c.files.get_media(name="f") == b"\x00raw bytes"
    meta, media = server.requests
    assert sorted(meta.query) == [("fields", "text"), ("prettyPrint", "false"), ("quotaUser", "q")]
    assert media.query == [("alt", "media")] and media.path == "/shapes/v1/files/f"
    assert meta.headers["x-goog-api-version"] == media.headers["x-goog-api-version"] == "v1_20240101"


def test_media_upload_simple_and_multipart(shapes: Any, server: Any, tmp_path: Path) -> None:
    server.default.body = b'{"text": "ok"}'
    upload = tmp_path / "note.txt"
    upload.write_bytes(b"hello media")
    with client(shapes, server.url) as c:
        with upload.open("rb") as f:
            c.files.insert(media_body=f, media_mime_type="text/plain")
        c.files.insert(text="meta", media_body=io.BytesIO(b"second"), media_mime_type="text/plain")
        c.files.insert(text="no media")
        with pytest.raises(Exception, match="not one the API accepts"):
            c.files.insert(media_body=b"x", media_mime_type="image/png")
        with pytest.raises(Exception, match="more than the 1024 bytes"):
            c.files.insert(media_body=b"x" * 1025, media_mime_type="text/plain")
    simple, multipart, plain = server.requests
    assert simple.path == "/upload/shapes/v1/files" and simple.query == [("uploadType", "media")]
    assert simple.headers["content-type"] == "text/plain" and simple.body == b"hello media"
    assert multipart.query == [("uploadType", "multipart")]
    assert multipart.headers["content-type"].startswith("multipart/related; boundary=")
    assert b'{"text": "meta"}' in multipart.body and b"\r\n\r\nsecond\r\n--" in multipart.body
    assert plain.path == "/shapes/v1/files" and plain.json == {"text": "no media"}


def test_pagers_with_unreachable_and_with_map_items(shapes: Any, server: Any) -> None:
    server.reply(json_body={"items": [{"text": "a"}], "unreachable": ["x"], "nextPageToken": "t"})
    server.reply(json_body={"items": [{"text": "b"}]})
    server.reply(json_body={"items": {"k": {"text": "m"}}})
    with client(shapes, server.url) as c:
        assert [m.text for m in c.projects.locations.list()] == ["a", "b"]
        pages = list(c.projects_locations.list())
        assert [p.items["k"].text for p in pages] == ["m"]  # no list of items: the pager yields pages
    assert [r.query for r in server.requests[:2]] == [[], [("pageToken", "t")]]
