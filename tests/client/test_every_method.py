"""Every method of every Earth Engine document in ``schema/`` is a call on the client of its
version, sync and async, typed as the document says; and each sends what
google-api-python-client's ``build_from_document`` sends for the same arguments."""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from google.auth.credentials import AnonymousCredentials

from codegen.naming import safe_identifier, snake_case
from tests.client.helpers import ASSET, version
from tests.conftest import ROOT, VERSIONS

DOCS = {v: json.loads((ROOT / "schema" / f"earthengine.{v}.json").read_text(encoding="utf-8")) for v in VERSIONS}
#: Methods whose result a hand-written overlay imposes (codegen/config.yaml).
OVERLAID = {"projects.image.computePixels": "Pixels", "projects.assets.getPixels": "Pixels"}


def _resources(v: str) -> Any:
    return importlib.import_module(f"eerest.{v}._resources")


def _walk(node: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, dict[str, Any]]]:
    """(resource path, method name, method) for every method of a document, by discovery name."""
    for name, body in sorted((node.get("methods") or {}).items()):
        yield path, name, body
    for name, child in sorted((node.get("resources") or {}).items()):
        yield from _walk(child, (*path, name))


def _py(name: str) -> str:
    """The Python attribute for a discovery name (``imageCollection`` -> ``image_collection``,
    ``import`` -> ``import_``)."""
    return safe_identifier(snake_case(name))


def _resolve(client: Any, path: tuple[str, ...], name: str) -> Any:
    target = client
    for part in path:
        target = getattr(target, _py(part))
    return getattr(target, _py(name))


def _pages(doc: Mapping[str, Any], method: Mapping[str, Any]) -> bool:
    """Google's paging convention: a pageToken in (query or body), a nextPageToken out."""
    schemas = doc["schemas"]
    response = schemas.get((method.get("response") or {}).get("$ref", ""), {})
    request = schemas.get((method.get("request") or {}).get("$ref", ""), {})
    return "nextPageToken" in response.get("properties", {}) and (
        "pageToken" in (method.get("parameters") or {}) or "pageToken" in request.get("properties", {})
    )


@pytest.mark.parametrize("v", VERSIONS)
def test_every_method_of_the_document_is_a_call_sync_and_async(v: str) -> None:
    doc = DOCS[v]
    module = version(v)
    sync = module.Client("p", credentials=AnonymousCredentials())
    asynchronous = module.AsyncClient("p", credentials=AnonymousCredentials())
    methods = list(_walk(doc))
    assert len(methods) >= 51
    for path, name, body in methods:
        where = ".".join((*path, name))
        call = _resolve(sync, path, name)
        acall = _resolve(asynchronous, path, name)
        assert callable(call) and callable(acall), where
        if _pages(doc, body):  # a pager, iterated with `for` / `async for`: not a coroutine
            assert not inspect.iscoroutinefunction(acall), where
        else:
            assert inspect.iscoroutinefunction(acall), where
            assert not inspect.iscoroutinefunction(call), where
    assert len(_resources(v).SPECS) == len(methods)  # nothing more either
    sync.close()


@pytest.mark.parametrize("v", VERSIONS)
def test_every_signature_follows_the_document(v: str) -> None:
    """Required parameters are required (the project path parameter defaults to the
    client's), every request body has its keyword arguments, and the result is typed: a
    pager for paging methods, None for Empty, bytes for HttpBody, else the message."""
    doc = DOCS[v]
    resource = _resources(v)
    for path, name, body in _walk(doc):
        where = ".".join((*path, name))
        for kind in ("sync", "async"):
            cls_name = "".join(p[:1].upper() + p[1:] for p in path) + "Resource"
            cls = getattr(resource, cls_name if kind == "sync" else "Async" + cls_name)
            signature = inspect.signature(getattr(cls, _py(name)))
            params = signature.parameters
            for wire, spec in (body.get("parameters") or {}).items():
                p = params[_py(wire)]
                project_default = spec.get("location") == "path" and spec.get("pattern") == "^projects/[^/]+$"
                if spec.get("required") and not project_default:
                    assert p.default is inspect.Parameter.empty, (where, wire)
                else:
                    assert p.default is None, (where, wire)
            request = (body.get("request") or {}).get("$ref")
            if request:
                fields = {w for w, f in doc["schemas"][request].get("properties", {}).items() if not f.get("readOnly")}
                taken = {_py(w) for w in body.get("parameters") or ()} | {"timeout", "extra_headers", "extra_query"}
                for wire in fields:
                    expected = _py(wire) if _py(wire) not in taken else "body_" + _py(wire)
                    assert expected in params, (where, wire, expected)
            response = (body.get("response") or {}).get("$ref")
            returns = signature.return_annotation
            if where in OVERLAID:
                expected_result = OVERLAID[where]
            elif response == "Empty":
                expected_result = "None"
            elif response == "HttpBody":
                expected_result = "bytes"
            else:
                expected_result = f"types.{response}"
            if _pages(doc, body):
                pager = "SyncPager" if kind == "sync" else "AsyncPager"
                assert returns.startswith(f"{pager}[{expected_result}, "), (where, returns)
            else:
                assert returns == expected_result, (where, returns)


