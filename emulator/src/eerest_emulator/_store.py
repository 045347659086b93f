"""The asset store: a directory of image assets and image collections, read on demand.

Layout (asset `projects/P/assets/a/b` lives at `ROOT/P/a/b`):

    ROOT/P/a/b.json        EarthEngineAsset JSON of an image (type IMAGE) ...
    ROOT/P/a/b.npy         ... and its pixels: NPY (structured, fields named by band id,
                           or a plain (H, W) / (bands, H, W) array) or b.tif (GeoTIFF)
    ROOT/P/c.json          an image collection (type IMAGE_COLLECTION) ...
    ROOT/P/c/*.json        ... whose members are the image assets in the folder c/

Metadata may omit `name`, `id`, `updateTime`, `sizeBytes` and band `grid.dimensions`;
the store fills them in. Band `missingData.values` are served as masked.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import ApiError, invalid_argument, not_found
from ._grid import Grid, resample
from ._image import Band, Image, ImageCollection
from ._pixeltype import PixelType

__all__ = ["AssetStore", "AssetRecord", "ee_id", "normalize_asset_name", "parse_time_ms", "BUNDLED_DATA"]

#: The bundled sample data directory.
BUNDLED_DATA = Path(__file__).with_name("data")

_PIXEL_SUFFIXES = (".npy", ".tif", ".tiff")


def normalize_asset_name(asset_id: str) -> str:
    """`projects/P/assets/X` stays; a legacy id `users/u/x` is under earthengine-legacy;
    any other bare id is under earthengine-public, as Earth Engine resolves them."""
    asset_id = asset_id.strip().strip("/")
    if asset_id.startswith("projects/"):
        return asset_id
    if asset_id.startswith("users/"):
        return f"projects/earthengine-legacy/assets/{asset_id}"
    return f"projects/earthengine-public/assets/{asset_id}"


def ee_id(name: str) -> str:
    """The id Earth Engine reports as `system:id`: public and legacy assets by their short id,
    cloud project assets by their full name (both load again with `ee.Image(id)`)."""
    for prefix in ("projects/earthengine-public/assets/", "projects/earthengine-legacy/assets/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def parse_time_ms(value: Any) -> int:
    """RFC 3339 string or number (ms since epoch) -> ms since epoch."""
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value).strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    if len(s) == 10:  # YYYY-MM-DD
        s += "T00:00:00+00:00"
    t = _dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return round(t.timestamp() * 1000)


@dataclass
class AssetRecord:
    """One asset as found on disk: its metadata JSON and (for images) its pixel file."""

    name: str
    meta: dict[str, Any]
    meta_path: Path
    pixel_path: Path | None

    @property
    def type(self) -> str:
        return self.meta.get("type", "IMAGE")


class AssetStore:
    """Reads assets from `root`; metadata and pixel arrays are cached after first use."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else BUNDLED_DATA
        self._lock = threading.Lock()
        self._arrays: dict[Path, dict[str, np.ndarray]] = {}
        self._meta: dict[Path, dict] = {}

    def clear_cache(self) -> None:
        """Forget cached metadata and pixels (after the data directory changed)."""
        with self._lock:
            self._arrays.clear()
            self._meta.clear()

    # -- lookup -------------------------------------------------------------------------
    def _path_of(self, name: str) -> Path:
        parts = name.split("/")
        if len(parts) < 4 or parts[0] != "projects" or parts[2] != "assets":
            raise ApiError(
                400,
                f"Invalid asset name '{name}': expected projects/*/assets/**.",
                "INVALID_ARGUMENT",
            )
        rel = [parts[1], *parts[3:]]
        if any(p in ("", ".", "..") for p in rel):
            raise not_found(f"Asset '{name}' not found (does not exist or caller does not have access).")
        return self.root.joinpath(*rel)

    def find(self, name: str) -> AssetRecord | None:
        """The asset called `name` (full `projects/*/assets/**` name), or None."""
        base = self._path_of(name)
        meta_path = base.with_name(base.name + ".json")
        if not meta_path.is_file():
            if base.is_dir():
                return AssetRecord(name, {"type": "FOLDER", "name": name, "id": name.split("/assets/", 1)[1]}, meta_path, None)
            return None
        meta = self._load_meta(meta_path)
        pixel_path = None
        for suf in _PIXEL_SUFFIXES:
            p = base.with_name(base.name + suf)
            if p.is_file():
                pixel_path = p
                break
        meta = dict(meta)
        meta.setdefault("type", "IMAGE")
        meta["name"] = name
        meta["id"] = name.split("/assets/", 1)[1]
        if "updateTime" not in meta:
            mtime = meta_path.stat().st_mtime
            meta["updateTime"] = (
                _dt.datetime.fromtimestamp(int(mtime), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        if pixel_path is not None and "sizeBytes" not in meta:
            meta["sizeBytes"] = str(pixel_path.stat().st_size)
        return AssetRecord(name, meta, meta_path, pixel_path)

    def get(self, name: str) -> AssetRecord:
        """Like `find`, but a 404 NOT_FOUND when missing."""
        rec = self.find(name)
        if rec is None:
            raise not_found(f"Asset '{name}' not found (does not exist or caller does not have access).")
        return rec

    def members(self, rec: AssetRecord) -> list[AssetRecord]:
        """The image assets of a collection, in a stable order (start time, then name)."""
        folder = rec.meta_path.with_suffix("")
        out = []
        if folder.is_dir():
            for p in sorted(folder.glob("*.json")):
                r = self.find(f"{rec.name}/{p.stem}")
                if r is not None and r.type == "IMAGE":
                    out.append(r)
        out.sort(key=lambda r: (parse_time_ms(r.meta["startTime"]) if "startTime" in r.meta else 0, r.name))
        return out

    def children(self, parent: str) -> list[AssetRecord]:
        """The assets directly inside `parent`: a project (``projects/P``), a folder or an image
        collection (its images), by name (collections: by start time)."""
        parts = parent.split("/")
        if len(parts) == 2 and parts[0] == "projects":
            if parts[1] in ("", ".", ".."):
                raise invalid_argument(f"Invalid project name '{parent}'.")
            folder, prefix = self.root / parts[1], f"{parent}/assets"
        else:
            rec = self.get(parent)
            if rec.type == "IMAGE_COLLECTION":
                return self.members(rec)
            if rec.type != "FOLDER":
                raise invalid_argument(
                    f"Asset '{parent}' is not a folder or an image collection (it is {rec.type}); only those can be listed."
                )
            folder, prefix = self._path_of(parent), parent
        if not folder.is_dir():
            return []
        names = {p.stem for p in folder.glob("*.json")} | {p.name for p in folder.iterdir() if p.is_dir()}
        found = (self.find(f"{prefix}/{n}") for n in sorted(n for n in names if not n.startswith(".")))
        return [r for r in found if r is not None]

    def asset_json(self, rec: AssetRecord) -> dict:
        """The EarthEngineAsset JSON answered by assets.get."""
        meta = dict(rec.meta)
        if rec.type == "IMAGE":
            meta["bands"] = [b.to_json() for b in self.image(rec).bands]
        order = ["type", "name", "id", "updateTime", "properties", "startTime", "endTime", "geometry", "bands", "sizeBytes"]
        return {k: meta[k] for k in order if k in meta} | {k: v for k, v in meta.items() if k not in order}

    # -- images -------------------------------------------------------------------------
    def image(self, rec: AssetRecord) -> Image:
        """An `Image` whose bands render this asset's pixels into any grid."""
        try:
            return self._image(rec)
        except (KeyError, TypeError, ValueError, AttributeError) as e:  # malformed band metadata
            raise _broken(rec.meta_path, e) from None

    def _image(self, rec: AssetRecord) -> Image:
        if rec.type != "IMAGE":
            raise ApiError(400, f"Asset '{rec.name}' is not an image (it is {rec.type}).", "INVALID_ARGUMENT")
        bands_meta = rec.meta.get("bands") or []
        if not bands_meta:
            raise ApiError(500, f"Image asset '{rec.name}' has no bands in its metadata.", "INTERNAL")
        arrays = None
        bands: list[Band] = []
        for _i, bm in enumerate(bands_meta):
            bid = bm["id"]
            ptype = PixelType.from_json(bm.get("dataType"))
            grid_json = bm.get("grid") or {}
            grid = Grid.from_json(grid_json)
            if grid.width is None:
                if arrays is None:
                    arrays = self._arrays_of(rec)
                h, w = arrays[bid].shape
                grid = replace(grid, width=w, height=h)
            missing = tuple((bm.get("missingData") or {}).get("values") or ())
            extra = {k: v for k, v in bm.items() if k not in ("id", "dataType", "grid", "missingData")}
            if missing:
                extra["missingData"] = bm["missingData"]
            bands.append(Band(bid, ptype, grid, self._renderer(rec, bid, grid, missing), extra))
        props = dict(rec.meta.get("properties") or {})
        props["system:index"] = rec.name.rsplit("/", 1)[-1]
        props["system:id"] = ee_id(rec.name)
        if "startTime" in rec.meta:
            props["system:time_start"] = parse_time_ms(rec.meta["startTime"])
        if "endTime" in rec.meta:
            props["system:time_end"] = parse_time_ms(rec.meta["endTime"])
        meta: dict[str, Any] = {k: rec.meta[k] for k in ("name", "id", "updateTime", "startTime", "endTime", "geometry", "sizeBytes") if k in rec.meta}
        return Image(bands, props, meta)

    def collection(self, rec: AssetRecord) -> ImageCollection:
        if rec.type != "IMAGE_COLLECTION":
            raise ApiError(
                400, f"Asset '{rec.name}' is not an image collection (it is {rec.type}).", "INVALID_ARGUMENT"
            )
        images = [self.image(m) for m in self.members(rec)]
        return ImageCollection(images, dict(rec.meta.get("properties") or {}), {"name": rec.name})

    def _renderer(
        self, rec: AssetRecord, band_id: str, grid: Grid, missing: tuple[Any, ...]
    ) -> Callable[[Grid], tuple[np.ndarray, np.ndarray]]:
        def render(target: Grid) -> tuple[np.ndarray, np.ndarray]:
            data = self._arrays_of(rec)[band_id]
            valid = None
            if missing:
                valid = ~np.isin(data, np.asarray(missing, dtype=data.dtype))
            if data.dtype.kind == "f":
                nan = np.isnan(data)
                if nan.any():
                    valid = ~nan if valid is None else valid & ~nan
                    data = np.where(nan, 0, data)
            return resample(data, valid, grid, target)

        return render

    def _load_meta(self, path: Path) -> dict:
        with self._lock:
            m = self._meta.get(path)
        if m is None:
            try:
                m = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, OSError) as e:
                raise _broken(path, e) from None
            if not isinstance(m, dict):
                raise _broken(path, ValueError(f"expected a JSON object (EarthEngineAsset), got {type(m).__name__}"))
            with self._lock:
                self._meta[path] = m
        return m

    def _arrays_of(self, rec: AssetRecord) -> dict[str, np.ndarray]:
        """Band id -> 2-D array of the asset's pixels (NPY memory-mapped, GeoTIFF read once)."""
        path = rec.pixel_path
        if path is None:
            raise ApiError(500, f"Image asset '{rec.name}' has no pixel file.", "INTERNAL")
        with self._lock:
            got = self._arrays.get(path)
        if got is not None:
            return got
        ids = [b["id"] for b in rec.meta.get("bands") or []]
        try:
            arr, tif_contig = _read_pixels(path)
        except Exception as e:  # whatever a broken NPY or TIFF raises
            raise _broken(path, e) from None
        out: dict[str, np.ndarray] = {}
        if arr.dtype.names:
            for i in ids:
                if i not in arr.dtype.names:
                    raise ApiError(500, f"Pixel file of '{rec.name}' has no field '{i}'.", "INTERNAL")
                out[i] = arr[i]
        elif arr.ndim == 2:
            out[ids[0]] = arr
        elif arr.ndim == 3:
            planes = np.moveaxis(arr, -1, 0) if tif_contig else arr
            if planes.shape[0] != len(ids):
                raise ApiError(
                    500, f"Pixel file of '{rec.name}' has {planes.shape[0]} bands, metadata {len(ids)}.", "INTERNAL"
                )
            for k, i in enumerate(ids):
                out[i] = planes[k]
        else:
            raise ApiError(500, f"Pixel file of '{rec.name}' has unsupported shape {arr.shape}.", "INTERNAL")
        with self._lock:
            self._arrays[path] = out
        return out


def _read_pixels(path: Path) -> tuple[np.ndarray, bool]:
    """(the array of an NPY or GeoTIFF pixel file, whether a TIFF holds bands as its last axis)."""
    if path.suffix == ".npy":
        return np.load(path, mmap_mode="r", allow_pickle=False), False
    import tifffile  # lazy: only GeoTIFF-backed assets need it

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        contig = page.planarconfig == tifffile.PLANARCONFIG.CONTIG and page.samplesperpixel > 1
        return tif.asarray(), contig


def _broken(path: Path, e: BaseException) -> ApiError:
    """A 500 naming the data file the emulator cannot use, and why."""
    return ApiError(500, f"The emulator cannot read the asset file {path}: {type(e).__name__}: {e}", "INTERNAL")
