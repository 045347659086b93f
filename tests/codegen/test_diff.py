"""API change report (codegen.diff) and canonical form (codegen.normalize), driven by
modified copies of schema/earthengine.v1.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from codegen.diff import Change, diff
from codegen.diff_report import main, render_json, render_markdown, render_text
from codegen.normalize import dumps, load, normalize

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema" / "earthengine.v1.json"


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    return load(SCHEMA)


@pytest.fixture
def doc(original: dict[str, Any]) -> dict[str, Any]:
    """A fresh deep copy to mutate into the 'new' document."""
    return copy.deepcopy(original)


def lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The change lines of the text report, without indentation/headers/summary."""
    text = render_text(diff(old, new))
    return [line.strip() for line in text.splitlines() if line.startswith("  ")]


def methods(doc: dict[str, Any], resource: str) -> dict[str, Any]:
    return doc["resources"]["projects"]["resources"][resource]["methods"]


def props(doc: dict[str, Any], schema: str) -> dict[str, Any]:
    return doc["schemas"][schema]["properties"]


# ------------------------------------------------------------------------ the cases


def test_identical_documents_have_no_changes(original: dict[str, Any], doc: dict[str, Any]) -> None:
    report = diff(original, doc)
    assert report.changes == ()
    assert not report.has_breaking
    text = render_text(report)
    assert "no API changes" in text
    assert text.splitlines()[-1] == "summary: 0 changes (0 added, 0 removed, 0 changed), 0 breaking"


def test_field_added(original: dict[str, Any], doc: dict[str, Any]) -> None:
    props(doc, "ComputePixelsRequest")["sampleCount"] = {"type": "integer", "format": "int32"}
    report = diff(original, doc)
    assert report.changes == (
        Change("added", "field", "ComputePixelsRequest.sampleCount", "integer:int32", False),
    )
    assert lines(original, doc) == ["added field ComputePixelsRequest.sampleCount (integer:int32)"]


def test_enum_value_added_and_removed(original: dict[str, Any], doc: dict[str, Any]) -> None:
    fmt = props(doc, "ComputePixelsRequest")["fileFormat"]
    i = fmt["enum"].index("NPY")
    del fmt["enum"][i], fmt["enumDescriptions"][i]
    fmt["enum"].append("WEBP")
    fmt["enumDescriptions"].append("A WebP image.")
    assert lines(original, doc) == [
        "BREAKING removed enum value ComputePixelsRequest.fileFormat=NPY",
        "added enum value ComputePixelsRequest.fileFormat=WEBP",
    ]
    by_path = {c.path: c.breaking for c in diff(original, doc).changes}
    assert by_path == {
        "ComputePixelsRequest.fileFormat=NPY": True,
        "ComputePixelsRequest.fileFormat=WEBP": False,
    }


def test_method_removed(original: dict[str, Any], doc: dict[str, Any]) -> None:
    del methods(doc, "image")["computePixels"]
    assert lines(original, doc) == ["BREAKING removed method projects.image.computePixels"]
    assert diff(original, doc).has_breaking


def test_field_type_changed(original: dict[str, Any], doc: dict[str, Any]) -> None:
    props(doc, "ComputePixelsRequest")["workloadTag"] = {"type": "integer", "format": "int64"}
    assert lines(original, doc) == [
        "BREAKING changed field ComputePixelsRequest.workloadTag: format: None → int64",
        "BREAKING changed field ComputePixelsRequest.workloadTag: type: string → integer",
    ]


def test_parameter_made_required(original: dict[str, Any], doc: dict[str, Any]) -> None:
    old = copy.deepcopy(original)
    methods(old, "assets")["get"]["parameters"]["name"].pop("required")
    assert lines(old, doc) == ["BREAKING changed parameter projects.assets.get(name): required"]
    # ...and the reverse relaxes the API: not breaking.
    assert lines(doc, old) == ["changed parameter projects.assets.get(name): no longer required"]


def test_new_resource(original: dict[str, Any], doc: dict[str, Any]) -> None:
    # A resource the documents do not have (the JavaScript client knows videoMap.export).
    assert "videoMap" not in doc["resources"]["projects"]["resources"]
    compute = copy.deepcopy(methods(doc, "image")["computePixels"])
    compute["id"] = "earthengine.projects.videoMap.export"
    compute["path"] = "v1/{+project}/videoMap:export"
    doc["resources"]["projects"]["resources"]["videoMap"] = {"methods": {"export": compute}}
    report = diff(original, doc)
    assert lines(original, doc) == [
        "added resource projects.videoMap",
        "added method projects.videoMap.export (POST v1/{+project}/videoMap:export)",
    ]
    assert not report.has_breaking


