"""Every file format, through every version and both clients, against the emulator:
values checked against the emulator's sample data, NPY checked to be a view on the body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eerest_emulator import BUNDLED_DATA
from pixhelp import run

import eerest

SCENE = "projects/eerest/assets/sample/scenes/20240504"
ELEVATION = "projects/eerest/assets/sample/elevation"
SCENE_DATA = np.load(Path(BUNDLED_DATA) / "eerest" / "sample" / "scenes" / "20240504.npy")
ELEVATION_DATA = np.load(Path(BUNDLED_DATA) / "eerest" / "sample" / "elevation.npy")


def _get(flavour: tuple[str, str], url: str, **kwargs: Any) -> eerest.Pixels:
    version, kind = flavour
    return run(version, kind, url, lambda c: c.projects.assets.get_pixels(**kwargs))


def _compute(flavour: tuple[str, str], url: str, **kwargs: Any) -> eerest.Pixels:
    version, kind = flavour
    return run(version, kind, url, lambda c: c.projects.image.compute_pixels(**kwargs))


def _load(name: str) -> dict[str, Any]:
    return {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Image.load", "arguments": {"id": {"constantValue": name}}}}}}


def test_get_pixels_npy(flavour: tuple[str, str], emulator: Any) -> None:
    px = _get(flavour, emulator.url, name=SCENE, file_format="NPY")
    assert isinstance(px, eerest.Pixels)
    assert px.file_format == "NPY" and px.band_ids is None and px.grid is None
    arr = px.to_numpy()
    assert arr.dtype == SCENE_DATA.dtype and arr.shape == (224, 224)
    np.testing.assert_array_equal(arr, SCENE_DATA)
    assert np.shares_memory(arr, np.frombuffer(px.content, np.uint8))
    plain = px.to_array()
    assert plain.shape == (224, 224, 4) and plain.dtype == np.uint16
    assert np.shares_memory(plain, np.frombuffer(px.content, np.uint8))
    np.testing.assert_array_equal(plain[..., 2], SCENE_DATA["red"])


def test_get_pixels_band_ids_and_grid(flavour: tuple[str, str], emulator: Any) -> None:
    grid = {"dimensions": {"width": 8, "height": 4}, "crsCode": "EPSG:32633",
            "affineTransform": {"scaleX": 10, "scaleY": -10, "translateX": 533120, "translateY": 5311840}}
    px = _get(flavour, emulator.url, name=SCENE, file_format="NPY", band_ids=["nir", "red"], grid=grid)
    assert px.band_ids == ["nir", "red"] and px.grid.dimensions.width == 8
    arr = px.to_numpy()
    assert arr.dtype.names == ("nir", "red") and arr.shape == (4, 8)
    np.testing.assert_array_equal(arr["nir"], SCENE_DATA["nir"][:4, :8])
    geo = px.to_geoarray()
    assert geo.crs == "EPSG:32633" and geo.transform == (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0)


def test_compute_pixels_npy(flavour: tuple[str, str], emulator: Any) -> None:
    px = _compute(flavour, emulator.url, expression=_load(ELEVATION), file_format="NPY", band_dtypes=["float32"])
    arr = px.to_numpy()
    assert arr.dtype.names == ("elevation",)
    np.testing.assert_array_equal(arr["elevation"], ELEVATION_DATA)
    assert np.shares_memory(arr, np.frombuffer(px.content, np.uint8))


def test_geotiff(flavour: tuple[str, str], emulator: Any) -> None:
    px = _get(flavour, emulator.url, name=SCENE, file_format="GEO_TIFF", band_ids=["blue", "nir"])
    assert px.file_format == "GEO_TIFF" and px.content_type == "image/tiff"
    geo = px.to_geoarray()
    assert geo.array.shape == (224, 224, 2) and geo.array.dtype == np.uint16
    np.testing.assert_array_equal(geo.array[..., 0], SCENE_DATA["blue"])
    np.testing.assert_array_equal(geo.array[..., 1], SCENE_DATA["nir"])
    assert geo.transform == (10.0, 0.0, 533120.0, 0.0, -10.0, 5311840.0)
    assert geo.crs == "EPSG:32633"
    np.testing.assert_array_equal(px.to_numpy(), geo.array)


def test_geotiff_single_band(flavour: tuple[str, str], emulator: Any) -> None:
    px = _compute(flavour, emulator.url, expression=_load(ELEVATION), file_format="GEO_TIFF")
    geo = px.to_geoarray()
    assert geo.array.shape == (112, 112, 1)
    np.testing.assert_array_equal(geo.array[..., 0], ELEVATION_DATA)
    assert geo.transform == (20.0, 0.0, 533120.0, 0.0, -20.0, 5311840.0) and geo.crs == "EPSG:32633"


def _expected_rgb(lo: float, hi: float) -> np.ndarray:
    t = np.clip((np.stack([SCENE_DATA[b] for b in ("red", "green", "blue")], -1).astype(float) - lo) / (hi - lo), 0, 1)
    return np.round(t * 255).astype(np.uint8)


def test_png(flavour: tuple[str, str], emulator: Any) -> None:
    vis = {"ranges": [{"min": 0, "max": 3000}]}
    px = _get(flavour, emulator.url, name=SCENE, file_format="PNG", band_ids=["red", "green", "blue"],
              visualization_options=vis)
    assert px.file_format == "PNG"
    rgb = px.to_numpy()
    assert rgb.dtype == np.uint8 and rgb.shape == (224, 224, 3)
    np.testing.assert_array_equal(rgb, _expected_rgb(0, 3000))


def test_jpeg_and_auto(flavour: tuple[str, str], emulator: Any) -> None:
    vis = {"ranges": [{"min": 0, "max": 3000}]}
    for fmt in ("JPEG", "AUTO_JPEG_PNG"):
        px = _get(flavour, emulator.url, name=SCENE, file_format=fmt, band_ids=["red", "green", "blue"],
                  visualization_options=vis)
        assert px.file_format == "JPEG"  # opaque: AUTO picks JPEG
        rgb = px.to_array()
        assert rgb.dtype == np.uint8 and rgb.shape == (224, 224, 3)
        assert np.abs(rgb.astype(int) - _expected_rgb(0, 3000)).mean() < 3  # lossy


def test_png_with_alpha(emulator: Any) -> None:
    vis = {"ranges": [{"min": 0, "max": 3000}], "opacity": 0.5}
    px = _get(("v1", "sync"), emulator.url, name=SCENE, file_format="AUTO_JPEG_PNG",
              band_ids=["red", "green", "blue"], visualization_options=vis)
    assert px.file_format == "PNG"
    rgba = px.to_numpy()
    assert rgba.shape == (224, 224, 4) and (rgba[..., 3] == 128).all()


def test_streaming_to_file(flavour: tuple[str, str], emulator: Any, tmp_path: Path) -> None:
    version, kind = flavour
    target = tmp_path / "scene.npy"

    if kind == "sync":
        def go(c: Any) -> int:
            with c.projects.assets.with_streaming_response.get_pixels(name=SCENE, file_format="NPY") as r:
                return r.write_to(target)
    else:
        async def go(c: Any) -> int:
            async with c.projects.assets.with_streaming_response.get_pixels(name=SCENE, file_format="NPY") as r:
                return await r.write_to(target)

    size = run(version, kind, emulator.url, go)
    assert size == target.stat().st_size
    np.testing.assert_array_equal(np.load(target, mmap_mode="r"), SCENE_DATA)
    np.testing.assert_array_equal(eerest.Pixels.from_file(target).to_numpy(), SCENE_DATA)


def test_streaming_chunks_and_read(flavour: tuple[str, str], emulator: Any) -> None:
    version, kind = flavour

    if kind == "sync":
        def go(c: Any) -> tuple[bytes, eerest.Pixels]:
            with c.projects.assets.with_streaming_response.get_pixels(name=SCENE, file_format="NPY") as r:
                chunks = b"".join(r.iter_bytes())
            with c.projects.assets.with_streaming_response.get_pixels(name=SCENE, file_format="NPY") as r:
                return chunks, r.read()
    else:
        async def go(c: Any) -> tuple[bytes, eerest.Pixels]:
            async with c.projects.assets.with_streaming_response.get_pixels(name=SCENE, file_format="NPY") as r:
                chunks = b"".join([chunk async for chunk in r.iter_bytes()])
            async with c.projects.assets.with_streaming_response.get_pixels(name=SCENE, file_format="NPY") as r:
                return chunks, await r.read()

    chunks, px = run(version, kind, emulator.url, go)
    assert isinstance(px, eerest.Pixels) and bytes(px.content) == chunks
    np.testing.assert_array_equal(px.to_numpy(), SCENE_DATA)


def test_asset_metadata_fetched_once_per_client(emulator: Any) -> None:
    def go(c: Any) -> None:
        for _ in range(3):
            c.projects.assets.get_pixels(name=SCENE, file_format="NPY", grid={"dimensions": {"width": 2, "height": 2}})

    run("v1", "sync", emulator.url, go)
    paths = [r.path for r in emulator.requests]
    assert paths.count("/v1/" + SCENE) == 1 and paths.count("/v1/" + SCENE + ":getPixels") == 3


def test_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch, emulator: Any) -> None:
    import sys

    px = _get(("v1", "sync"), emulator.url, name=ELEVATION, file_format="GEO_TIFF")
    monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(ImportError, match=r"pip install 'eerest\[geotiff\]'"):
        px.to_numpy()
    png = _get(("v1", "sync"), emulator.url, name=SCENE, file_format="PNG", band_ids=["red", "green", "blue"],
               visualization_options={"ranges": [{"min": 0, "max": 3000}]})
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install 'eerest\[image\]'"):
        png.to_numpy()
