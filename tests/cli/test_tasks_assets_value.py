"""`eerest tasks`, `eerest assets` and `eerest value` against the emulator: what they print,
what they change there (checked with the client), and their one-line errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from click.testing import CliRunner, Result

import eerest
from eerest._cli import assets, tasks, value  # noqa: F401  (register the commands)
from eerest._cli.commands import cli

ee = pytest.importorskip("ee")

SCENE = "projects/eerest/assets/sample/scenes/20240504"
SCENES = "projects/eerest/assets/sample/scenes"
TOKEN = "cli-test-token-7a1c"
LOAD_SCENE = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.load", "arguments": {"id": {"constantValue": SCENE}}}}}}


def run(emulator: Any, *args: str, stdin: str | None = None) -> Result:
    env = {"EEREST_ACCESS_TOKEN": TOKEN, "GOOGLE_CLOUD_PROJECT": None, "EEREST_BASE_URL": None}
    argv = [*args, "--base-url", emulator.url, "--project", "eerest"]
    return CliRunner().invoke(cli, argv, env=env, input=stdin, prog_name="eerest")


def export(client: Any, description: str) -> Any:
    grid = {"crsCode": "EPSG:32633", "dimensions": {"width": 8, "height": 8},
            "affineTransform": {"scaleX": 10, "shearX": 0, "translateX": 533120, "shearY": 0, "scaleY": -10,
                                "translateY": 5311840}}
    return client.export({
        "kind": "image", "description": description, "expression": LOAD_SCENE, "grid": grid,
        "fileExportOptions": {"fileFormat": "GEO_TIFF",
                              "cloudStorageDestination": {"bucket": "cli", "filenamePrefix": description}},
    })


def test_tasks_list_info_wait_cancel(ee_emulator: Any, ee_client: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    ee_emulator.operations.configure(run_seconds=0.2)
    done = export(ee_client, f"done-{tag}")
    result = run(ee_emulator, "tasks", "wait", done.name, "--timeout", "60")
    assert result.exit_code == 0, result.output
    assert result.output == f"{done.name}: SUCCEEDED\n"
    ee_emulator.operations.configure(run_seconds=600)
    slow = export(ee_client, f"slow-{tag}")

    result = run(ee_emulator, "tasks", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "TYPE", "STATE", "PROGRESS", "DESCRIPTION"]
    mine = {line.split()[-1]: line.split() for line in lines[1:] if tag in line}
    assert mine[f"done-{tag}"][:4] == [done.name.rsplit("/", 1)[-1], "EXPORT_IMAGE", "SUCCEEDED", "100%"]
    assert mine[f"slow-{tag}"][2] in ("PENDING", "RUNNING")

    result = run(ee_emulator, "tasks", "list", "--state", "succeeded", "--json")
    states = {json.loads(line)["metadata"]["state"] for line in result.output.splitlines()}
    assert result.exit_code == 0 and states == {"SUCCEEDED"}
    assert len(run(ee_emulator, "tasks", "list", "--json", "--limit", "1").output.splitlines()) == 1

    result = run(ee_emulator, "tasks", "info", slow.name.rsplit("/", 1)[-1])  # a bare ID, in --project
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["name"] == slow.name and shown["done"] is False
    assert shown["metadata"]["description"] == f"slow-{tag}" and shown["metadata"]["state"] in ("PENDING", "RUNNING")

    result = run(ee_emulator, "tasks", "wait", slow.name, "--timeout", "0.2")
    assert result.exit_code == 1 and result.output.startswith("Error: operation") and "not done" in result.output

    result = run(ee_emulator, "tasks", "cancel", slow.name)
    assert result.exit_code == 0 and result.output == f"{slow.name}: cancel requested\n"
    result = run(ee_emulator, "tasks", "wait", done.name, slow.name, "--timeout", "60")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("Error: 1 of 2 tasks did not succeed: ")
    assert ee_client.operation(slow.name).refresh().state == "CANCELLED"


def test_tasks_errors_are_one_line(ee_emulator: Any) -> None:
    result = run(ee_emulator, "tasks", "info", "projects/eerest/assets/x")
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "not an operation name" in result.output
    result = run(ee_emulator, "tasks", "info", "projects/eerest/operations/NOPE")
    assert result.exit_code == 1 and result.output.count("\n") == 1


def test_assets_ls_info_mkdir_cp_mv_rm(ee_emulator: Any, ee_client: Any) -> None:
    root = f"projects/eerest/assets/cli-{uuid.uuid4().hex[:8]}"
    assert run(ee_emulator, "assets", "mkdir", root, f"{root}/sub").exit_code == 0
    result = run(ee_emulator, "assets", "mkdir", "--collection", f"{root}/coll")
    assert result.exit_code == 0 and result.output == f"created {root}/coll\n"

    result = run(ee_emulator, "assets", "cp", SCENE, f"{root}/sub/a")
    assert result.exit_code == 0, result.output
    assert run(ee_emulator, "assets", "cp", SCENE, f"{root}/sub/a").exit_code == 1  # exists
    assert run(ee_emulator, "assets", "cp", "-f", SCENE, f"{root}/sub/a").exit_code == 0
    assert run(ee_emulator, "assets", "mv", f"{root}/sub/a", f"{root}/b").exit_code == 0

    result = run(ee_emulator, "assets", "ls", root)
    assert result.exit_code == 0, result.output
    assert sorted(result.output.split()) == sorted([f"{root}/b", f"{root}/coll", f"{root}/sub"])
    result = run(ee_emulator, "assets", "ls", "-l", root)
    rows = {line.split()[-1]: line.split() for line in result.output.splitlines()[1:]}
    assert rows[f"{root}/b"][0] == "IMAGE" and rows[f"{root}/sub"][0] == "FOLDER"
    assert int(rows[f"{root}/b"][2]) == ee_client.projects.assets.get(name=f"{root}/b").size_bytes
    listed = run(ee_emulator, "assets", "ls", "projects/eerest").output.split()
    assert root in listed and "projects/eerest/assets/sample" in listed

    result = run(ee_emulator, "assets", "info", f"{root}/b")
    assert json.loads(result.output) == ee_client.projects.assets.get(name=f"{root}/b").to_dict()

    result = run(ee_emulator, "assets", "rm", root)  # not empty
    assert result.exit_code == 1 and result.output.count("\n") == 1
    result = run(ee_emulator, "assets", "rm", "-r", root)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"deleted {root}"
    assert set(result.output.split()) >= {f"{root}/b", f"{root}/coll", f"{root}/sub"}
    with pytest.raises(eerest.NotFoundError):
        ee_client.projects.assets.get(name=root)


def test_assets_refuse_what_is_not_an_asset_name(ee_emulator: Any) -> None:
    result = run(ee_emulator, "assets", "cp", "scene", "projects/eerest/assets/x")
    assert result.exit_code == 2 and "is not an asset name (projects/PROJECT/assets/ID)" in result.output


def test_value_prints_what_get_info_returns(ee_emulator: Any) -> None:
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    try:
        obj = ee.Dictionary({"n": ee.Number(2).add(3), "bands": ee.Image(SCENE).bandNames(),
                             "count": ee.ImageCollection(SCENES).size()})
        expression = json.dumps(ee.serializer.encode(obj, for_cloud_api=True))
        result = run(ee_emulator, "value", "-", stdin=expression)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == obj.getInfo()
    finally:
        ee.Reset()
    result = run(ee_emulator, "value", "-", stdin="[1, 2]")
    assert result.exit_code == 2 and "not an Expression" in result.output