def test_deprecated_flag_is_not_breaking(original: dict[str, Any], doc: dict[str, Any]) -> None:
    methods(doc, "assets")["getPixels"]["deprecated"] = True
    props(doc, "ComputePixelsRequest")["workloadTag"]["deprecated"] = True
    del props(doc, "EarthEngineAsset")["cloudStorageLocation"]["deprecated"]
    assert lines(original, doc) == [
        "changed method projects.assets.getPixels: deprecated",
        "changed field ComputePixelsRequest.workloadTag: deprecated",
        "changed field EarthEngineAsset.cloudStorageLocation: no longer deprecated",
    ]
    assert not diff(original, doc).has_breaking


def test_revision_change(original: dict[str, Any], doc: dict[str, Any]) -> None:
    doc["revision"] = "20261201"
    report = diff(original, doc)
    assert (report.old_revision, report.new_revision) == (original["revision"], "20261201")
    assert report.revision_changed and report.changes == ()
    assert render_text(report).splitlines()[0] == (
        f"earthengine v1: revision {original['revision']} → 20261201"
    )


# ------------------------------------------------------------------------ more of the rules


def test_repeated_and_ref_changes_are_breaking(
    original: dict[str, Any], doc: dict[str, Any]
) -> None:
    props(doc, "ComputePixelsRequest")["bandIds"] = {"type": "string"}
    props(doc, "ComputePixelsRequest")["grid"]["$ref"] = "GridDimensions"
    assert lines(original, doc) == [
        "BREAKING changed field ComputePixelsRequest.bandIds: repeated: True → False",
        "BREAKING changed field ComputePixelsRequest.grid: $ref: PixelGrid → GridDimensions",
    ]


def test_map_values_and_array_items(original: dict[str, Any], doc: dict[str, Any]) -> None:
    props(doc, "Expression")["values"]["additionalProperties"]["$ref"] = "ArrayValue"
    props(doc, "ComputePixelsRequest")["bandIds"]["items"] = {
        "type": "string",
        "enum": ["B1", "B2"],
    }
    assert lines(original, doc) == [
        "BREAKING changed field Expression.values{}: $ref: ValueNode → ArrayValue",
        "added enum value ComputePixelsRequest.bandIds=B1",
        "added enum value ComputePixelsRequest.bandIds=B2",
    ]


def test_inline_object_properties(original: dict[str, Any], doc: dict[str, Any]) -> None:
    old = copy.deepcopy(original)
    inline = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}
    props(old, "ComputePixelsRequest")["origin"] = inline
    props(doc, "ComputePixelsRequest")["origin"] = copy.deepcopy(inline)
    props(doc, "ComputePixelsRequest")["origin"]["properties"]["y"]["type"] = "string"
    del props(doc, "ComputePixelsRequest")["origin"]["properties"]["x"]
    assert lines(old, doc) == [
        "BREAKING removed field ComputePixelsRequest.origin.x",
        "BREAKING changed field ComputePixelsRequest.origin.y: type: number → string",
    ]


def test_parameters_added_pattern_and_enum(original: dict[str, Any], doc: dict[str, Any]) -> None:
    params = methods(doc, "assets")["get"]["parameters"]
    params["view"] = {"type": "string", "location": "query", "enum": ["BASIC", "FULL"]}
    params["etag"] = {"type": "string", "location": "query", "required": True}
    params["name"]["pattern"] = "^projects/[^/]+/assets/[^/]+$"
    doc["parameters"]["alt"]["enum"].remove("proto")
    report = diff(original, doc)
    assert lines(original, doc) == [
        "BREAKING added parameter projects.assets.get(etag) (string, query, required)",
        (
            "BREAKING changed parameter projects.assets.get(name): "
            "pattern: ^projects/[^/]+/assets/.*$ → ^projects/[^/]+/assets/[^/]+$"
        ),
        "added parameter projects.assets.get(view) (string, query)",
        "BREAKING removed enum value (global).alt=proto",
    ]
    assert len(report.breaking) == 3


def test_pattern_removed_is_not_breaking(original: dict[str, Any], doc: dict[str, Any]) -> None:
    del methods(doc, "assets")["get"]["parameters"]["name"]["pattern"]
    [change] = diff(original, doc).changes
    assert change.what == "parameter" and not change.breaking


