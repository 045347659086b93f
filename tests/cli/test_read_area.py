"""`eerest read-area` against the emulator: the file it writes, its progress bar, its errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from eerest._cli.commands import cli

tifffile = pytest.importorskip("tifffile")

SCENE = "projects/eerest/assets/sample/scenes/20240504"
X0, Y0, X1, Y1 = 533120.0, 5309600.0, 535360.0, 5311840.0  # the sample scene's footprint, EPSG:32633
TOKEN = "cli-test-token-5f2e9c"


def read_area(emulator: Any, *args: str, token: str | None = TOKEN, stdin: str | None = None) -> Result:
    env = {"EEREST_ACCESS_TOKEN": token, "GOOGLE_CLOUD_PROJECT": None, "EEREST_BASE_URL": None}
    argv = ["read-area", *args, "--base-url", emulator.url, "--project", "eerest"]
    return CliRunner().invoke(cli, argv, env=env, input=stdin, prog_name="eerest")


def grid(scale: float) -> dict[str, Any]:
    return {
        "crsCode": "EPSG:32633",
        "affineTransform": {"scaleX": scale, "shearX": 0, "translateX": X0, "shearY": 0, "scaleY": -scale,
                            "translateY": Y1},
        "dimensions": {"width": round((X1 - X0) / scale), "height": round((Y1 - Y0) / scale)},
    }


def geotiff(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The bands (band, row, col) and GeoTIFF tags of a file."""
    from eerest._formats.geotiff_read import _tifffile

    with _tifffile().TiffFile(path) as tif:  # floating-point predictors also without imagecodecs
        data = tif.asarray()
        geo = tif.geotiff_metadata
    if data.ndim == 2:
        data = data[None]
    elif data.shape[-1] < data.shape[0]:  # (rows, cols, bands): interleaved samples
        data = np.moveaxis(data, -1, 0)
    return data, geo


def transform_of(geo: dict[str, Any]) -> tuple[float, float, float, float]:
    """(scale_x, scale_y, translate_x, translate_y) from ModelPixelScale + ModelTiepoint or ModelTransformation."""
    if "ModelTransformation" in geo:
        m = np.asarray(geo["ModelTransformation"], dtype=float).reshape(4, 4)
        return m[0, 0], m[1, 1], m[0, 3], m[1, 3]
    sx, sy = geo["ModelPixelScale"][:2]
    i, j, _, x, y, _ = geo["ModelTiepoint"][:6]
    return sx, -sy, x - i * sx, y + j * sy


def test_writes_a_georeferenced_geotiff_equal_to_one_request(ee_emulator: Any, ee_client: Any, tmp_path: Path) -> None:
    out = tmp_path / "scene.tif"
    result = read_area(
        ee_emulator, SCENE, "--crs", "EPSG:32633", "--scale", "5", "--bbox", str(X0), str(Y0), str(X1), str(Y1),
        "--bands", "red,nir", "--max-tile-bytes", "256KiB", "--no-progress", "-o", str(out),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: 448 x 448 pixels")
    tiles = [r for r in ee_emulator.requests if r.path.endswith(":getPixels")]
    assert len(tiles) > 1  # the area really was tiled
    assert all(r.headers.get("authorization", "").startswith("Bearer ") for r in tiles)  # the log redacts the token
    assert TOKEN not in result.output

    expected = ee_client.projects.assets.get_pixels(
        name=SCENE, file_format="NPY", band_ids=["red", "nir"], grid=grid(5)
    ).to_numpy()
    data, geo = geotiff(out)
    assert data.shape == (2, 448, 448)
    np.testing.assert_array_equal(data[0], expected["red"])
    np.testing.assert_array_equal(data[1], expected["nir"])
    assert transform_of(geo) == (5.0, -5.0, X0, Y1)
    assert int(geo["ProjectedCSTypeGeoKey"]) == 32633
    assert [p.name for p in tmp_path.iterdir()] == ["scene.tif"]  # no temporary or resume files left


def test_expression_from_stdin_to_npy(ee_emulator: Any, ee_client: Any, tmp_path: Path) -> None:
    expression = {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.normalizedDifference", "arguments": {
            "input": {"functionInvocationValue": {"functionName": "Image.load",
                                                  "arguments": {"id": {"constantValue": SCENE}}}},
            "bandNames": {"constantValue": ["nir", "red"]}}}}}}
    grid_file = tmp_path / "grid.json"
    grid_file.write_text(json.dumps(grid(10)))
    out = tmp_path / "ndvi.npy"
    result = read_area(ee_emulator, "-", "--expression", "-", "--grid", str(grid_file), "--max-tile-bytes", "64KiB",
                       "--no-progress", "-o", str(out), stdin=json.dumps(expression))
    assert result.exit_code == 0, result.output
    assert len([r for r in ee_emulator.requests if r.path.endswith(":computePixels")]) > 2
    expected = ee_client.projects.image.compute_pixels(expression=expression, file_format="NPY", grid=grid(10)).to_numpy()
    np.testing.assert_array_equal(np.load(out), expected)