def test_colliding_body_fields_take_the_body_prefix() -> None:
    """The documented rule (codegen.discovery.BODY_FIELD_PREFIX): a body field named like a
    parameter or a per-call option is ``body_<name>``; the parameter or option keeps its name."""
    from tests.client.helpers import client

    sent: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={})))
    with client("v1", "https://earthengine.googleapis.com", http_client=http) as c:
        c.projects.update_config(name="projects/p/config", body_name="projects/p/config", update_mask="name")
        c.projects.operations.wait(name="projects/p/operations/o", body_timeout="30s", timeout=60)
        assert c.projects.operations.delete(name="projects/p/operations/o") is None  # Empty: None
    update, wait, _ = sent
    assert update.url.path == "/v1/projects/p/config" and update.url.params["updateMask"] == "name"
    assert json.loads(update.content) == {"name": "projects/p/config"}
    assert json.loads(wait.content) == {"timeout": "30s"}
    assert wait.extensions["timeout"]["read"] == 60  # the per-call option is the HTTP timeout
    signature = inspect.signature(_resources("v1").ProjectsOperationsResource.wait)
    assert {"timeout", "body_timeout"} <= set(signature.parameters)


# -- the wire, method by method, against google-api-python-client ---------------------------


def _api(v: str) -> Any:
    from codegen.config import load_config
    from codegen.discovery import load_api
    from codegen.pipeline import CONFIG_PATH

    config = load_config(ROOT / CONFIG_PATH)
    target = next(t for t in config.apis if t.package == f"eerest.{v}")
    return load_api(DOCS[v], config.options_for(target))


@pytest.mark.parametrize("v", VERSIONS)
def test_every_method_sends_what_google_api_python_client_sends(v: str) -> None:
    pytest.importorskip("googleapiclient")
    from googleapiclient.discovery import build_from_document
    from googleapiclient.http import HttpMock

    from codegen import corpus

    api = _api(v)
    service = build_from_document(DOCS[v], http=HttpMock())
    sent: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        # an asset for the GET the getPixels overlay sends first (for the bands' types)
        return httpx.Response(200, json=ASSET if request.method == "GET" else {})

    http = httpx.Client(transport=httpx.MockTransport(reply))
    compared, mismatches = [], []
    with version(v).Client("p", credentials=AnonymousCredentials(), http_client=http, max_retries=0) as client:
        for ours_path, gapi_path, m in corpus.every_call(api):
            # the pixel overlays refuse thumbnail-only formats before sending
            overrides = {"fileFormat": "GEO_TIFF"} if m.overlay else None
            ours_kwargs, gapi_kwargs, body = corpus.full_arguments(m, api, overrides)
            theirs = corpus._theirs(service, gapi_path, m, gapi_kwargs)
            resource = client
            for part in ours_path:
                resource = getattr(resource, part)
            before = len(sent)
            try:
                result = getattr(resource, m.py_name)(**ours_kwargs)
                if m.pagination:
                    next(iter(result.pages))
            except Exception:  # an overlay decoding the reply `{}`: the request went out all the same
                pass
            assert len(sent) > before, f"{m.id}: nothing sent"
            request = sent[-1]
            ours = corpus._normal(request.method, str(request.url), request.content, request.headers)
            if body:
                assert ours["body"], f"{m.id}: the body's fields were not sent"
            compared.append(m.id)
            if ours != theirs:
                mismatches.append(f"{m.id}: eerest {ours} != google-api-python-client {theirs}")
    http.close()
    assert not mismatches, "\n".join(mismatches)
    assert len(compared) == len(list(_walk(DOCS[v])))


def test_compute_features_pages_with_the_token_in_the_body() -> None:
    """table.computeFeatures pages as google-api-python-client's ``compute_features_next``
    does: the response's nextPageToken goes back as the body's pageToken."""
    replies = iter([{"features": [{"type": "Feature"}], "nextPageToken": "t2"}, {"features": [{"type": "Feature"}]}])
    sent: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=next(replies))

    http = httpx.Client(transport=httpx.MockTransport(reply))
    from tests.client.helpers import client

    with client("v1", "https://earthengine.googleapis.com", http_client=http) as c:
        features = list(c.projects.table.compute_features(expression={"result": "0", "values": {}}, page_size=1))
    assert len(features) == 2
    assert [json.loads(r.content).get("pageToken") for r in sent] == [None, "t2"]
    assert all(r.url.path == "/v1/projects/my-proj/table:computeFeatures" for r in sent)