def test_method_binding_changes(original: dict[str, Any], doc: dict[str, Any]) -> None:
    get = methods(doc, "assets")["get"]
    get["httpMethod"] = "POST"
    get["response"]["$ref"] = "Tileset"
    get["request"] = {"$ref": "GetPixelsRequest"}
    compute = methods(doc, "image")["computePixels"]
    compute["path"] = compute["path"].replace("computePixels", "computePixelsV2")
    compute["flatPath"] = compute["flatPath"].replace("computePixels", "computePixelsV2")
    assert lines(original, doc) == [
        "BREAKING changed method projects.assets.get: httpMethod: GET → POST",
        "BREAKING changed method projects.assets.get: request: None → GetPixelsRequest",
        "BREAKING changed method projects.assets.get: response: EarthEngineAsset → Tileset",
        (
            "BREAKING changed method projects.image.computePixels: "
            "path: v1/{+project}/image:computePixels → v1/{+project}/image:computePixelsV2"
        ),
    ]


def test_schemas_and_resources_removed(original: dict[str, Any], doc: dict[str, Any]) -> None:
    del doc["resources"]["projects"]["resources"]["imageCollection"]
    del doc["schemas"]["ComputeImagesRequest"]
    assert "VideoMapSource" not in doc["schemas"]
    doc["schemas"]["VideoMapSource"] = {"id": "VideoMapSource", "type": "object", "properties": {}}
    report = diff(original, doc)
    assert lines(original, doc) == [
        "BREAKING removed resource projects.imageCollection",
        "BREAKING removed method projects.imageCollection.computeImages",
        "BREAKING removed schema ComputeImagesRequest",
        "added schema VideoMapSource (object)",
    ]
    assert [c.breaking for c in report.changes] == [True, True, True, False]


def test_new_api_version_is_all_added(original: dict[str, Any]) -> None:
    report = diff(None, original)
    assert report.new_version and report.old_revision is None
    assert not report.has_breaking
    assert {c.kind for c in report.changes} == {"added"}
    paths = {c.path for c in report.changes}
    assert {"projects.image.computePixels", "projects.assets", "ComputePixelsRequest"} <= paths
    assert render_text(report).splitlines()[0] == (
        f"earthengine v1: new API version, revision {original['revision']}"
    )


# ------------------------------------------------------------------------------- rendering


