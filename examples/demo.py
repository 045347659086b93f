"""The main job: start the local Earth Engine emulator on the bundled sample, then use
eerest as a user would. Results go to ./out (or the folder given as the first argument).

    python examples/demo.py [OUT_DIR]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
from google.oauth2.credentials import Credentials
from PIL import Image

import eerest
from eerest.tiling import PixelGrid, plan_tiles

SCENES = "projects/eerest/assets/sample/scenes"


def call(name: str, **arguments: dict) -> dict:
    """A ValueNode invoking the algorithm ``name``."""
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def const(value: object) -> dict:
    return {"constantValue": value}


def ndvi_median_expression() -> dict:
    """``ImageCollection(SCENES).map(lambda i: i.normalizedDifference(['nir', 'red'])).median()``."""
    return {
        "result": "composite",
        "values": {
            "composite": call(
                "reduce.median",
                collection=call(
                    "Collection.map",
                    collection=call("ImageCollection.load", id=const(SCENES)),
                    baseAlgorithm={"valueReference": "ndvi"},
                ),
            ),
            "ndvi": {"functionDefinitionValue": {"argumentNames": ["image"], "body": "nd"}},
            "nd": call(
                "Image.normalizedDifference", input={"argumentReference": "image"}, bandNames=const(["nir", "red"])
            ),
        },
    }


def run(base_url: str, out: Path) -> None:
    """What a user's script does: list, compute, fetch, write."""
    out.mkdir(parents=True, exist_ok=True)
    with eerest.Client(project="eerest", base_url=base_url, credentials=Credentials(token="demo")) as client:
        # 1. List the collection (computeImages, paged transparently).
        collection = {"result": "0", "values": {"0": call("ImageCollection.load", id=const(SCENES))}}
        images = list(client.projects.image_collection.compute_images(expression=collection, page_size=2))
        print(f"{SCENES}: {len(images)} images")
        for image in images:
            cloud = (image.properties or {}).get("CLOUD_COVER")
            print(f"  {image.name}  {image.start_time:%Y-%m-%d}  cloud cover {cloud}%")
        grid = images[0].bands[0].grid

        # 2. An NDVI median composite into numpy (computePixels, NPY, zero-copy decode).
        ndvi = client.projects.image.compute_pixels(
            expression=ndvi_median_expression(), file_format="NPY", grid=grid, band_dtypes=["float64"]
        )
        values = ndvi.to_numpy()["nd"]
        np.save(out / "ndvi_median.npy", values)
        print(f"NDVI median composite: {values.shape} {values.dtype}, mean {values.mean():.3f}, "
              f"vegetated (>0.5) {np.mean(values > 0.5):.0%}")

        # 3. The same composite as a georeferenced GeoTIFF, and a coloured PNG.
        client.projects.image.compute_pixels(
            expression=ndvi_median_expression(), file_format="GEO_TIFF", grid=grid
        ).save(out / "ndvi_median.tif")
        client.projects.image.compute_pixels(
            expression=ndvi_median_expression(),
            file_format="PNG",
            grid=grid,
            visualization_options={"ranges": [{"min": -0.2, "max": 0.9}], "paletteColors": ["8c510a", "f6e8c3", "01665e"]},
        ).save(out / "ndvi_median.png")

        # 4. A true-colour PNG of the clearest scene (getPixels with visualization options).
        clearest = min(images, key=lambda i: (i.properties or {}).get("CLOUD_COVER", 100))
        true_colour = client.projects.assets.get_pixels(
            name=clearest.name,
            file_format="PNG",
            band_ids=["red", "green", "blue"],
            visualization_options={"ranges": [{"min": 0, "max": 2500}], "gamma": 1.2},
        )
        true_colour.save(out / "true_colour.png")
        print(f"true colour of {clearest.name}: {true_colour.to_numpy().shape} RGB")

        # 5. An area larger than one request, into a georeferenced GeoTIFF: the clearest scene at
        #    1 m, 2240 x 2240 pixels of 4 uint16 bands (60 MB as the service counts, over its 48 MiB
        #    limit), read as tiles fetched concurrently, with a progress bar.
        read_large_area(client, clearest.name, out / "scene_1m.tif")

    for path in sorted(out.iterdir()):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


def read_large_area(client: eerest.Client, scene: str, path: Path) -> None:
    grid = PixelGrid.from_bbox("EPSG:32633", 1.0, (533120, 5309600, 535360, 5311840))
    size = eerest.limits.request_bytes(grid.width, grid.height, ["uint16"] * 4)
    tiles = plan_tiles(grid, ["uint16"] * 4).tiles
    print(f"{scene} at 1 m: {grid.width} x {grid.height} pixels, {size / 2**20:.1f} MiB as the service counts "
          f"(one request may have {eerest.limits.MAX_REQUEST_BYTES / 2**20:.0f} MiB): {len(tiles)} tiles")
    client.read_area(scene, grid=grid, band_ids=["red", "green", "blue", "nir"], out=path, progress=True)

    # Check what was written: the pixels, where they are, and a quick look.
    with tifffile.TiffFile(path) as tif:
        bands = tif.asarray()
        geo = tif.geotiff_metadata
    print(f"{path}: {bands.shape} {bands.dtype}, EPSG:{int(geo['ProjectedCSTypeGeoKey'])}, "
          f"pixel {geo['ModelPixelScale'][0]:g} m, top-left corner {tuple(geo['ModelTiepoint'][3:5])}")
    rgb = np.moveaxis(bands, 0, -1) if bands.shape[0] == 4 else bands
    rgb = np.clip(rgb[::8, ::8, :3].astype(np.float32) / 2500 * 255, 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(path.with_name(path.stem + "_preview.png"))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out")
    emulator = subprocess.Popen(
        [sys.executable, "-m", "eerest_emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        base_url = emulator.stdout.readline().strip()  # the emulator prints its URL first
        if not base_url.startswith("http"):
            print("the emulator did not start", file=sys.stderr)
            return 1
        print(f"Earth Engine emulator at {base_url} (bundled sample data)")
        started = time.perf_counter()
        run(base_url, out)
        print(f"done in {time.perf_counter() - started:.1f} s")
        return 0
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
