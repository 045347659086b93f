"""Bad command lines: exit status 2 and one line on stderr, before anything is sent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from eerest._cli.commands import cli
from eerest._cli.params import ByteSize

ASSET = "projects/eerest/assets/sample/scenes/20240504"
GRID = ["--crs", "EPSG:32633", "--scale", "10", "--bbox", "533120", "5309600", "535360", "5311840"]


def run(args: list[str], **kwargs: object) -> object:
    return CliRunner().invoke(cli, args, prog_name="eerest", **kwargs)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([ASSET, *GRID], "Missing option '-o'"),
        ([ASSET, *GRID, "-o", "out.png"], "name it .tif (GeoTIFF) or .npy"),
        ([ASSET, *GRID, "-o", "no-such-dir/out.tif"], "no such directory"),
        (["USGS/SRTMGL1_003", *GRID, "-o", "out.tif"], "projects/earthengine-public/assets/USGS/SRTMGL1_003"),
        ([*GRID, "-o", "out.tif"], "missing SOURCE"),
        (["-", *GRID, "-o", "out.tif"], "missing SOURCE"),
        ([ASSET, "--crs", "EPSG:32633", "--scale", "10", "-o", "out.tif"], "give --crs and --scale with --bbox or --region"),
        ([ASSET, "--crs", "EPSG:32633", "--scale", "0", "--bbox", "0", "0", "1", "1", "-o", "out.tif"], "--scale"),
        ([ASSET, "--crs", "EPSG:32633", "--scale", "10", "--bbox", "5", "0", "1", "1", "-o", "out.tif"], "is empty"),
        ([ASSET, "--crs", "EPSG:32633", "--scale", "10", "--bbox", "0", "0", "1", "-o", "out.tif"], "--bbox"),
        ([ASSET, *GRID, "--bands", "red,,nir", "-o", "out.tif"], "empty band name"),
        ([ASSET, *GRID, "--bands", "red", "--bands", "red", "-o", "out.tif"], "red given more than once"),
        ([ASSET, *GRID, "--max-tile-bytes", "lots", "-o", "out.tif"], "is not a size"),
        ([ASSET, *GRID, "--max-concurrency", "0", "-o", "out.tif"], "--max-concurrency"),
        ([ASSET, *GRID, "--api-version", "v2", "-o", "out.tif"], "--api-version"),
        ([ASSET, *GRID, "--resume", "--resume-check", "0", "-o", "out.tif"], "give a number more than 0 and at most 1"),
        ([ASSET, *GRID, "--resume", "--resume-check", "1.5", "-o", "out.tif"], "'--resume-check': '1.5' is not a share"),
        ([ASSET, *GRID, "--resume", "--resume-check", "nan", "-o", "out.tif"], "is not a share of the kept tiles"),
        ([ASSET, *GRID, "--resume", "--resume-check", "10%", "-o", "out.tif"], "is not a share of the kept tiles"),
        ([ASSET, *GRID, "--resume-check", "0.1", "-o", "out.tif"], "--resume-check applies to a resumed read: add --resume"),
        ([ASSET, *GRID, "--no-such-option", "-o", "out.tif"], "No such option"),
        (["read-areas"], "No such command"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], says: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = args if args and args[0] == "read-areas" else ["read-area", *args]
    result = run(argv)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and says in lines[0]
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_expression_and_source_together(tmp_path: Path) -> None:
    expr = tmp_path / "expr.json"
    expr.write_text('{"result": "0", "values": {"0": {"constantValue": 1}}}')
    result = run(["read-area", ASSET, "--expression", str(expr), *GRID, "-o", str(tmp_path / "o.tif")])
    assert result.exit_code == 2
    assert "give SOURCE or --expression, not both" in result.stderr


@pytest.mark.parametrize(
    ("text", "says"),
    [("{not json", "not valid JSON"), ('["result"]', "not an Earth Engine expression"),
     ('{"values": {}}', "not an Earth Engine expression")],
)
def test_bad_expression_file(text: str, says: str, tmp_path: Path) -> None:
    expr = tmp_path / "expr.json"
    expr.write_text(text)
    result = run(["read-area", "--expression", str(expr), *GRID, "-o", str(tmp_path / "o.tif")])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and says in result.stderr


def test_an_expression_needs_a_grid(tmp_path: Path) -> None:
    expr = tmp_path / "expr.json"
    expr.write_text('{"result": "0", "values": {"0": {"constantValue": 1}}}')
    result = run(["read-area", "--expression", str(expr), "-o", str(tmp_path / "o.tif")])
    assert result.exit_code == 2
    assert "missing the output area: give --crs and --scale with --bbox or --region (or --grid FILE, --like FILE.tif)" in result.stderr


def test_grid_file_and_bbox_are_exclusive(tmp_path: Path) -> None:
    grid = tmp_path / "grid.json"
    grid.write_text("{}")
    result = run(["read-area", ASSET, "--grid", str(grid), "--scale", "10", "-o", str(tmp_path / "o.tif")])
    assert result.exit_code == 2
    assert "--grid and --like give the whole grid: drop --scale" in result.stderr


def test_missing_expression_file(tmp_path: Path) -> None:
    result = run(["read-area", "--expression", str(tmp_path / "nope.json"), *GRID, "-o", str(tmp_path / "o.tif")])
    assert result.exit_code == 2
    assert "nope.json" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "size"),
    [("1000", 1000), ("16MiB", 16 * 2**20), ("16M", 16 * 2**20), ("16 mb", 16 * 10**6), ("1.5KiB", 1536),
     ("2G", 2 * 2**30)],
)
def test_byte_sizes(text: str, size: int) -> None:
    assert ByteSize().convert(text, None, None) == size


def test_help_and_version_exit_0() -> None:
    for args in (["--help"], ["read-area", "--help"], ["--version"]):
        result = run(args)
        assert result.exit_code == 0, result.output
    assert "EEREST_ACCESS_TOKEN" in run(["read-area", "--help"]).stdout


def test_python_m_eerest_is_the_same_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "eerest", "read-area", "x"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["Error: Missing option '-o' / '--output'. (see 'eerest read-area --help')"]


def test_emulator_command_delegates() -> None:
    result = run(["emulator", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.stdout


def test_without_the_cli_extra_the_command_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    import eerest._cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "click" else real(name, *a))
    assert eerest._cli.main(["read-area", "--help"]) == 1
    assert capsys.readouterr().err == (
        "Error: the eerest command line needs click, tqdm and tifffile: pip install 'eerest[cli]'\n"
    )


def test_eerest_alone_shows_the_help() -> None:
    result = run([])
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: eerest [OPTIONS] COMMAND [ARGS]...")
    assert "read-area" in result.stderr and "emulator" in result.stderr
