"""`eerest read-table` against the emulator: the file it writes and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from eerest._cli.commands import cli
from eerest._cli.table import read_table  # noqa: F401  (registers the command)

gpd = pytest.importorskip("geopandas")

PLACES = "projects/eerest/assets/sample/places"
TOKEN = "cli-test-token-5f2e9c"


def run(emulator: Any, *args: str, stdin: str | None = None) -> Result:
    env = {"EEREST_ACCESS_TOKEN": TOKEN, "GOOGLE_CLOUD_PROJECT": None, "EEREST_BASE_URL": None}
    argv = ["read-table", *args, "--base-url", emulator.url, "--project", "eerest"]
    return CliRunner().invoke(cli, argv, env=env, input=stdin, prog_name="eerest")


def load_table(name: str) -> dict[str, Any]:
    call = {"functionName": "Collection.loadTable", "arguments": {"tableId": {"constantValue": name}}}
    return {"result": "0", "values": {"0": {"functionInvocationValue": call}}}


def test_writes_geoparquet_of_an_asset(ee_emulator: Any, tmp_path: Path) -> None:
    out = tmp_path / "places.parquet"
    result = run(ee_emulator, PLACES, "-o", str(out), "--page-size", "5")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out}: 12 features, ")
    frame = gpd.read_parquet(out)
    assert len(frame) == 12 and frame.crs.to_epsg() == 4326 and frame["name"][0] == "Hochkar Hut"


def test_writes_an_expression_with_columns(ee_emulator: Any, tmp_path: Path) -> None:
    (tmp_path / "fc.json").write_text(json.dumps(load_table(PLACES)))
    out = tmp_path / "some.parquet"
    result = run(ee_emulator, "--expression", str(tmp_path / "fc.json"), "-o", str(out), "--columns", "name,height_m")
    assert result.exit_code == 0, result.output
    assert list(gpd.read_parquet(out).columns) == ["name", "height_m", "geometry"]
    out2 = tmp_path / "stdin.parquet"
    assert run(ee_emulator, "--expression", "-", "-o", str(out2), stdin=json.dumps(load_table(PLACES))).exit_code == 0
    assert len(gpd.read_parquet(out2)) == 12


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((PLACES, "-o", "x.csv"), "name it .parquet"),
        (("USDOS/LSIB", "-o", "x.parquet"), "not an asset name"),
        (("projects/eerest/assets/sample/nope", "-o", "x.parquet"), "not found"),
        (("projects/eerest/assets/sample/elevation", "-o", "x.parquet"), "not a Table"),
        (("-o", "x.parquet"), "missing SOURCE"),
        ((PLACES, "-o", "x.parquet", "--page-size", "0"), "--page-size"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(ee_emulator: Any, tmp_path: Path, monkeypatch: Any, args: tuple[str, ...],
                                            message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(ee_emulator, *args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output
    assert not list(tmp_path.iterdir())