def test_progress_bar_on_request(ee_emulator: Any, tmp_path: Path) -> None:
    result = read_area(ee_emulator, SCENE, "--grid", "-", "--bands", "blue", "--max-tile-bytes", "64KiB",
                       "--progress", "-o", str(tmp_path / "blue.tif"), stdin=json.dumps(grid(10)))
    assert result.exit_code == 0, result.output
    assert "100%" in result.stderr  # tqdm's bar, on stderr
    assert result.stdout.startswith("wrote ")
    quiet = read_area(ee_emulator, SCENE, "--grid", "-", "--bands", "blue", "-o", str(tmp_path / "b.tif"),
                      stdin=json.dumps(grid(10)))
    assert quiet.exit_code == 0 and quiet.stderr == ""  # not a terminal: no bar by default


def test_an_asset_without_a_grid_is_read_on_its_own_grid(ee_emulator: Any, ee_client: Any, tmp_path: Path) -> None:
    elevation = "projects/eerest/assets/sample/elevation"
    out = tmp_path / "elevation.tif"
    result = read_area(ee_emulator, elevation, "--no-progress", "-o", str(out))
    assert result.exit_code == 0, result.output
    expected = ee_client.projects.assets.get_pixels(name=elevation, file_format="NPY").to_numpy()
    data, geo = geotiff(out)
    np.testing.assert_array_equal(data[0], expected["elevation"])
    assert transform_of(geo) == (20.0, -20.0, X0, Y1)
    missing = read_area(ee_emulator, elevation, "--bands", "slope", "-o", str(tmp_path / "slope.tif"))
    assert missing.exit_code == 1 and len(missing.stderr.splitlines()) == 1, missing.output
    assert "slope" in missing.stderr


def test_service_error_is_one_line_exit_1(ee_emulator: Any, tmp_path: Path) -> None:
    out = tmp_path / "missing.tif"
    result = read_area(ee_emulator, "projects/eerest/assets/no/such/image", "--grid", "-", "-o", str(out),
                       stdin=json.dumps(grid(10)))
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: 404")
    assert TOKEN not in result.output
    assert not out.exists()


