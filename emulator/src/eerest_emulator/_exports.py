"""Batch tasks' work: exports (image, table, video, map, classifier) and ingestion (image and
table import), as functions run when the operation's run time is up.

Destinations are local directories standing in for Cloud Storage and Drive (`Storage`):

    STORAGE/gcs/BUCKET/OBJECT        gs://BUCKET/OBJECT (cloudStorageDestination; sources of imports)
    STORAGE/drive/FOLDER/FILE        driveDestination (FOLDER "" is STORAGE/drive/FILE)

and asset destinations are assets of the store. STORAGE is the data directory unless set
(`gcs` and `drive` cannot be Earth Engine project ids: those are 6 to 30 characters). Files
are written to a temporary name and renamed: they appear complete or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._asset_writes import AssetWriter, write_atomic
from ._encode import encode
from ._errors import invalid_argument, unimplemented
from ._grid import Grid, resolve_grid
from ._image import Band, Image
from ._limits import MAX_GRID_DIMENSION
from ._operations import TaskFailure
from ._pixeltype import PixelType
from ._table_files import TABLE_SUFFIX, encode_table, feature_rows
from ._values import FeatureCollection

__all__ = ["Storage", "image_export_work", "map_export_work", "table_export_work", "image_import_work",
           "table_import_work"]

_DEFAULT_MAX_PIXELS = 1e8
_IMAGE_SUFFIX = {"GEO_TIFF": ".tif", "NPY": ".npy", "PNG": ".png", "JPEG": ".jpg"}


@dataclass
class Storage:
    """The local stand-ins for Cloud Storage buckets and Drive folders."""

    root: Path

    def gcs_path(self, bucket: str, obj: str) -> Path:
        if not bucket or "/" in bucket or bucket in (".", ".."):
            raise invalid_argument(f"Invalid Cloud Storage bucket name {bucket!r}.")
        return self._safe(self.root / "gcs" / bucket, obj)

    def drive_path(self, folder: str, filename: str) -> Path:
        base = self.root / "drive"
        if folder:
            base = self._safe(base, folder)
        return self._safe(base, filename)

    def resolve_uri(self, uri: str) -> Path:
        """The local file of a ``gs://bucket/object`` URI (ingestion sources)."""
        if not uri.startswith("gs://"):
            raise TaskFailure(f"Cannot read '{uri}': the eerest emulator reads gs://BUCKET/OBJECT sources only.")
        bucket, _, obj = uri[5:].partition("/")
        return self.gcs_path(bucket, obj)

    @staticmethod
    def _safe(base: Path, rel: str) -> Path:
        parts = [p for p in rel.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise invalid_argument(f"Invalid file name {rel!r}.")
        return base.joinpath(*parts)


def _destination(storage: Storage, opts: dict[str, Any], description: str, suffix: str) -> tuple[Path, str]:
    """(local path, URI) of a file export's single output file."""
    if "cloudStorageDestination" in opts:
        d = opts["cloudStorageDestination"]
        prefix = d.get("filenamePrefix") or description
        path = storage.gcs_path(d.get("bucket") or "", prefix + suffix)
        return path, f"gs://{d['bucket']}/{prefix}{suffix}"
    if "driveDestination" in opts:
        d = opts["driveDestination"]
        prefix = d.get("filenamePrefix") or description
        path = storage.drive_path(d.get("folder") or "", prefix + suffix)
        return path, path.resolve().as_uri()
    raise invalid_argument("The export has no destination: set cloudStorageDestination or driveDestination.")


def _asset_destination(body: dict[str, Any], writer: AssetWriter) -> tuple[str, bool]:
    """(name, overwrite) of an export to an asset, checked now: a name that exists without
    ``earthEngineDestination.overwrite`` is refused, as the service does."""
    destination = body["assetExportOptions"].get("earthEngineDestination") or {}
    name = destination.get("name") or ""
    if not name:
        raise invalid_argument("assetExportOptions.earthEngineDestination.name is required.")
    writer.check_new_name(name)
    writer._check_writable()
    overwrite = bool(destination.get("overwrite"))
    if not overwrite and writer.store.find(name) is not None:
        from ._asset_writes import already_exists

        raise already_exists(f"Cannot overwrite asset '{name}': set earthEngineDestination.overwrite.")
    return name, overwrite


# -- images ------------------------------------------------------------------------------
def _export_grid(image: Image, body: dict[str, Any]) -> tuple[list[Band], Grid]:
    bands = image.bands
    if not bands:
        raise invalid_argument("The image has no bands to export.")
    native = next((b.grid for b in bands if b.grid is not None and b.grid.width is not None), None)
    grid = resolve_grid(body.get("grid"), native)
    return bands, grid


def _render(bands: list[Band], grid: Grid, max_pixels: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    n = grid.width * grid.height  # type: ignore[operator]
    if n > max_pixels:
        raise TaskFailure(f"Exported image is too large ({n} pixels; maxPixels is {int(max_pixels)}).")
    values, valid = [], []
    for b in bands:
        v, ok = b.render(grid)
        values.append(v)
        valid.append(ok)
    return values, valid


def image_export_work(
    image: Image, body: dict[str, Any], storage: Storage, writer: AssetWriter
) -> tuple[Callable[[], list[str]], list[str]]:
    """Checks an ExportImageRequest now; (its work, the URIs it will write)."""
    bands, grid = _export_grid(image, body)
    max_pixels = float(body.get("maxPixels") or _DEFAULT_MAX_PIXELS)
    description = body.get("description") or "myExportImageTask"
    if "assetExportOptions" in body:
        name, overwrite = _asset_destination(body, writer)

        def to_asset() -> list[str]:
            values, valid = _render(bands, grid, max_pixels)
            band_json, arrays = [], []
            for b, v, ok in zip(bands, values, valid, strict=True):
                dt = b.ptype.dtype
                arr = np.where(ok, v, 0).astype(dt, copy=False)
                bj: dict[str, Any] = {"id": b.name, "dataType": b.ptype.to_json(), "grid": grid.to_json()}
                if not ok.all():  # masked pixels: a missing value outside the data
                    fill = _fill_value(b.ptype, arr[ok])
                    if fill is not None:
                        arr = np.where(ok, arr, fill).astype(dt, copy=False)
                        bj["missingData"] = {"values": [fill]}
                band_json.append(bj)
                arrays.append(arr)
            props = dict(image.properties)
            props = {k: v for k, v in props.items() if not k.startswith("system:") and _json_scalar(v)}
            writer.write_image(name, band_json, arrays, overwrite=overwrite, properties=props or None,
                               start_time=image.meta.get("startTime"), end_time=image.meta.get("endTime"))
            return [name]

        return to_asset, [name]
    opts = body.get("fileExportOptions") or {}
    fmt = opts.get("fileFormat") or "GEO_TIFF"
    if fmt == "IMAGE_FILE_FORMAT_UNSPECIFIED":
        fmt = "GEO_TIFF"
    if fmt not in ("GEO_TIFF", "NPY"):
        raise unimplemented(f"Exporting images as {fmt}")
    path, uri = _destination(storage, opts, description, _IMAGE_SUFFIX[fmt])
    _check_size(grid, len(bands))

    def to_file() -> list[str]:
        values, valid = _render(bands, grid, max_pixels)
        data, _ = encode(fmt, [b.name for b in bands], values, valid, [b.ptype.dtype for b in bands], grid, None)
        write_atomic(path, data)
        return [uri]

    return to_file, [uri]


# -- map tiles ---------------------------------------------------------------------------
_MERCATOR_HALF = 20037508.342789244
_MAX_TILES = 20_000


def map_export_work(image: Image, body: dict[str, Any], storage: Storage) -> tuple[Callable[[], list[str]], list[str]]:
    """Checks an ExportMapRequest now; (the work that writes the image's 256 x 256 Web Mercator
    tiles as ``PREFIX/Z/X/Y`` objects, PNG or JPEG, for every zoom level asked)."""
    from ._grid import bounds_in

    opts = body.get("tileExportOptions") or {}
    dest = opts.get("cloudStorageDestination")
    if not dest or not dest.get("bucket"):
        raise invalid_argument("Map exports write to Cloud Storage only: set tileExportOptions.cloudStorageDestination.")
    fmt = opts.get("fileFormat") or "AUTO_JPEG_PNG"
    if fmt not in ("AUTO_JPEG_PNG", "PNG", "JPEG", "IMAGE_FILE_FORMAT_UNSPECIFIED"):
        raise invalid_argument(f"Map tiles are PNG or JPEG, not {fmt}.")
    fmt = "PNG" if fmt in ("AUTO_JPEG_PNG", "IMAGE_FILE_FORMAT_UNSPECIFIED") else fmt
    tiles_opt = body.get("tileOptions") or {}
    start = int(tiles_opt.get("startZoom") or 0)
    if tiles_opt.get("endZoom") is not None:
        end = int(tiles_opt["endZoom"])
    elif tiles_opt.get("scale"):
        end = max(0, math.ceil(math.log2(2 * _MERCATOR_HALF / 256 / float(tiles_opt["scale"]))))
    else:
        raise invalid_argument("tileOptions.endZoom or tileOptions.scale is required.")
    if not 0 <= start <= end <= 24:
        raise invalid_argument(f"Invalid zoom levels {start} to {end}: 0 <= startZoom <= endZoom <= 24.")
    native = image.native_grid
    if native is None:
        raise invalid_argument("Unable to export an unbounded image as map tiles: clip it to a region.")
    xmin, ymin, xmax, ymax = bounds_in(native, "EPSG:3857")
    tiles = []
    for z in range(start, end + 1):
        size = 2 * _MERCATOR_HALF / 2**z
        x0, x1 = int((xmin + _MERCATOR_HALF) // size), int((xmax + _MERCATOR_HALF) // size)
        y0, y1 = int((_MERCATOR_HALF - ymax) // size), int((_MERCATOR_HALF - ymin) // size)
        tiles += [(z, x, y) for x in range(max(x0, 0), min(x1, 2**z - 1) + 1) for y in range(max(y0, 0), min(y1, 2**z - 1) + 1)]
        if len(tiles) > _MAX_TILES:
            raise invalid_argument(f"The eerest emulator exports at most {_MAX_TILES} map tiles; lower endZoom.")
    prefix = (dest.get("filenamePrefix") or body.get("description") or "tiles").rstrip("/")
    skip_empty = bool(tiles_opt.get("skipEmpty"))
    bands = image.bands

    def work() -> list[str]:
        for z, x, y in tiles:
            size = 2 * _MERCATOR_HALF / 2**z / 256
            grid = Grid("EPSG:3857", size, 0.0, -_MERCATOR_HALF + x * 256 * size, 0.0, -size,
                        _MERCATOR_HALF - y * 256 * size, 256, 256)
            values, valid = [], []
            for b in bands:
                v, ok = b.render(grid)
                values.append(v)
                valid.append(ok)
            if skip_empty and not any(ok.any() for ok in valid):
                continue
            data, _ = encode(fmt, [b.name for b in bands], values, valid, [b.ptype.dtype for b in bands], grid, None)
            write_atomic(storage.gcs_path(dest["bucket"], f"{prefix}/{z}/{x}/{y}"), data)
        return [f"gs://{dest['bucket']}/{prefix}/"]

    return work, [f"gs://{dest['bucket']}/{prefix}/"]


def _check_size(grid: Grid, nbands: int) -> None:
    if grid.width > MAX_GRID_DIMENSION * 4 or grid.height > MAX_GRID_DIMENSION * 4:  # type: ignore[operator]
        raise invalid_argument(f"The eerest emulator exports at most {MAX_GRID_DIMENSION * 4} pixels on a side.")


def read_geotiff_grid(page: Any) -> Grid:
    """The grid of a GeoTIFF page: its ModelPixelScale and ModelTiepoint (or
    ModelTransformation) and the EPSG code of its GeoKeys (EPSG:4326 when it has none)."""
    tags = page.tags
    crs = "EPSG:4326"
    if 34735 in tags:
        keys = list(tags[34735].value)
        for k in range(4, len(keys) - 3, 4):
            key, loc, _, val = keys[k : k + 4]
            if key in (3072, 2048) and loc == 0 and 1024 <= val < 32767:
                crs = f"EPSG:{val}"
                break
    h, w = page.imagelength, page.imagewidth
    if 34264 in tags:
        m = tags[34264].value
        return Grid(crs, m[0], m[1], m[3], m[4], m[5], m[7], w, h)
    if 33550 in tags and 33922 in tags:
        sx, sy = tags[33550].value[:2]
        i, j, _, x, y = tags[33922].value[:5]
        return Grid(crs, sx, 0.0, x - i * sx, 0.0, -sy, y + j * sy, w, h)
    return Grid(crs, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0, w, h)


def _fill_value(ptype: PixelType, data: np.ndarray) -> float | int | None:
    dt = ptype.dtype
    if dt.kind == "f":
        return float(np.finfo(dt).min)
    info = np.iinfo(dt)
    for cand in (info.min, info.max):
        if not (data == cand).any():
            return int(cand)
    return None


def _json_scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool)) and not (isinstance(v, float) and not math.isfinite(v))


# -- tables ------------------------------------------------------------------------------
def table_export_work(
    fc: FeatureCollection, body: dict[str, Any], storage: Storage, writer: AssetWriter
) -> tuple[Callable[[], list[str]], list[str]]:
    """Checks an ExportTableRequest now; (its work, the URIs it will write)."""
    description = body.get("description") or "myExportTableTask"
    selectors = body.get("selectors") or None
    for other in ("bigqueryExportOptions", "featureViewExportOptions"):
        if other in body:
            raise unimplemented(f"Exporting tables with {other}")
    if "assetExportOptions" in body:
        name, overwrite = _asset_destination(body, writer)

        def to_asset() -> list[str]:
            _, feats = feature_rows(fc, selectors)
            features = [{"type": "Feature", "id": f["id"], "geometry": f["geometry"], "properties": f["properties"]}
                        for f in feats]
            writer.write_table(name, features, overwrite=overwrite)
            return [name]

        return to_asset, [name]
    opts = body.get("fileExportOptions") or {}
    fmt = opts.get("fileFormat") or "CSV"
    if fmt == "TABLE_FILE_FORMAT_UNSPECIFIED":
        fmt = "CSV"
    if fmt not in TABLE_SUFFIX:
        raise unimplemented(f"Exporting tables as {fmt}")
    path, uri = _destination(storage, opts, description, TABLE_SUFFIX[fmt])

    def to_file() -> list[str]:
        write_atomic(path, encode_table(fc, fmt, selectors))
        return [uri]

    return to_file, [uri]


# -- ingestion ---------------------------------------------------------------------------
_TILESET_TYPES = {"INT8": "int8", "UINT8": "uint8", "INT16": "int16", "UINT16": "uint16", "INT32": "int32",
                  "UINT32": "uint32", "FLOAT": "float32", "DOUBLE": "float64"}


def image_import_work(
    manifest: dict[str, Any], overwrite: bool, storage: Storage, writer: AssetWriter
) -> tuple[Callable[[], list[str]], list[str]]:
    """Checks an ImageManifest now; (the work that reads its GeoTIFF sources and writes the image asset)."""
    name = manifest.get("name") or ""
    if not name:
        raise invalid_argument("imageManifest.name is required.")
    writer.check_new_name(name)
    writer._check_writable()
    tilesets = manifest.get("tilesets") or []
    if not tilesets:
        raise invalid_argument("imageManifest.tilesets must name at least one tileset.")
    prefix = manifest.get("uriPrefix") or ""
    for ts in tilesets:
        srcs = ts.get("sources") or []
        if len(srcs) != 1 or len(srcs[0].get("uris") or []) != 1:
            raise unimplemented("Ingesting a tileset made of several sources or files")
    if not overwrite and writer.store.find(name) is not None:
        from ._asset_writes import already_exists

        raise already_exists(f"Cannot overwrite asset '{name}'.")

    def work() -> list[str]:
        import tifffile

        by_id: dict[str, tuple[list[np.ndarray], Grid]] = {}
        for i, ts in enumerate(tilesets):
            src = ts["sources"][0]
            path = storage.resolve_uri(prefix + src["uris"][0])
            if not path.is_file():
                raise TaskFailure(f"Cannot read '{prefix + src['uris'][0]}': no such object.", "NOT_FOUND")
            try:
                with tifffile.TiffFile(path) as tif:
                    page = tif.pages[0]
                    arr = tif.asarray()
                    grid = read_geotiff_grid(page)
                    contig = page.planarconfig == tifffile.PLANARCONFIG.CONTIG and page.samplesperpixel > 1
            except TaskFailure:
                raise
            except Exception as e:
                raise TaskFailure(f"Cannot read '{src['uris'][0]}' as a GeoTIFF: {type(e).__name__}: {e}") from None
            planes = [arr] if arr.ndim == 2 else list(np.moveaxis(arr, -1, 0) if contig else arr)
            if ts.get("dataType") and ts["dataType"] != "DATA_TYPE_UNSPECIFIED":
                planes = [p.astype(_TILESET_TYPES[ts["dataType"]]) for p in planes]
            if ts.get("crs"):
                grid = Grid(ts["crs"], grid.scale_x, grid.shear_x, grid.translate_x, grid.shear_y, grid.scale_y,
                            grid.translate_y, grid.width, grid.height)
            if src.get("affineTransform"):
                at = src["affineTransform"]
                grid = Grid(grid.crs, at.get("scaleX", 1.0), at.get("shearX", 0.0), at.get("translateX", 0.0),
                            at.get("shearY", 0.0), at.get("scaleY", -1.0), at.get("translateY", 0.0),
                            grid.width, grid.height, grid.crs_wkt)
            grid = Grid(grid.crs, grid.scale_x, grid.shear_x, grid.translate_x, grid.shear_y, grid.scale_y,
                        grid.translate_y, planes[0].shape[1], planes[0].shape[0], grid.crs_wkt)
            by_id[ts.get("id") or ("" if i == 0 else str(i))] = (planes, grid)
        bands_m = manifest.get("bands") or [
            {"id": f"b{k + 1}", "tilesetId": tid, "tilesetBandIndex": k}
            for tid, (planes, _) in by_id.items() for k in range(len(planes))
        ]
        bands, arrays = [], []
        for bm in bands_m:
            tid = bm.get("tilesetId", "")
            if tid not in by_id:
                raise TaskFailure(f"Band '{bm.get('id')}' names tileset '{tid}', which the manifest does not have.")
            planes, grid = by_id[tid]
            k = bm.get("tilesetBandIndex", 0)
            if not 0 <= k < len(planes):
                raise TaskFailure(f"Band '{bm.get('id')}': tileset '{tid}' has {len(planes)} bands, not {k + 1}.")
            arr = np.ascontiguousarray(planes[k])
            bj: dict[str, Any] = {"id": bm["id"], "dataType": PixelType.from_dtype(arr.dtype).to_json(), "grid": grid.to_json()}
            missing = bm.get("missingData") or manifest.get("missingData")
            if missing:
                bj["missingData"] = missing
            if bm.get("pyramidingPolicy") or manifest.get("pyramidingPolicy"):
                bj["pyramidingPolicy"] = bm.get("pyramidingPolicy") or manifest["pyramidingPolicy"]
            bands.append(bj)
            arrays.append(arr)
        if len({a.shape for a in arrays}) > 1:
            raise unimplemented("Ingesting bands of different sizes")
        writer.write_image(name, bands, arrays, overwrite=overwrite, properties=manifest.get("properties"),
                           start_time=manifest.get("startTime"), end_time=manifest.get("endTime"))
        return [name]

    return work, [name]


def table_import_work(
    manifest: dict[str, Any], overwrite: bool, storage: Storage, writer: AssetWriter
) -> tuple[Callable[[], list[str]], list[str]]:
    """Checks a TableManifest now; (the work that reads its CSV or GeoJSON source and writes the table asset)."""
    name = manifest.get("name") or ""
    if not name:
        raise invalid_argument("tableManifest.name is required.")
    writer.check_new_name(name)
    writer._check_writable()
    sources = manifest.get("sources") or []
    if len(sources) != 1 or len(sources[0].get("uris") or []) != 1:
        raise unimplemented("Ingesting a table from other than exactly one source file")
    src = sources[0]
    uri = (manifest.get("uriPrefix") or "") + src["uris"][0]
    if not uri.lower().endswith((".csv", ".geojson", ".json")):
        raise unimplemented(f"Ingesting tables other than CSV and GeoJSON ('{uri}')")
    if not overwrite and writer.store.find(name) is not None:
        from ._asset_writes import already_exists

        raise already_exists(f"Cannot overwrite asset '{name}'.")

    def work() -> list[str]:
        path = storage.resolve_uri(uri)
        if not path.is_file():
            raise TaskFailure(f"Cannot read '{uri}': no such object.", "NOT_FOUND")
        text = path.read_text(encoding=src.get("charset") or "utf-8")
        if uri.lower().endswith(".csv"):
            features = _csv_features(text, src)
        else:
            try:
                data = json.loads(text)
                raw = data["features"] if data.get("type") == "FeatureCollection" else [data]
                features = [{"type": "Feature", "id": str(f.get("id", i)), "geometry": f.get("geometry"),
                             "properties": f.get("properties") or {}} for i, f in enumerate(raw)]
            except (ValueError, KeyError, AttributeError, TypeError) as e:
                raise TaskFailure(f"Cannot read '{uri}' as GeoJSON: {e}") from None
        writer.write_table(name, features, overwrite=overwrite, properties=manifest.get("properties"),
                           start_time=manifest.get("startTime"), end_time=manifest.get("endTime"))
        return [name]

    return work, [name]


def _csv_features(text: str, src: dict[str, Any]) -> list[dict[str, Any]]:
    rows = list(csv.DictReader(io.StringIO(text), delimiter=src.get("csvDelimiter") or ",",
                               quotechar=src.get("csvQualifier") or '"'))
    xcol, ycol = src.get("xColumn"), src.get("yColumn")
    geo = src.get("primaryGeometryColumn") or (".geo" if rows and ".geo" in rows[0] else None)
    out = []
    for i, row in enumerate(rows):
        geometry = None
        if geo and row.get(geo):
            try:
                geometry = json.loads(row[geo])
            except ValueError:
                geometry = _wkt_point(row[geo])
        elif xcol and ycol and row.get(xcol) and row.get(ycol):
            geometry = {"type": "Point", "coordinates": [float(row[xcol]), float(row[ycol])]}
        props = {k: _number(v) for k, v in row.items() if k not in (geo, "system:index") and k is not None}
        out.append({"type": "Feature", "id": row.get("system:index") or str(i), "geometry": geometry, "properties": props})
    return out


def _wkt_point(text: str) -> dict[str, Any] | None:
    t = text.strip().upper()
    if t.startswith("POINT"):
        x, y = t[t.index("(") + 1 : t.index(")")].split()[:2]
        return {"type": "Point", "coordinates": [float(x), float(y)]}
    raise TaskFailure(f"Cannot read geometry {text[:60]!r}: the emulator reads GeoJSON and WKT points.")


def _number(v: str | None) -> Any:
    if v is None:
        return None
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v
