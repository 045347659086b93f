"""Encoding rendered bands as NPY, GeoTIFF, PNG, JPEG or AUTO_JPEG_PNG, and visualisation to 8-bit RGB(A).

Pillow (PNG/JPEG) and tifffile (GeoTIFF) are imported lazily: they are the `eerest[emulator]` extra.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from ._errors import ApiError, invalid_argument
from ._grid import Grid

__all__ = ["encode", "encode_picture", "encode_zip", "visualize", "CONTENT_TYPES", "FORMATS", "ZIP_FORMATS"]

CONTENT_TYPES = {
    "NPY": "application/octet-stream",
    "GEO_TIFF": "image/tiff",
    "PNG": "image/png",
    "JPEG": "image/jpeg",
}
FORMATS = ("NPY", "GEO_TIFF", "PNG", "JPEG", "AUTO_JPEG_PNG")
#: Formats only thumbnails (getThumbURL, getDownloadURL) serve.
ZIP_FORMATS = ("ZIPPED_GEO_TIFF", "ZIPPED_GEO_TIFF_PER_BAND")
_NOT_HERE = {
    "TF_RECORD_IMAGE": "TF_RECORD_IMAGE is only supported for image exports.",
    "ZIPPED_GEO_TIFF": "ZIPPED_GEO_TIFF is only available when using CreateThumbnail.",
    "ZIPPED_GEO_TIFF_PER_BAND": "ZIPPED_GEO_TIFF_PER_BAND is only available when using CreateThumbnail.",
}


def encode(
    fmt: str | None,
    names: Sequence[str],
    values: Sequence[np.ndarray],
    valid: Sequence[np.ndarray],
    dtypes: Sequence[np.dtype],
    grid: Grid,
    vis: dict | None,
) -> tuple[bytes, str]:
    """Encode bands (masked pixels as 0) in `fmt`; returns (body, content type)."""
    fmt = fmt or "AUTO_JPEG_PNG"
    if fmt == "IMAGE_FILE_FORMAT_UNSPECIFIED":
        fmt = "AUTO_JPEG_PNG"
    if fmt in _NOT_HERE:
        raise invalid_argument(_NOT_HERE[fmt])
    if fmt not in FORMATS:
        raise invalid_argument(f'Invalid value at \'file_format\' (type.googleapis.com/google.earthengine.v1.ImageFileFormat), "{fmt}"')
    if vis is not None or fmt in ("PNG", "JPEG", "AUTO_JPEG_PNG"):
        rgba = visualize(names, values, valid, dtypes, vis)
        if fmt == "NPY":
            return _npy(["vis-red", "vis-green", "vis-blue"], [rgba[..., i] for i in range(3)], [np.dtype("uint8")] * 3), CONTENT_TYPES["NPY"]
        if fmt == "GEO_TIFF":
            return _geotiff(grid, np.moveaxis(rgba[..., :3], -1, 0)), CONTENT_TYPES["GEO_TIFF"]
        return encode_picture(fmt, rgba)
    data = [np.where(ok, v, 0).astype(dt, copy=False) for v, ok, dt in zip(values, valid, dtypes, strict=False)]
    if fmt == "NPY":
        return _npy(names, data, dtypes), CONTENT_TYPES["NPY"]
    common = np.result_type(*dtypes) if dtypes else np.dtype("uint8")
    return _geotiff(grid, np.stack([d.astype(common, copy=False) for d in data])), CONTENT_TYPES["GEO_TIFF"]


def _npy(names: Sequence[str], data: Sequence[np.ndarray], dtypes: Sequence[np.dtype]) -> bytes:
    """A .npy of a structured (H, W) array with one little-endian field per band."""
    h, w = data[0].shape
    arr = np.empty((h, w), dtype=np.dtype([(n, np.dtype(d).newbyteorder("<")) for n, d in zip(names, dtypes, strict=False)]))
    for n, d in zip(names, data, strict=False):
        arr[n] = d
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _geotiff(grid: Grid, planes: np.ndarray) -> bytes:
    """A GeoTIFF (bands, H, W) georeferenced with ModelPixelScale/ModelTiepoint (or
    ModelTransformation when sheared) and GeoKeys naming the EPSG code (see `_geokeys`)."""
    try:
        import tifffile
    except ImportError:  # pragma: no cover - depends on the environment
        raise ApiError(501, "GEO_TIFF needs tifffile: pip install 'eerest[emulator]'.", "UNIMPLEMENTED") from None
    tags: list[tuple[int, str, int, tuple[float, ...], bool]] = []
    if grid.has_shear:
        m = (grid.scale_x, grid.shear_x, 0.0, grid.translate_x,
             grid.shear_y, grid.scale_y, 0.0, grid.translate_y,
             0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
        tags.append((34264, "d", 16, m, True))
    else:
        tags.append((33550, "d", 3, (grid.scale_x, -grid.scale_y, 0.0), True))
        tags.append((33922, "d", 6, (0.0, 0.0, 0.0, grid.translate_x, grid.translate_y, 0.0), True))
    keys, citation = _geokeys(grid)
    tags.append((34735, "H", len(keys), tuple(keys), True))
    if citation:
        tags.append((34737, "s", 0, citation, True))  # type: ignore[arg-type]
    buf = io.BytesIO()
    n = planes.shape[0]
    photometric = "minisblack"
    tifffile.imwrite(
        buf,
        planes if n > 1 else planes[0],
        photometric=photometric,
        planarconfig="separate" if n > 1 else None,
        extratags=tags,
        metadata=None,
    )
    return buf.getvalue()


def _geokeys(grid: Grid) -> tuple[list[int], str]:
    """The GeoKeyDirectory and GeoAsciiParams of `grid`'s CRS: its EPSG code, or for a CRS
    without one "user-defined" plus its WKT in the citation ("ESRI PE String = ...", as GDAL
    reads and writes CRSs that GeoTIFF keys cannot name)."""
    geographic = grid.is_geographic
    epsg = grid.epsg
    entries = [(1024, 0, 1, 2 if geographic else 1), (1025, 0, 1, 1)]
    citation = ""
    if epsg is None and (grid.crs or grid.crs_wkt):
        from ._reproject import pyproj_crs

        citation = "ESRI PE String = " + pyproj_crs(grid.crs or grid.crs_wkt).to_wkt("WKT1_ESRI") + "|"
        entries.append((1026, 34737, len(citation), 0))
    entries.append((2048 if geographic else 3072, 0, 1, epsg or 32767))  # 32767: user-defined
    keys = [1, 1, 0, len(entries)]
    for e in entries:
        keys.extend(e)
    return keys, citation


def _parse_color(c: str) -> tuple[int, int, int]:
    s = c.strip().lstrip("#")
    names = {"black": "000000", "white": "ffffff", "red": "ff0000", "green": "008000", "blue": "0000ff",
             "yellow": "ffff00", "cyan": "00ffff", "magenta": "ff00ff", "gray": "808080", "grey": "808080"}
    s = names.get(s.lower(), s)
    if len(s) == 3:
        s = "".join(ch * 2 for ch in s)
    if len(s) != 6:
        raise invalid_argument(f"Invalid palette color '{c}'.")
    try:
        return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)
    except ValueError:
        raise invalid_argument(f"Invalid palette color '{c}'.") from None


def visualize(
    names: Sequence[str],
    values: Sequence[np.ndarray],
    valid: Sequence[np.ndarray],
    dtypes: Sequence[np.dtype],
    vis: dict | None,
) -> np.ndarray:
    """8-bit RGBA (H, W, 4) of 1 or 3 bands, applying ranges, palette, gamma and opacity.

    Without visualizationOptions the data must already be 8-bit (uint8), as on the service.
    """
    n = len(values)
    if vis is None:
        if any(np.dtype(d) != np.uint8 for d in dtypes) or n not in (1, 3):
            raise invalid_argument(
                "PNG, JPEG and AUTO_JPEG_PNG are only supported for 8-bit data with 1 or 3 bands, or data "
                "converted to 8-bit RGB via visualizationOptions."
            )
        vis = {"ranges": [{"min": 0, "max": 255}]}
    palette = vis.get("paletteColors") or []
    if n not in (1, 3):
        raise invalid_argument(f"Visualization requires 1 or 3 bands, but {n} bands were requested.")
    if palette and n != 1:
        raise invalid_argument("paletteColors is only allowed when visualizing a single data band.")
    ranges = vis.get("ranges") or []
    if ranges and len(ranges) not in (1, n):
        raise invalid_argument(f"ranges must have 1 or {n} entries, got {len(ranges)}.")
    gamma = vis.get("gamma")
    if gamma is not None and (not isinstance(gamma, (int, float)) or gamma <= 0):
        raise invalid_argument("gamma must be a positive number.")
    opacity = vis.get("opacity", 1.0)
    if opacity is None:
        opacity = 1.0
    if not 0.0 <= float(opacity) <= 1.0:
        raise invalid_argument("opacity must be in the range 0.0 to 1.0.")
    scaled = []
    for i, v in enumerate(values):
        if ranges:
            r = ranges[i if len(ranges) == n else 0]
            lo, hi = float(r.get("min", 0.0)), float(r.get("max", 1.0))
        elif np.dtype(dtypes[i]) == np.uint8:
            lo, hi = 0.0, 255.0
        else:
            lo, hi = 0.0, 1.0
        with np.errstate(all="ignore"):
            t = (v.astype(np.float64) - lo) / (hi - lo) if hi != lo else np.where(v >= hi, 1.0, 0.0)
        t = np.clip(np.nan_to_num(t), 0.0, 1.0)
        if gamma is not None:
            t = t ** (1.0 / float(gamma))
        scaled.append(t)
    h, w = values[0].shape
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    if palette:
        cols = np.array([_parse_color(c) for c in palette], dtype=np.float64)
        if len(cols) == 1:
            rgb = np.broadcast_to(cols[0], (h, w, 3))
        else:
            pos = scaled[0] * (len(cols) - 1)
            i0 = np.minimum(np.floor(pos).astype(int), len(cols) - 2)
            f = (pos - i0)[..., None]
            rgb = cols[i0] * (1 - f) + cols[i0 + 1] * f
        rgba[..., :3] = np.round(rgb).astype(np.uint8)
    else:
        for c in range(3):
            rgba[..., c] = np.round(scaled[0 if n == 1 else c] * 255.0).astype(np.uint8)
    ok = valid[0].copy()
    for m in valid[1:]:
        ok &= m
    rgba[..., 3] = np.where(ok, round(float(opacity) * 255), 0).astype(np.uint8)
    rgba[..., :3][~ok] = 0
    return rgba


def encode_picture(fmt: str, rgba: np.ndarray) -> tuple[bytes, str]:
    try:
        from PIL import Image as PILImage
    except ImportError:  # pragma: no cover - depends on the environment
        raise ApiError(501, f"{fmt} needs Pillow: pip install 'eerest[emulator]'.", "UNIMPLEMENTED") from None
    opaque = bool((rgba[..., 3] == 255).all())
    if fmt == "AUTO_JPEG_PNG":
        fmt = "JPEG" if opaque else "PNG"
    buf = io.BytesIO()
    if fmt == "JPEG":
        PILImage.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB").save(buf, "JPEG", quality=90)
    elif opaque:
        PILImage.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB").save(buf, "PNG")
    else:
        PILImage.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue(), CONTENT_TYPES[fmt]


def encode_zip(
    fmt: str,
    prefix: str,
    names: Sequence[str],
    values: Sequence[np.ndarray],
    valid: Sequence[np.ndarray],
    dtypes: Sequence[np.dtype],
    grid: Grid,
) -> tuple[bytes, str]:
    """A zip of one GeoTIFF (`prefix.tif`) or one per band (`prefix.BAND.tif`), as downloads are served."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if fmt == "ZIPPED_GEO_TIFF":
            body, _ = encode("GEO_TIFF", names, values, valid, dtypes, grid, None)
            z.writestr(f"{prefix}.tif", body)
        else:
            for n, v, ok, dt in zip(names, values, valid, dtypes, strict=True):
                body, _ = encode("GEO_TIFF", [n], [v], [ok], [dt], grid, None)
                z.writestr(f"{prefix}.{n}.tif", body)
    return buf.getvalue(), "application/zip"