def test_no_credentials_is_one_line(ee_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    result = read_area(ee_emulator, SCENE, "--grid", "-", "-o", str(tmp_path / "x.tif"), token=None,
                       stdin=json.dumps(grid(10)))
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: no usable Google credentials (") and "DefaultCredentialsError" in line
    assert "credentials=" not in line  # the library's advice, not the command line's
    assert line.endswith("run 'gcloud auth application-default login', "
                         "or put a bearer token in the environment variable EEREST_ACCESS_TOKEN")


def test_resume_after_a_failure_fetches_only_what_is_missing(ee_emulator: Any, tmp_path: Path) -> None:
    args = [SCENE, "--grid", "-", "--bands", "red,green", "--max-tile-bytes", "16KiB", "--max-concurrency", "1",
            "--no-progress", "--resume"]
    whole = tmp_path / "whole.tif"
    assert read_area(ee_emulator, *args, "-o", str(whole), stdin=json.dumps(grid(10))).exit_code == 0
    total = len(ee_emulator.requests)
    ee_emulator.app.clear_requests()

    def fail_after_the_first_tiles() -> None:  # the run stops part-way, with some tiles done
        while len(ee_emulator.requests) < 3:
            time.sleep(0.001)
        ee_emulator.faults.fail(403, count=1000)

    arm = threading.Thread(target=fail_after_the_first_tiles)
    arm.start()
    out = tmp_path / "resumed.tif"
    failed = read_area(ee_emulator, *args, "-o", str(out), stdin=json.dumps(grid(10)))
    arm.join()
    assert failed.exit_code == 1 and len(failed.stderr.splitlines()) == 1, failed.output
    assert "403" in failed.stderr
    assert not out.exists()
    ee_emulator.faults.clear()
    ee_emulator.app.clear_requests()

    resumed = read_area(ee_emulator, *args, "-o", str(out), stdin=json.dumps(grid(10)))
    assert resumed.exit_code == 0, resumed.output
    assert 0 < len(ee_emulator.requests) < total
    assert out.read_bytes() == whole.read_bytes()


def test_a_partial_that_cannot_be_trusted_says_so_and_how_to_start_afresh(ee_emulator: Any, tmp_path: Path) -> None:
    args = [SCENE, "--grid", "-", "--bands", "red", "--max-tile-bytes", "16KiB", "--max-concurrency", "1",
            "--no-progress", "--resume", "-o", str(tmp_path / "a.npy")]
    ee_emulator.faults.slow(0.01, count=3, path="Pixels")
    ee_emulator.faults.fail(403, count=1, path="Pixels")
    assert read_area(ee_emulator, *args, stdin=json.dumps(grid(10))).exit_code == 1
    ee_emulator.faults.clear()
    partial = tmp_path / "a.npy.partial"
    partial.write_bytes(partial.read_bytes()[:-10])  # truncated, e.g. by a full disk
    failed = read_area(ee_emulator, *args, stdin=json.dumps(grid(10)))
    assert failed.exit_code == 1 and len(failed.stderr.splitlines()) == 1, failed.output
    assert failed.stderr.startswith(f"Error: cannot resume: the partial file {partial} is ")
    assert "(it was truncated)" in failed.stderr and "resume=False" not in failed.stderr
    assert failed.stderr.rstrip().endswith("or rerun without --resume to read the area afresh")
    again = read_area(ee_emulator, *[a for a in args if a != "--resume"], stdin=json.dumps(grid(10)))
    assert again.exit_code == 0, again.output  # the advice works
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]  # the stale journal too is gone


def test_resume_check_sets_the_share_of_kept_tiles_checked(ee_emulator: Any, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """--resume-check 0.5 is read_area(resume=0.5): half the kept tiles are read back."""
    from eerest._area import resume

    args = [SCENE, "--grid", "-", "--bands", "red", "--max-tile-bytes", "16KiB", "--max-concurrency", "1",
            "--no-progress", "--resume", "-o", str(tmp_path / "a.npy")]
    ee_emulator.faults.slow(0.01, count=5, path="Pixels")
    ee_emulator.faults.fail(403, count=1, path="Pixels")
    assert read_area(ee_emulator, *args, stdin=json.dumps(grid(10))).exit_code == 1
    ee_emulator.faults.clear()
    checks: list[tuple[float, int, int]] = []  # (share, tiles kept, tiles read back to check)
    read_back: list[object] = []
    keep, holds = resume.Checker.keep, resume.FileChecker.holds

    def spy_keep(self: Any, tiles: Any, kept: Any, share: float) -> Any:
        before = len(read_back)
        result = keep(self, tiles, kept, share)
        checks.append((share, len(kept), len(read_back) - before))
        return result

    def spy_holds(self: Any, tile: Any) -> int:
        read_back.append(tile)
        return holds(self, tile)

    monkeypatch.setattr(resume.Checker, "keep", spy_keep)
    monkeypatch.setattr(resume.FileChecker, "holds", spy_holds)
    resumed = read_area(ee_emulator, *args, "--resume-check", "0.5", stdin=json.dumps(grid(10)))
    assert resumed.exit_code == 0, resumed.output
    [(share, kept, checked)] = checks
    assert share == 0.5 and kept >= 4 and checked == round(kept * 0.5)
    assert np.load(tmp_path / "a.npy").shape == (224, 224)


def test_ctrl_c_stops_the_read_and_leaves_no_file(ee_emulator: Any, tmp_path: Path) -> None:
    ee_emulator.faults.slow(1.0, count=1000, path=":getPixels")
    out = tmp_path / "area" / "scene.tif"
    out.parent.mkdir()
    grid_file = tmp_path / "grid.json"
    grid_file.write_text(json.dumps(grid(10)))
    inherited = signal.getsignal(signal.SIGINT)
    if inherited is signal.SIG_IGN:  # run as a shell's background job: the child would ignore Ctrl-C too
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "eerest", "read-area", SCENE, "--grid", str(grid_file), "--max-tile-bytes", "16KiB",
             "--base-url", ee_emulator.url, "--project", "eerest", "-o", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "EEREST_ACCESS_TOKEN": TOKEN},
        )
    finally:
        signal.signal(signal.SIGINT, inherited)
    while not any(r.path.endswith(":getPixels") for r in ee_emulator.requests):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr.strip().splitlines() == [
        "Error: interrupted (add --resume to keep the finished tiles of a rerun that fails again)"
    ]
    assert stdout == ""
    assert list(out.parent.iterdir()) == []  # neither the file nor its .partial


