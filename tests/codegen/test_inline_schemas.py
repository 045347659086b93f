"""A method whose ``request`` or ``response`` is an inline schema (not a ``$ref``) keeps its
body and its result: the generator names the schema (``<Method>Request`` /
``<Method>Response``) or refuses the document, naming the place; it never drops them."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.auth.credentials import AnonymousCredentials

from codegen import corpus, pipeline
from codegen.discovery import DiscoveryError, Options, load_api

MAP = {"type": "object", "additionalProperties": {"type": "any", "description": "Properties of the object."}}
DOC: dict[str, Any] = {
    "kind": "discovery#restDescription",
    "discoveryVersion": "v1",
    "id": "inline:v1",
    "name": "inline",
    "version": "v1",
    "revision": "1",
    "title": "Inline API",
    "rootUrl": "https://inline.example.com/",
    "servicePath": "",
    "baseUrl": "https://inline.example.com/",
    "batchPath": "batch",
    "parameters": {"fields": {"type": "string", "location": "query"}},
    "resources": {
        "projects": {
            "methods": {
                "run": {  # an inline object request and an inline object response
                    "id": "inline.projects.run",
                    "path": "v1/{+name}:run",
                    "httpMethod": "POST",
                    "parameters": {"name": {"location": "path", "type": "string", "required": True}},
                    "parameterOrder": ["name"],
                    "request": {
                        "type": "object",
                        "properties": {"mode": {"type": "string"}, "count": {"type": "integer"}},
                    },
                    "response": {"type": "object", "properties": {"state": {"type": "string"}}},
                },
                "execute": {  # an inline map request (integrations' executeEvent)
                    "id": "inline.projects.execute",
                    "path": "v1/{+name}:execute",
                    "httpMethod": "POST",
                    "parameters": {"name": {"location": "path", "type": "string", "required": True}},
                    "parameterOrder": ["name"],
                    "request": MAP,
                    "response": {"$ref": "Result"},
                },
                "card": {  # an inline map response (aiplatform's a2a.card)
                    "id": "inline.projects.card",
                    "path": "v1/{+name}/card",
                    "httpMethod": "GET",
                    "parameters": {"name": {"location": "path", "type": "string", "required": True}},
                    "parameterOrder": ["name"],
                    "response": MAP,
                },
                "keys": {  # an inline list response
                    "id": "inline.projects.keys",
                    "path": "v1/keys",
                    "httpMethod": "GET",
                    "response": {"type": "array", "items": {"$ref": "Result"}},
                },
            }
        }
    },
    "schemas": {
        "Result": {"id": "Result", "type": "object", "properties": {"ok": {"type": "boolean"}}},
        "ProjectsRunRequest": {"id": "ProjectsRunRequest", "type": "object", "properties": {}},  # name taken
    },
}


def _method(doc: dict[str, Any], name: str) -> Any:
    return next(m for m in load_api(doc).all_methods() if m.name == name)


def test_inline_schemas_get_named_schemas() -> None:
    run, execute, card, keys = (_method(DOC, n) for n in ("run", "execute", "card", "keys"))
    assert run.request == "ProjectsRunRequest2"  # the document's own name was taken
    assert [f.py_name for f in run.body_fields] == ["count", "mode"]
    assert run.response == "ProjectsRunResponse" and run.response_type is None
    assert execute.request == "ProjectsExecuteRequest" and execute.request_type is not None
    assert execute.request_type.kind == "map"
    assert card.response == "ProjectsCardResponse" and card.response_type is not None
    assert card.response_type.kind == "map"
    assert keys.response_type is not None and keys.response_type.kind == "array"


@pytest.mark.parametrize(
    ("key", "schema"),
    [("request", {}), ("request", {"description": "no type"}), ("request", {"type": "string"}), ("response", [])],
)
def test_unreadable_inline_schemas_are_refused_naming_the_place(key: str, schema: Any) -> None:
    doc = copy.deepcopy(DOC)
    doc["resources"]["projects"]["methods"]["run"][key] = schema
    with pytest.raises(DiscoveryError) as info:
        load_api(doc, Options(source="schema/inline.v1.json"))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"schema/inline.v1.json: resources.projects.methods.run.{key}"), message


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("inline")
    path = out / "inline.v1.json"
    path.write_text(json.dumps(DOC))
    pipeline.generate_standalone(path, out, "inline_v1")
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("inline_v1")
    finally:
        sys.path.remove(str(out))


def test_generated_calls_send_the_body_and_return_the_result(generated: Any) -> None:
    replies = iter(
        [{"state": "DONE"}, {"ok": True}, {"a": [1, {"b": None}]}, [{"ok": False}]]
    )
    sent: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=next(replies))

    http = httpx.Client(transport=httpx.MockTransport(reply))
    with generated.Client("p", credentials=AnonymousCredentials(), http_client=http, max_retries=0) as c:
        run = c.projects.run(name="x", mode="fast", count=2)
        execute = c.projects.execute(name="x", body={"event": {"id": 1}, "n": None})
        card = c.projects.card(name="x")
        keys = c.projects.keys()
    assert [json.loads(r.content) if r.content else None for r in sent] == [
        {"mode": "fast", "count": 2},
        {"event": {"id": 1}, "n": None},  # a map body goes as given
        None,
        None,
    ]
    assert type(run).__name__ == "ProjectsRunResponse" and run.state == "DONE"
    assert execute.ok is True
    assert card == {"a": [1, {"b": None}]}
    assert [k.ok for k in keys] == [False]
    assert "ProjectsExecuteRequest" not in generated.types.__all__  # a map: no class, a dict[str, Any]


def _shipped(name: str) -> Path:
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("google-api-python-client is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{name} is not shipped by this google-api-python-client")
    return path


def _inline_methods(doc: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        for body in (node.get("methods") or {}).values():
            if any(key in body and "$ref" not in body[key] for key in ("request", "response")):
                found.add(body["id"])
        for child in (node.get("resources") or {}).values():
            walk(child)

    walk(doc)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", ["datalineage.v1", "integrations.v1", "identitytoolkit.v1", "integrations.v2"])
def test_real_inline_methods_keep_body_and_result_on_the_wire(name: str, tmp_path: Path) -> None:
    """The methods of real documents with inline schemas: none dropped, and each sends what
    google-api-python-client sends, with every parameter and body field given."""
    from googleapiclient.discovery import build_from_document
    from googleapiclient.http import HttpMock

    path = _shipped(name)
    doc = json.loads(path.read_text(encoding="utf-8"))
    wanted = _inline_methods(doc)
    assert wanted, f"{name} has no inline request/response any more"
    package = "inline_" + name.replace(".", "_")
    pipeline.generate_standalone(path, tmp_path, package)
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(package)
        resources = importlib.import_module(package + "._resources")
    finally:
        sys.path.remove(str(tmp_path))
    api = load_api(doc, Options(source=path.name))
    assert corpus.dropped(doc, api, resources.SPECS) == []
    service = build_from_document(doc, http=HttpMock())
    sent: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    http = httpx.Client(transport=httpx.MockTransport(reply))
    checked = set()
    with module.Client("p", credentials=AnonymousCredentials(), http_client=http, max_retries=0) as client:
        for ours_path, gapi_path, m in corpus.every_call(api):
            if m.id not in wanted or m.media_download:
                continue
            ours_kwargs, gapi_kwargs, body = corpus.full_arguments(m, api)
            theirs = corpus._theirs(service, gapi_path, m, gapi_kwargs)
            ours = corpus._ours(client, ours_path, m, ours_kwargs, sent)
            assert ours == theirs, m.id
            if body is not None:
                assert ours["body"], m.id
            checked.add(m.id)
    http.close()
    assert checked == wanted


def test_the_corpus_check_fails_a_method_that_lost_its_body_or_result(generated: Any) -> None:
    import dataclasses

    specs = dict(importlib.import_module("inline_v1._resources").SPECS)
    api = load_api(DOC)
    assert corpus.dropped(DOC, api, specs) == []
    specs["projects.execute"] = dataclasses.replace(specs["projects.execute"], request=None)
    specs["projects.card"] = dataclasses.replace(specs["projects.card"], response=None)
    assert sorted(corpus.dropped(DOC, api, specs)) == [
        "inline.projects.card: the response was dropped",
        "inline.projects.execute: the request body was dropped",
    ]
