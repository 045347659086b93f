"""schema/ and the sources it is built from (codegen.build_schema, schema/README.md).

- the builder's output is the checked-in schema/ (and the emulator's copies), byte for byte;
- every method page of each version is a method of that version's document;
- the three machine-readable descriptions agree, but for the allow-listed disagreements;
- the vendored sources are the pinned ones;
- a page the parser cannot read is an error naming its file and line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from codegen.build_schema import build_all, read_pages, revision, sources
from codegen.build_schema.assemble import rpc_name
from codegen.build_schema.crosscheck import disagreements, load_allowlist
from codegen.build_schema.http_rule import parse_route
from codegen.build_schema.markdown import PageError
from codegen.build_schema.pages import read_page
from codegen.build_schema.text import clean

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_COPIES = ROOT / "emulator" / "src" / "eerest_emulator" / "discovery"


@pytest.fixture(scope="module")
def built() -> dict[Path, str]:
    return build_all(ROOT)


@pytest.fixture(scope="module")
def documents(built: dict[Path, str]) -> dict[str, dict[str, Any]]:
    return {path.name.split(".")[1]: json.loads(text) for path, text in built.items()}


def _method_ids(resource: dict[str, Any]) -> list[str]:
    ids = [spec["id"].removeprefix("earthengine.") for spec in resource.get("methods", {}).values()]
    for child in resource.get("resources", {}).values():
        ids.extend(_method_ids(child))
    return ids


# -- drift ----------------------------------------------------------------------------------------
def test_schema_files_are_what_the_builder_writes(built: dict[Path, str]) -> None:
    assert sorted(p.name for p in built) == [f"earthengine.{v}.json" for v in sorted(sources.VERSIONS)]
    for path, text in built.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run `python -m codegen.build_schema`"


def test_the_build_is_deterministic(built: dict[Path, str]) -> None:
    assert build_all(ROOT) == built


def test_the_emulator_ships_the_same_documents() -> None:
    for version in sources.VERSIONS:
        name = f"earthengine.{version}.json"
        assert (EMULATOR_COPIES / name).read_bytes() == (ROOT / "schema" / name).read_bytes(), name


def test_revision_is_the_snapshot_day(documents: dict[str, dict[str, Any]]) -> None:
    assert {doc["revision"] for doc in documents.values()} == {revision()}
    assert revision() == sources.REFERENCE_SNAPSHOT.replace("-", "")


# -- completeness ---------------------------------------------------------------------------------
@pytest.mark.parametrize("version", sources.VERSIONS)
def test_every_method_page_is_a_method_of_the_document(version: str, documents: dict[str, dict[str, Any]]) -> None:
    folder = sources.REFERENCE / version
    method_pages = sorted(p for p in folder.glob("projects*/*.md"))
    page_ids = {f"{p.parent.name}.{p.stem}" for p in method_pages}
    ids = _method_ids(documents[version])
    assert len(ids) == len(set(ids)) == len(method_pages)
    assert set(ids) == page_ids


def test_method_counts() -> None:
    """The counts the pages hold (change them with the pages)."""
    counts = {v: len(list((sources.REFERENCE / v).glob("projects*/*.md"))) for v in sources.VERSIONS}
    assert counts == {"v1alpha": 53, "v1beta": 51, "v1": 51}


def test_names_the_sdk_relies_on_are_there(documents: dict[str, dict[str, Any]]) -> None:
    names = {
        "EarthEngineAsset", "PixelGrid", "AffineTransform", "GridDimensions", "Expression", "ValueNode",
        "ArrayValue", "DictionaryValue", "FunctionDefinition", "FunctionInvocation", "ComputePixelsRequest",
        "GetPixelsRequest", "ComputeImagesRequest", "ComputeImagesResponse", "ImageBand", "PixelDataType",
        "VisualizationOptions", "DoubleRange", "HttpBody",
    }  # fmt: skip
    for version, doc in documents.items():
        schemas = doc["schemas"]
        assert names <= set(schemas), (version, names - set(schemas))
        assert "enum" in schemas["ComputePixelsRequest"]["properties"]["fileFormat"]
        assert "enum" in schemas["ImageBand"]["properties"]["pyramidingPolicy"]


def test_every_reference_resolves(documents: dict[str, dict[str, Any]]) -> None:
    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            own = {node["$ref"]} if "$ref" in node else set()
            return own.union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node))
        return set()

    for doc in documents.values():
        assert refs(doc) <= set(doc["schemas"])
        assert all(schema["id"] == name for name, schema in doc["schemas"].items())


# -- the three sources ------------------------------------------------------------------------------
def test_sources_agree_but_for_the_allow_list(documents: dict[str, dict[str, Any]]) -> None:
    allowed = load_allowlist()
    found = disagreements(documents)
    unexpected = [f"{d.line}  [{', '.join(d.versions)}]" for d in found if d.line not in allowed]
    assert unexpected == [], "disagreements not in schema/sources/crosscheck_allowlist.yaml"
    stale = sorted(set(allowed) - {d.line for d in found})
    assert stale == [], "allow-list entries that match no disagreement any more"


def test_vendored_sources_are_the_pinned_ones() -> None:
    assert hashlib.sha256(sources.FIXTURE.read_bytes()).hexdigest() == sources.FIXTURE_SHA256
    js = json.loads(sources.JS_EXTRACT.read_text(encoding="utf-8"))["source"]
    assert (js["package"], js["version"], js["integrity"]) == (sources.JS_PACKAGE, sources.JS_VERSION, sources.JS_INTEGRITY)
    google = json.loads(sources.GOOGLE_TYPES.read_text(encoding="utf-8"))["source"]
    assert (google["version"], google["wheelSha256"]) == (sources.GAPIC_VERSION, sources.GAPIC_WHEEL_SHA256)


# -- the parts --------------------------------------------------------------------------------------
def test_routes() -> None:
    route = parse_route("v1", "{name=projects/*/assets/**}:getPixels")
    assert (route.path, route.flat_path) == ("v1/{+name}:getPixels", "v1/projects/{projectsId}/assets/{assetsId}:getPixels")
    assert route.params[0].pattern == "^projects/[^/]+/assets/.*$"
    route = parse_route("v1", "{parent=projects/*/maps/*}/tiles/{zoom}/{x}/{y}")
    assert route.path == "v1/{+parent}/tiles/{zoom}/{x}/{y}"
    assert route.flat_path == "v1/projects/{projectsId}/maps/{mapsId}/tiles/{zoom}/{x}/{y}"
    assert [(p.name, p.pattern) for p in route.params] == [
        ("parent", "^projects/[^/]+/maps/[^/]+$"), ("zoom", None), ("x", None), ("y", None),
    ]  # fmt: skip
    route = parse_route("v1", "{asset.name=projects/*/assets/**}")
    assert (route.path, route.params[0].field, route.params[0].name) == ("v1/{+name}", "asset.name", "name")
    with pytest.raises(ValueError, match="'\\*\\*' must be the last segment"):
        parse_route("v1", "{name=projects/**/x}")


def test_rpc_names() -> None:
    assert rpc_name("projects.table.computeFeatures") == "ComputeFeatures"
    assert rpc_name("projects.assets.copy") == "CopyAsset"
    assert rpc_name("projects.assets.patch") == "UpdateAsset"
    assert rpc_name("projects.operations.list") == "ListOperations"
    assert rpc_name("projects.value.compute") == "ComputeValue"
    assert rpc_name("projects.image.importExternal") == "ImportExternalImage"


def test_descriptions_lose_what_the_site_adds() -> None:
    text, deprecated = clean(
        [
            "This item is deprecated! The `ListAssetsResponse.next_page_token[](https://x/y#z)` of "
            "<https://example.com/a>. See [Resource names](https://cloud.google.com/apis/design/resource_names). "
            "Authorization requires the following [IAM](https://cloud.google.com/iam/docs/) permission on the "
            "specified resource `name`:",
            "  * `earthengine.assets.get`",
            "",
        ]
    )
    assert deprecated
    assert text == (
        "The `ListAssetsResponse.next_page_token` of https://example.com/a. "
        "See [Resource names](https://cloud.google.com/apis/design/resource_names)."
    )


def _page(tmp_path: Path, text: str) -> Path:
    (tmp_path / "Thing.md").write_text(text, encoding="utf-8")
    return tmp_path


def test_an_unreadable_row_names_file_and_line(tmp_path: Path) -> None:
    folder = _page(tmp_path, "#  Thing\nA thing.\nFields  \n---  \n`a` |  `string` A.  \n`b` |  `quaternion` B.  \n")
    with pytest.raises(PageError, match=r"Thing\.md:6: field b: unknown type 'quaternion'"):
        read_page(folder, "Thing.md")


def test_text_between_header_and_rows_is_an_error(tmp_path: Path) -> None:
    folder = _page(tmp_path, "#  Thing\nA thing.\nFields  \n---  \nstray text\n`a` |  `string` A.  \n")
    with pytest.raises(PageError, match=r"Thing\.md:5: text between a table header"):
        read_page(folder, "Thing.md")


def test_every_vendored_page_reads() -> None:
    for version in sources.VERSIONS:
        pages = read_pages(sources.REFERENCE / version)
        assert all(page.types or page.method or page.listed_methods for page in pages.values())
    assert read_pages(sources.SUPPLEMENT)