def test_lonlat_bbox_region_file_and_like_give_the_same_grid(ee_emulator: Any, tmp_path: Path) -> None:
    pytest.importorskip("pyproj")
    from pyproj import Transformer

    lon0, lat0, lon1, lat1 = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True).transform_bounds(
        X0 + 200, Y0 + 200, X1 - 200, Y1 - 200
    )
    by_bbox = tmp_path / "bbox.tif"
    result = read_area(ee_emulator, SCENE, "--crs", "EPSG:32633", "--scale", "10", "--bbox-crs", "EPSG:4326",
                       "--bbox", str(lon0), str(lat0), str(lon1), str(lat1), "--bands", "red", "-o", str(by_bbox))
    assert result.exit_code == 0, result.output
    polygon = {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}
    region = tmp_path / "region.geojson"
    region.write_text(json.dumps({"type": "Feature", "geometry": polygon, "properties": {}}))
    by_region = tmp_path / "region.tif"
    result = read_area(ee_emulator, SCENE, "--crs", "EPSG:32633", "--scale", "10", "--region", str(region),
                       "--bands", "red", "-o", str(by_region))
    assert result.exit_code == 0, result.output
    by_like = tmp_path / "like.tif"
    result = read_area(ee_emulator, SCENE, "--like", str(by_bbox), "--bands", "red", "-o", str(by_like))
    assert result.exit_code == 0, result.output
    first, geo = geotiff(by_bbox)
    for other in (by_region, by_like):
        data, other_geo = geotiff(other)
        np.testing.assert_array_equal(data, first)
        assert transform_of(other_geo) == transform_of(geo)
    sx, sy, tx, ty = transform_of(geo)
    assert tx <= X0 + 200 and ty >= Y1 - 200 and (sx, sy) == (10.0, -10.0)


def test_degrees_under_a_projected_crs_name_the_option_that_fixes_it(ee_emulator: Any, tmp_path: Path) -> None:
    result = read_area(ee_emulator, SCENE, "--crs", "EPSG:32633", "--scale", "10", "--bbox", "14.5", "47.9", "14.6",
                       "48.0", "-o", str(tmp_path / "x.tif"))
    assert result.exit_code == 2 and "--bbox-crs EPSG:4326" in result.stderr
    assert not [r for r in ee_emulator.requests if r.path.endswith(":getPixels")]


def test_dry_run_and_max_size_read_nothing(ee_emulator: Any, tmp_path: Path) -> None:
    out = tmp_path / "scene.tif"
    args = [SCENE, "--grid", "-", "--bands", "red,nir", "--max-tile-bytes", "64KiB", "-o", str(out)]
    result = read_area(ee_emulator, *args, "--dry-run", stdin=json.dumps(grid(5)))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("would read 448 x 448 pixels x 2 bands (uint16) = 784.0 KiB in ")
    result = read_area(ee_emulator, *args, "--max-size", "500KiB", stdin=json.dumps(grid(5)))
    assert result.exit_code == 1 and "more than --max-size 512000 bytes" in result.stderr
    assert not [r for r in ee_emulator.requests if r.path.endswith(":getPixels")]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [24, 48])
def test_max_concurrency_sets_the_clients_limit(ee_emulator: Any, tmp_path: Path, n: int) -> None:
    """--max-concurrency is the client's limit, not only the read's workers: above the
    default of 16 more requests are in flight, and above the quota of 40 it warns."""
    ee_emulator.inject("slow", delay=0.3, count=1000, path=":getPixels")
    out = tmp_path / "a.tif"
    args = [SCENE, "--grid", "-", "--bands", "red", "--max-tile-bytes", "2KiB", "--max-concurrency", str(n),
            "--no-progress", "-o", str(out)]
    result = read_area(ee_emulator, *args, stdin=json.dumps(grid(10)))
    assert result.exit_code == 0, result.output
    peak = max(ee_emulator.faults.peak_concurrent.values())
    assert 16 < peak <= n
    warned = "above Earth Engine's quota of 40" in result.stderr
    assert warned == (n > 40)