@pytest.fixture
def mixed(original: dict[str, Any], doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One change of each report group, plus a revision bump."""
    doc["revision"] = "20261201"
    del methods(doc, "image")["computePixels"]
    methods(doc, "assets")["get"]["parameters"]["view"] = {"type": "string", "location": "query"}
    props(doc, "ComputePixelsRequest")["sampleCount"] = {"type": "integer", "format": "int32"}
    props(doc, "ComputePixelsRequest")["fileFormat"]["enum"].append("WEBP")
    return original, doc


def test_render_text_groups_and_summary(mixed: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old, new = mixed
    assert render_text(diff(old, new)) == (
        f"earthengine v1: revision {old['revision']} → 20261201\n"
        "methods:\n"
        "  BREAKING removed method projects.image.computePixels\n"
        "parameters:\n"
        "  added parameter projects.assets.get(view) (string, query)\n"
        "schemas/fields:\n"
        "  added field ComputePixelsRequest.sampleCount (integer:int32)\n"
        "enum values:\n"
        "  added enum value ComputePixelsRequest.fileFormat=WEBP\n"
        "summary: 4 changes (3 added, 1 removed, 0 changed), 1 breaking\n"
    )


def test_render_json_is_stable_and_sorted(mixed: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old, new = mixed
    text = render_json(diff(old, new))
    assert text == render_json(diff(copy.deepcopy(old), copy.deepcopy(new)))
    payload = json.loads(text)
    assert text == json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert payload["old_revision"] == old["revision"] and payload["new_revision"] == "20261201"
    assert payload["counts"] == {"added": 3, "removed": 1, "changed": 0, "breaking": 1, "total": 4}
    assert payload["changes"][0] == {
        "kind": "removed",
        "what": "method",
        "path": "projects.image.computePixels",
        "detail": "",
        "breaking": True,
    }
    assert [c["path"] for c in payload["changes"]] == [
        "projects.image.computePixels",
        "projects.assets.get(view)",
        "ComputePixelsRequest.sampleCount",
        "ComputePixelsRequest.fileFormat=WEBP",
    ]


def test_render_markdown(mixed: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old, new = mixed
    text = render_markdown(diff(old, new), "20261201")
    assert text.startswith("## earthengine v1 — revision 20261201\n")
    assert f"Revision {old['revision']} → 20261201: 4 changes" in text
    assert "- **BREAKING** removed method `projects.image.computePixels`\n" in text
    assert "- added field `ComputePixelsRequest.sampleCount` (integer:int32)\n" in text
    assert "- added enum value `ComputePixelsRequest.fileFormat=WEBP`\n" in text
    assert text.index("### Methods") < text.index("### Parameters") < text.index("### Enum values")


# ------------------------------------------------------------------------------------- CLI


def write(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_main_text_and_json(
    mixed: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = (write(tmp_path / "old.json", mixed[0]), write(tmp_path / "new.json", mixed[1]))
    assert main([old, new, "--all"]) == 0
    out = capsys.readouterr().out
    assert "  BREAKING removed method projects.image.computePixels\n" in out
    assert main([old, new, "--json", "--all"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["breaking"] == 1


def _root_selecting(tmp_path: Path, include_methods: list[str]) -> Path:
    """A project root whose config.yaml selects only ``include_methods`` (the project's own
    config selects every method)."""
    root = tmp_path / "root"
    (root / "codegen").mkdir(parents=True)
    (root / "schema").mkdir()
    config = (ROOT / "codegen" / "config.yaml").read_text(encoding="utf-8")
    assert "\ninclude_methods:" not in config
    selection = "".join(f"  - {m}\n" for m in include_methods)
    (root / "codegen" / "config.yaml").write_text(config + f"\ninclude_methods:\n{selection}", encoding="utf-8")
    for path in (ROOT / "schema").glob("earthengine.*.json"):
        (root / "schema" / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def test_main_judges_the_whole_document_the_project_generates(
    original: dict[str, Any], doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """config.yaml selects every method: a change to any method is on the surface."""
    del methods(doc, "assets")["delete"]
    props(doc, "ComputePixelsRequest")["sampleCount"] = {"type": "integer", "format": "int32"}
    old, new = write(tmp_path / "old.json", original), write(tmp_path / "new.json", doc)
    assert main([old, new, "--root", str(ROOT), "--json"]) == 0
    changes = {c["path"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert {"projects.assets.delete", "ComputePixelsRequest.sampleCount"} <= set(changes)
    assert changes["projects.assets.delete"]["breaking"]


def test_main_judges_the_generated_surface(
    original: dict[str, Any], doc: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With include_methods in config.yaml, changes to methods it does not select, and to
    schemas only they reach, are not reported; a schema that leaves the surface with its
    method is."""
    root = _root_selecting(
        tmp_path,
        ["projects.image.computePixels", "projects.assets.getPixels", "projects.assets.get",
         "projects.imageCollection.computeImages"],
    )
    doc["resources"]["projects"]["resources"]["assets"]["methods"]["delete"] = {
        "id": "earthengine.projects.assets.delete", "path": "v1/{+name}", "httpMethod": "DELETE",
        "parameters": {"name": {"type": "string", "location": "path", "required": True}},
        "response": {"$ref": "Unselected"},
    }
    doc["schemas"]["Unselected"] = {"id": "Unselected", "type": "object", "properties": {}}
    props(doc, "ComputePixelsRequest")["sampleCount"] = {"type": "integer", "format": "int32"}
    old, new = write(tmp_path / "old.json", original), write(tmp_path / "new.json", doc)
    assert main([old, new, "--root", str(root), "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert [(c["kind"], c["path"]) for c in changes] == [("added", "ComputePixelsRequest.sampleCount")]
    assert main([old, new, "--root", str(root), "--json", "--all"]) == 0
    paths = {c["path"] for c in json.loads(capsys.readouterr().out)["changes"]}
    assert {"projects.assets.delete", "Unselected", "ComputePixelsRequest.sampleCount"} <= paths

    del methods(doc, "image")["computePixels"]
    write(tmp_path / "new.json", doc)
    assert main([old, new, "--root", str(root), "--json"]) == 0
    breaking = {c["path"] for c in json.loads(capsys.readouterr().out)["changes"] if c["breaking"]}
    assert {"projects.image.computePixels", "ComputePixelsRequest"} <= breaking


def test_main_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.json"), str(SCHEMA)]) == 2
    assert "error:" in capsys.readouterr().err
    assert main([str(SCHEMA)]) == 2  # argparse: NEW missing


# -------------------------------------------------------------------------------- normalize


def test_checked_in_schemas_are_canonical() -> None:
    for path in sorted((ROOT / "schema").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert dumps(normalize(json.loads(text))) == text, path.name


def test_normalize_sorts_keys_recursively_and_keeps_lists() -> None:
    doc = {"b": {"z": 1, "a": [{"y": 2, "x": 1}]}, "a": "é"}
    out = normalize(doc)
    assert list(out) == ["a", "b"] and list(out["b"]) == ["a", "z"]
    assert list(out["b"]["a"][0]) == ["x", "y"]
    assert (
        dumps(out) == '{\n  "a": "é",\n  "b": {\n    "a": [\n      {\n        "x": 1,\n'
        '        "y": 2\n      }\n    ],\n    "z": 1\n  }\n}\n'
    )
    assert doc == {"b": {"z": 1, "a": [{"y": 2, "x": 1}]}, "a": "é"}  # input untouched


def test_load_rejects_non_objects(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError):
        load(path)
