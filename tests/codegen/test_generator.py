"""The generator on crafted documents (one feature at a time), on our own documents
(drift check, determinism, headers) and on real discovery documents of other APIs."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials

from codegen import pipeline
from tests.conftest import ROOT

CRAFTED = {
    "kind": "discovery#restDescription",
    "discoveryVersion": "v1",
    "id": "crafted:v2",
    "name": "crafted",
    "version": "v2",
    "revision": "20260101",
    "title": "Crafted API",
    "rootUrl": "https://crafted.example.com/",
    "servicePath": "svc/",
    "baseUrl": "https://crafted.example.com/svc/",
    "batchPath": "batch",
    "fullyEncodeReservedExpansion": True,
    "parameters": {"alt": {"type": "string", "location": "query", "enum": ["json", "media"]}},
    "auth": {"oauth2": {"scopes": {"https://www.googleapis.com/auth/cloud-platform": {"description": "all"}}}},
    "resources": {
        "projects": {
            "resources": {
                "global": {  # a keyword as a resource name
                    "resources": {
                        "items": {
                            "methods": {
                                "import": {  # a keyword as a method name
                                    "id": "crafted.projects.global.items.import",
                                    "path": "v2/{+parent}/items:import",
                                    "flatPath": "v2/projects/{projectsId}/items:import",
                                    "httpMethod": "POST",
                                    "parameters": {
                                        "parent": {
                                            "location": "path",
                                            "type": "string",
                                            "required": True,
                                            "pattern": "^projects/[^/]+$",
                                        },
                                        "from": {"location": "query", "type": "string"},  # keyword parameter
                                        "view.mode": {"location": "query", "type": "string"},  # dotted
                                        "tags": {"location": "query", "type": "string", "repeated": True},
                                        "maxAge": {"location": "query", "type": "string", "format": "google-duration"},
                                        "validateOnly": {"location": "query", "type": "boolean"},
                                        "order": {"location": "query", "type": "string", "enum": ["ASC", "DESC"]},
                                    },
                                    "parameterOrder": ["parent"],
                                    "request": {"$ref": "Item"},
                                    "response": {"$ref": "Item"},
                                },
                                "get": {
                                    "id": "crafted.projects.global.items.get",
                                    "path": "v2/items/{itemId}",  # plain expansion: '/' encoded
                                    "httpMethod": "GET",
                                    "parameters": {"itemId": {"location": "path", "type": "string", "required": True}},
                                    "parameterOrder": ["itemId"],
                                    "response": {"$ref": "Item"},
                                },
                                "list": {
                                    "id": "crafted.projects.global.items.list",
                                    "path": "v2/items",
                                    "httpMethod": "GET",
                                    "parameters": {
                                        "pageToken": {"location": "query", "type": "string"},
                                        "pageSize": {"location": "query", "type": "integer", "format": "int32"},
                                    },
                                    "response": {"$ref": "ListItemsResponse"},
                                },
                            }
                        }
                    }
                }
            }
        }
    },
    "schemas": {
        "Item": {
            "id": "Item",
            "type": "object",
            "description": 'An item. Ends with a quote: "x"',
            "properties": {
                "name": {"type": "string", "readOnly": True, "description": "Output only."},
                "class": {"type": "string"},
                "from": {"type": "string"},
                "self": {"type": "string"},
                "json": {"type": "string"},
                "schema": {"type": "string"},
                "model_config": {"type": "string"},
                "@type": {"type": "string"},
                "int32Value": {"type": "integer", "format": "int32"},
                "uint32Value": {"type": "integer", "format": "uint32"},
                "int64Value": {"type": "string", "format": "int64"},
                "uint64Value": {"type": "string", "format": "uint64"},
                "doubleValue": {"type": "number", "format": "double"},
                "floatValue": {"type": "number", "format": "float"},
                "byteValue": {"type": "string", "format": "byte"},
                "dateValue": {"type": "string", "format": "date"},
                "timeValue": {"type": "string", "format": "google-datetime"},
                "ttl": {"type": "string", "format": "google-duration"},
                "mask": {"type": "string", "format": "google-fieldmask"},
                "anything": {"type": "any"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "children": {"type": "object", "additionalProperties": {"$ref": "Item"}},  # recursive map
                "parent": {"$ref": "Item"},  # recursive
                "history": {"type": "array", "items": {"$ref": "Item"}},
                "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "inline": {"type": "object", "properties": {"depth": {"type": "integer"}}},
                "legacy": {"type": "string", "deprecated": True},
                "state": {
                    "type": "string",
                    "enum": ["STATE_UNSPECIFIED", "ACTIVE", "OLD"],
                    "enumDescriptions": ["Unset.", "In use.", "Do not use."],
                    "enumDeprecated": [False, False, True],
                },
                "states": {"type": "array", "items": {"type": "string", "enum": ["A", "B"]}},
            },
        },
        "ListItemsResponse": {
            "id": "ListItemsResponse",
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "Item"}},
                "nextPageToken": {"type": "string"},
            },
        },
        "Unreachable": {"id": "Unreachable", "type": "object", "properties": {}},
    },
}


def _import_generated(directory: Path, package: str):
    sys.path.insert(0, str(directory))
    try:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(directory))


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    out = tmp_path_factory.mktemp("crafted")
    doc = out / "crafted.v2.json"
    doc.write_text(json.dumps(CRAFTED))
    pipeline.generate_standalone(doc, out, "crafted_v2")
    return _import_generated(out, "crafted_v2")


def test_crafted_resource_tree_and_keyword_names(crafted):
    client = crafted.Client("p", credentials=AnonymousCredentials())
    items = client.projects.global_.items
    assert callable(items.import_) and callable(items.get) and callable(items.list)
    assert crafted.DISCOVERY_REVISION == "20260101"
    assert not hasattr(crafted.types, "Unreachable")  # only what methods reach
    client.close()


def test_crafted_awkward_field_names(crafted):
    Item = crafted.types.Item
    item = Item.model_validate(
        {"class": "c", "from": "f", "self": "s", "json": "j", "schema": "x", "model_config": "m", "@type": "t"}
    )
    assert (item.class_, item.from_, item.json_, item.schema_) == ("c", "f", "j", "x")
    assert item.to_dict() == {
        "class": "c",
        "from": "f",
        "self": "s",
        "json": "j",
        "schema": "x",
        "model_config": "m",
        "@type": "t",
    }


def test_crafted_formats_round_trip(crafted):
    wire = {
        "int32Value": 7,
        "uint32Value": 4294967295,
        "int64Value": "-9223372036854775808",
        "uint64Value": "18446744073709551615",
        "doubleValue": "NaN",
        "floatValue": "-Infinity",
        "byteValue": "aGVsbG8_",  # URL-safe base64 of b"hello?"
        "dateValue": "2024-02-29",
        "timeValue": "2024-06-01T10:00:00.123456789Z",
        "ttl": "3.5s",
        "mask": "a,b.c",
        "anything": [1, {"x": None}],
    }
    item = crafted.types.Item.model_validate(wire)
    assert item.int64_value == -(2**63) and item.uint64_value == 2**64 - 1
    assert math.isnan(item.double_value) and item.float_value == -math.inf
    assert item.byte_value == b"hello?"
    assert item.date_value == dt.date(2024, 2, 29)
    assert item.time_value == dt.datetime(2024, 6, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert item.ttl == dt.timedelta(seconds=3.5)
    out = item.to_dict()
    assert out["int64Value"] == "-9223372036854775808" and out["uint64Value"] == "18446744073709551615"
    assert out["doubleValue"] == "NaN" and out["floatValue"] == "-Infinity"
    assert out["byteValue"] == "aGVsbG8/"  # standard base64 on the way out
    assert out["timeValue"] == "2024-06-01T10:00:00.123456Z"
    assert out["ttl"] == "3.5s" and out["dateValue"] == "2024-02-29" and out["anything"] == [1, {"x": None}]
    assert crafted.types.Item(byte_value=b"\x00\xff").to_dict() == {"byteValue": "AP8="}


def test_crafted_recursive_maps_arrays_inline(crafted):
    item = crafted.types.Item.model_validate(
        {
            "parent": {"parent": {"int32Value": 1}},
            "children": {"a": {"history": [{"labels": {"k": "v"}}]}},
            "matrix": [[1.0, 2.5], []],
            "inline": {"depth": 3},
        }
    )
    assert item.parent.parent.int32_value == 1
    assert item.children["a"].history[0].labels == {"k": "v"}
    assert item.inline.depth == 3 and type(item.inline).__name__ == "ItemInline"


def test_crafted_enums(crafted):
    State = crafted.types.ItemState
    assert [m.value for m in State] == ["STATE_UNSPECIFIED", "ACTIVE", "OLD"]
    assert State.ACTIVE == "ACTIVE"
    with pytest.raises(ValueError):
        crafted.types.Item(state="NEWER")  # strict when we build requests
    from eerest._core.message import parse_response

    parsed = parse_response(crafted.types.Item, {"state": "NEWER", "states": ["A", "C"]})
    assert parsed.state.value == "NEWER" and [s.value for s in parsed.states] == ["A", "C"]
    assert parsed.to_dict() == {"state": "NEWER", "states": ["A", "C"]}


def test_crafted_enum_deprecated_documented(crafted):
    source = Path(crafted.__file__).with_name("_enums.py").read_text()
    assert "OLD = 'OLD'" in source.replace('"', "'")
    assert "Do not use. Deprecated." in source


def test_crafted_calls_on_the_wire(crafted, server):
    from tests.scripted_server import Reply

    server.default = Reply(body=b"{}")
    with crafted.Client("p", credentials=AnonymousCredentials(), base_url=server.url, max_retries=0) as c:
        c.projects.global_.items.import_(
            parent="projects/p",
            from_="src",
            view_mode="FULL",
            tags=["a", "b c"],
            max_age=dt.timedelta(seconds=90),
            validate_only=True,
            order="DESC",
            int64_value=2**62,
            class_="k",
        )
        c.projects.global_.items.get(item_id="a/b?c")
        assert "name" not in crafted._resources.ProjectsGlobalItemsResource.import_.__code__.co_varnames  # readOnly
    first, second = server.requests
    assert first.path == "/svc/v2/projects/p/items:import"
    assert sorted(first.query) == [
        ("from", "src"),
        ("maxAge", "90s"),
        ("order", "DESC"),
        ("tags", "a"),
        ("tags", "b c"),
        ("validateOnly", "true"),
        ("view.mode", "FULL"),
    ]
    assert first.json == {"int64Value": str(2**62), "class": "k"}
    assert second.path == "/svc/v2/items/a%2Fb%3Fc"


def test_crafted_pagination_with_query_token(crafted, server):
    server.reply(json_body={"items": [{"int32Value": 1}], "nextPageToken": "n"})
    server.reply(json_body={"items": [{"int32Value": 2}]})
    with crafted.Client("p", credentials=AnonymousCredentials(), base_url=server.url) as c:
        values = [i.int32_value for i in c.projects.global_.items.list(page_size=1)]
    assert values == [1, 2]
    assert [r.query for r in server.requests] == [[("pageSize", "1")], [("pageSize", "1"), ("pageToken", "n")]]


@pytest.mark.slow
def test_generated_files_have_headers():
    files = pipeline.expected_files(ROOT)
    top = {p.name for p in files if p.parent.name == "v1"}
    assert top == {"__init__.py", "_client.py", "_discovery.py", "_enums.py", "types.py"}
    v1 = [p for p in files if "v1" in p.parts]
    assert sum(p.parent.name == "_resources" for p in v1) == 1 + 27  # the package and one module per resource
    assert sum(p.parent.name == "_types" for p in v1) > 60  # one per group of messages referring to each other
    for path, source in files.items():
        version = next(part for part in path.parts if part.startswith("v1"))
        revision = json.loads((ROOT / "schema" / f"earthengine.{version}.json").read_text())["revision"]
        first, second = source.splitlines()[:2]
        assert first == (
            f"# Generated by eerest codegen from schema/earthengine.{version}.json "
            f"(earthengine:{version}, revision {revision})."
        ), path
        assert second.startswith("# DO NOT EDIT")


@pytest.mark.slow
def test_generation_does_not_depend_on_the_hash_seed():
    """Two processes with different PYTHONHASHSEEDs both find the generated code up to date
    (set and dict orders that leak into the output would make one of them fail)."""
    for seed in ("0", "12345"):
        result = subprocess.run(
            [sys.executable, "-m", "codegen", "check"],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (seed, result.stderr)


def _copy_project(tmp_path: Path) -> Path:
    for name in ("schema", "codegen", "src"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.mark.slow
def test_drift_check_passes_on_the_checkout():
    assert pipeline.check_project(ROOT) == []


@pytest.mark.slow
def test_drift_check_names_hand_edited_stale_and_stray_files(tmp_path):
    root = _copy_project(tmp_path)
    edited = root / "src/eerest/v1/types.py"
    edited.write_text(edited.read_text() + "\n# a hand edit\n")
    stray = root / "src/eerest/v1/extra.py"
    stray.write_text("")
    doc = json.loads((root / "schema/earthengine.v1beta.json").read_text())
    doc["schemas"]["PixelGrid"]["properties"]["newField"] = {"type": "string"}
    (root / "schema/earthengine.v1beta.json").write_text(json.dumps(doc))
    problems = pipeline.check_project(root)
    assert any(p.startswith("src/eerest/v1/types.py") for p in problems)
    assert any(p.startswith("src/eerest/v1/extra.py") for p in problems)
    assert any(p.startswith("src/eerest/v1beta/_types/pixel_grid.py") for p in problems)
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "check", "--root", str(root)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "src/eerest/v1/types.py" in result.stderr
    pipeline.generate_project(root)
    assert pipeline.check_project(root) == []
    assert not stray.exists()


def _third_party_document(name: str) -> Path:
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("google-api-python-client is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{name} is not shipped by this google-api-python-client")
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "resource_path", "method", "args", "expected_path"),
    [
        ("storage.v1", ("buckets",), "get", {"bucket": "my-bucket"}, "/storage/v1/b/my-bucket"),
        (
            "pubsub.v1",
            ("projects", "topics"),
            "get",
            {"topic": "projects/p/topics/t"},
            "/v1/projects/p/topics/t",
        ),
        ("drive.v3", ("files",), "get", {"file_id": "abc"}, "/drive/v3/files/abc"),
    ],
)
def test_real_discovery_documents(tmp_path, server, name, resource_path, method, args, expected_path):
    package = "gen_" + name.replace(".", "_")
    pipeline.generate_standalone(_third_party_document(name), tmp_path, package)
    module = _import_generated(tmp_path, package)
    with module.Client("p", credentials=AnonymousCredentials(), base_url=server.url) as client:
        resource = client
        for part in resource_path:
            resource = getattr(resource, part)
        getattr(resource, method)(**args)
    assert server.requests[0].path == expected_path
    from codegen.discovery import load_api

    api = load_api(json.loads(_third_party_document(name).read_text()))
    assert len(module._resources.SPECS) == len([m for m in api.all_methods() if not m.media_download])
