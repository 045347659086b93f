"""Stand-ins for the public Earth Engine datasets Xee's integration suite opens.

`write_standins(root)` writes them into an emulator data directory (``root/earthengine-public/...``,
so the suite's ids such as ``LANDSAT/LC08/C02/T1`` resolve unchanged). They are NOT the real
data: deterministic synthetic pixels (seeded noise on smooth fields) with the real datasets'
ids, band names and order, pixel types, CRSs and the properties, dates and (where the suite
checks them) pixel grids the suite relies on. Where the suite never checks a grid, the grid is
coarser than the real one (1 degree for the global datasets, not 0.1 or 0.25) to keep the
directory small; what each stand-in keeps and changes is in `STANDINS`.

Three images the suite only asks for their grid (``extract_grid_params``: the real shapes
7881 x 6981, 3601 x 3601 and 7661 x 7801) have their real grid and a sparse pixel file of
zeros (a few kilobytes on disk), so their size costs nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["STANDINS", "write_standins", "read_band", "LC09_SCENE"]

PUBLIC = "earthengine-public"

#: What each stand-in is (for the docs and the test's report): id -> description.
STANDINS: dict[str, str] = {
    "LANDSAT/LC08/C02/T1": "70 scenes 2017-01-01..02 (real: ~1400), B1..B11 QA_PIXEL QA_RADSAT uint16, "
    "16 x 16 pixels at 30 m in UTM zones around the globe (real: ~7700 x 7800)",
    "GRIDMET/DROUGHT": "4 images every 5 days from 2020-03-20, 6 of the real bands (spi2y among them) float32, "
    "CONUS at 0.25 degree (real: 1/24 degree)",
    "ECMWF/ERA5/MONTHLY": "4 months from 1979-01, the 9 real bands in the real order, float32, global 1 degree "
    "(real: 0.25)",
    "CGIAR/SRTM90_V4": "one image, elevation int16, 60N..56S at 0.5 degree (real: 3 arc-seconds), sea masked",
    "NASA/GPM_L3/IMERG_V07": "12 half-hourly images from 2000-06-01, 3 of the real bands, float32, global "
    "1 degree (real: 0.1)",
    "LANDSAT/LC09/C02/T1_L2": "the scene LC09_043034_20211116 only: SR_B1..SR_B7 QA_PIXEL uint16, 30 m in "
    "EPSG:32610 on the real scene's pixel lattice, a 128 x 128 window over San Francisco",
    "UCSB-CHG/CHIRPS/DAILY": "3 days from 2014-01-01, precipitation float32, 50N..50S at 0.5 degree (real: 0.05)",
    "ECMWF/ERA5_LAND/HOURLY": "1992-10-05 and 2024-01-01, 24 hours each, 3 of the real bands float32, global "
    "1 degree (real: 0.1)",
    "COPERNICUS/S2_SR_HARMONIZED": "4 images (3 over San Francisco with CLOUDY_PIXEL_PERCENTAGE 2.1, 37, 0.5; "
    "one in Europe), B2 B3 B4 B8 uint16 and SCL uint8 at 60 m (real: 10-60 m), 400 x 400 pixels",
    "LANDSAT/LT05/C02/T1_TOA/LT05_031034_20110619": "the real grid (EPSG:32613, 7881 x 6981 at 30 m), B1..B7 "
    "float32, pixels all 0 (sparse file)",
    "COPERNICUS/DEM/GLO30": "one tile, N00 E006: the real grid (EPSG:4326, 3601 x 3601), DEM float32, pixels all 0 "
    "(sparse file)",
    "LANDSAT/LC08/C02/T1_TOA/LC08_044034_20140318": "the real grid (EPSG:32610, 7661 x 7801 at 30 m), B1..B7 "
    "float32, pixels all 0 (sparse file)",
    "WRI/GPPD/power_plants": "a table of 2 points (the suite checks that Xee refuses a table)",
}

#: The LC09 scene the suite reads pixels of (test_honors_geometry_simple_utm).
LC09_SCENE = "LANDSAT/LC09/C02/T1_L2/LC09_043034_20211116"

_U16 = {"precision": "INT", "range": {"min": 0, "max": 65535}}
_U8 = {"precision": "INT", "range": {"min": 0, "max": 255}}
_I16 = {"precision": "INT", "range": {"min": -32768, "max": 32767}}
_F32 = {"precision": "FLOAT"}
_DTYPES = {"u2": _U16, "u1": _U8, "i2": _I16, "f4": _F32}


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _grid(crs: str, sx: float, tx: float, sy: float, ty: float, w: int, h: int) -> dict[str, Any]:
    return {
        "crsCode": crs,
        "affineTransform": {"scaleX": sx, "shearX": 0, "translateX": tx, "shearY": 0, "scaleY": sy, "translateY": ty},
        "dimensions": {"width": w, "height": h},
    }


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")


def _collection(root: Path, asset: str, properties: dict[str, Any]) -> Path:
    path = root / PUBLIC / asset
    _write_json(path.with_name(path.name + ".json"), {"type": "IMAGE_COLLECTION", "properties": properties})
    path.mkdir(parents=True, exist_ok=True)
    return path


def _image(
    path: Path,
    grid: dict[str, Any],
    bands: dict[str, np.ndarray],
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    properties: dict[str, Any] | None = None,
    missing: float | None = None,
) -> None:
    """An image asset: JSON metadata and a structured NPY, one field per band (all on `grid`)."""
    h, w = next(iter(bands.values())).shape
    g = dict(grid, dimensions={"width": w, "height": h})
    meta: dict[str, Any] = {"type": "IMAGE", "properties": properties or {}, "bands": []}
    for name, arr in bands.items():
        b: dict[str, Any] = {"id": name, "dataType": _DTYPES[arr.dtype.str[1:]], "grid": g}
        if missing is not None:
            b["missingData"] = {"values": [missing]}
        meta["bands"].append(b)
    if start is not None:
        meta["startTime"] = _iso(start)
        meta["endTime"] = _iso(end or start)
    _write_json(path.with_name(path.name + ".json"), meta)
    rec = np.empty((h, w), dtype=[(n, a.dtype) for n, a in bands.items()])
    for n, a in bands.items():
        rec[n] = a
    np.save(path.with_name(path.name + ".npy"), rec)


def _sparse_image(path: Path, grid: dict[str, Any], bands: list[str], dtype: str, properties: dict[str, Any],
                  start: dt.datetime) -> None:
    """An image whose pixels are all 0 in a sparse NPY: only its grid is used."""
    w, h = grid["dimensions"]["width"], grid["dimensions"]["height"]
    meta = {
        "type": "IMAGE", "properties": properties, "startTime": _iso(start), "endTime": _iso(start),
        "bands": [{"id": b, "dataType": _DTYPES[np.dtype(dtype).str[1:]], "grid": grid} for b in bands],
    }
    _write_json(path.with_name(path.name + ".json"), meta)
    mm = np.lib.format.open_memmap(  # writes the header and extends the file: a hole, no data blocks
        path.with_name(path.name + ".npy"), mode="w+", dtype=[(b, dtype) for b in bands], shape=(h, w)
    )
    del mm


def _field(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, base: float, amp: float,
           noise: float) -> np.ndarray:
    """A smooth global field (a function of latitude and longitude) plus seeded noise."""
    f = base + amp * np.cos(np.radians(lat)) ** 2 + 0.1 * amp * np.sin(np.radians(3 * lon))
    return (f + noise * rng.standard_normal(f.shape)).astype("f4")


def _lonlat(tx: float, ty: float, s: float, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    lon = tx + s * (np.arange(w) + 0.5)
    lat = ty - s * (np.arange(h) + 0.5)
    return np.meshgrid(lon, lat)


def _landsat_l1(root: Path) -> None:
    col = _collection(root, "LANDSAT/LC08/C02/T1", {
        "title": "USGS Landsat 8 Collection 2 Tier 1 Raw Scenes (eerest emulator stand-in)",
        "provider": "eerest emulator (synthetic)", "period": 0,
    })
    rng = np.random.default_rng(8)
    names = [f"B{i}" for i in range(1, 12)] + ["QA_PIXEL", "QA_RADSAT"]
    t0 = dt.datetime(2016, 12, 31, 18, tzinfo=dt.timezone.utc)
    for k in range(74):  # 2 before 2017-01-01, 70 inside 01-01..01-03, 2 after
        t = t0 + dt.timedelta(minutes=(0 if k < 2 else 360 + 40 * (k - 2)) if k < 72 else 60 * 24 * 3 + 60 * k)
        zone = 1 + (7 * k) % 60
        path, row = 1 + (3 * k) % 233, 1 + (5 * k) % 248
        bands = {n: rng.integers(5000, 30000, (16, 16), dtype="u2") for n in names[:-2]}
        bands["QA_PIXEL"] = rng.choice(np.array([21824, 21952, 22280], dtype="u2"), (16, 16))
        bands["QA_RADSAT"] = np.zeros((16, 16), dtype="u2")
        grid = _grid(f"EPSG:326{zone:02d}", 30, 300015 + 30 * 97 * k, -30, 4000015 + 30 * 211 * k, 16, 16)
        _image(col / f"LC08_{path:03d}{row:03d}_{t:%Y%m%d}_{k:02d}", grid, bands, start=t, properties={
            "CLOUD_COVER": float(np.round(rng.uniform(0, 100), 2)), "WRS_PATH": path, "WRS_ROW": row,
            "SPACECRAFT_ID": "LANDSAT_8"})


def _global_collection(root: Path, asset: str, props: dict[str, Any], times: list[dt.datetime],
                       bands: dict[str, tuple[float, float, float]], step: float, seed: int,
                       extent: tuple[float, float, float, float] = (-180.0, 90.0, 360.0, 180.0),
                       hours: float = 1.0) -> None:
    col = _collection(root, asset, props)
    rng = np.random.default_rng(seed)
    tx, ty, ew, eh = extent
    w, h = round(ew / step), round(eh / step)
    lon, lat = _lonlat(tx, ty, step, w, h)
    grid = _grid("EPSG:4326", step, tx, -step, ty, w, h)
    for t in times:
        arrays = {n: _field(rng, lat, lon, *p) for n, p in bands.items()}
        _image(col / f"{t:%Y%m%dT%H%M}", grid, arrays, start=t, end=t + dt.timedelta(hours=hours))


def _utc(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=dt.timezone.utc)  # type: ignore[misc]


def _gridded(root: Path) -> None:
    _global_collection(
        root, "GRIDMET/DROUGHT", {"title": "GRIDMET Drought (eerest emulator stand-in)"},
        [_utc(2020, 3, 20) + dt.timedelta(days=5 * i) for i in range(4)],
        {"pdsi": (-2, 3, 1), "z": (-1, 2, 1), "spi30d": (-1, 2, 0.5), "spi1y": (-1, 2, 0.5),
         "spi2y": (-1, 2, 0.5), "eddi30d": (-1, 2, 0.5)},
        0.25, 21, extent=(-124.75, 49.5, 58.0, 25.0), hours=24 * 5,
    )
    _global_collection(
        root, "ECMWF/ERA5/MONTHLY", {"title": "ERA5 Monthly Aggregates (eerest emulator stand-in)"},
        [_utc(1979, m, 1) for m in range(1, 5)],
        {"mean_2m_air_temperature": (240, 60, 2), "minimum_2m_air_temperature": (230, 60, 2),
         "maximum_2m_air_temperature": (250, 60, 2), "dewpoint_2m_temperature": (235, 55, 2),
         "total_precipitation": (0.02, 0.1, 0.005), "surface_pressure": (95000, 6000, 300),
         "mean_sea_level_pressure": (100500, 1500, 200), "u_component_of_wind_10m": (-1, 4, 1),
         "v_component_of_wind_10m": (0.5, 2, 1)},
        1.0, 5, extent=(-180.5, 90.5, 361.0, 181.0), hours=24 * 28,
    )
    _global_collection(
        root, "NASA/GPM_L3/IMERG_V07", {"title": "GPM IMERG V07 (eerest emulator stand-in)"},
        [_utc(2000, 6, 1) + dt.timedelta(minutes=30 * i) for i in range(12)],
        {"precipitation": (0.1, 2, 0.05), "precipitationUncal": (0.1, 2, 0.05),
         "probabilityLiquidPrecipitation": (20, 80, 1)},
        1.0, 7, hours=0.5,
    )
    _global_collection(
        root, "UCSB-CHG/CHIRPS/DAILY", {"title": "CHIRPS Daily (eerest emulator stand-in)"},
        [_utc(2014, 1, d) for d in (1, 2, 3)], {"precipitation": (0.5, 6, 0.5)},
        0.5, 9, extent=(-180.0, 50.0, 360.0, 100.0), hours=24,
    )
    _global_collection(
        root, "ECMWF/ERA5_LAND/HOURLY", {"title": "ERA5-Land Hourly (eerest emulator stand-in)"},
        [_utc(1992, 10, 5) + dt.timedelta(hours=i) for i in range(24)]
        + [_utc(2024, 1, 1) + dt.timedelta(hours=i) for i in range(24)],
        {"temperature_2m": (245, 50, 1.5), "dewpoint_temperature_2m": (240, 45, 1.5),
         "total_precipitation_hourly": (0.0002, 0.001, 0.0001)},
        1.0, 11, extent=(-180.5, 90.5, 361.0, 181.0),
    )
    # CGIAR/SRTM90_V4: one image, int16 metres, sea (a smooth pseudo-coastline) masked
    rng = np.random.default_rng(90)
    lon, lat = _lonlat(-180.0, 60.0, 0.5, 720, 232)
    elev = 800 * np.sin(np.radians(2 * lon)) * np.cos(np.radians(3 * lat)) + 300 + 50 * rng.standard_normal(lon.shape)
    dem = np.where(elev > 0, np.round(elev), -32768).astype("i2")
    _image(root / PUBLIC / "CGIAR" / "SRTM90_V4", _grid("EPSG:4326", 0.5, -180.0, -0.5, 60.0, 720, 232),
           {"elevation": dem}, start=_utc(2000, 2, 11), end=_utc(2000, 2, 22), missing=-32768,
           properties={"title": "SRTM Digital Elevation Data Version 4 (eerest emulator stand-in)"})


def _scenes(root: Path) -> None:
    # LANDSAT/LC09/C02/T1_L2/LC09_043034_20211116 on its real 30 m lattice (origin 448485, 4263915)
    col = _collection(root, "LANDSAT/LC09/C02/T1_L2", {"title": "Landsat 9 L2 (eerest emulator stand-in)"})
    rng = np.random.default_rng(9)
    bands = {f"SR_B{i}": rng.integers(7000, 20000, (128, 128), dtype="u2") for i in range(1, 8)}
    bands["QA_PIXEL"] = np.full((128, 128), 21824, dtype="u2")
    _image(col / "LC09_043034_20211116", _grid("EPSG:32610", 30, 448485 + 30 * 3380, -30, 4263915 - 30 * 2750, 128, 128),
           bands, start=_utc(2021, 11, 16, 18, 40), properties={"CLOUD_COVER": 0.4, "WRS_PATH": 43, "WRS_ROW": 34})
    # COPERNICUS/S2_SR_HARMONIZED: 3 images over San Francisco, one in Europe
    col = _collection(root, "COPERNICUS/S2_SR_HARMONIZED", {"title": "Sentinel-2 SR Harmonized (eerest emulator stand-in)"})
    rng = np.random.default_rng(2)
    where = [("EPSG:32610", 499980 + 60 * 600, 4200000 - 60 * 100, "T10SEG")] * 3 + [("EPSG:32633", 499980, 5300040, "T33TWN")]
    for k, ((crs, tx, ty, tile), cloud) in enumerate(zip(where, [2.1, 37.0, 0.5, 1.0], strict=True)):
        t = _utc(2023, 6, 1 + 5 * k, 18, 50)
        s2 = {b: rng.integers(200, 6000, (400, 400), dtype="u2") for b in ("B2", "B3", "B4", "B8")}
        s2["SCL"] = rng.choice(np.array([4, 5, 6, 8], dtype="u1"), (400, 400))
        _image(col / f"{t:%Y%m%dT%H%M%S}_{t:%Y%m%dT%H%M%S}_{tile}", _grid(crs, 60, tx, -60, ty, 400, 400), s2, start=t,
               properties={"CLOUDY_PIXEL_PERCENTAGE": cloud, "MGRS_TILE": tile[1:], "SPACECRAFT_NAME": "Sentinel-2A"})
    # grids only (extract_grid_params): the real grids, pixels all 0
    col = _collection(root, "LANDSAT/LT05/C02/T1_TOA", {"title": "Landsat 5 TOA (eerest emulator stand-in)"})
    _sparse_image(col / "LT05_031034_20110619", _grid("EPSG:32613", 30, 643185, -30, 4255815, 7881, 6981),
                  [f"B{i}" for i in range(1, 8)], "f4", {"CLOUD_COVER": 1.0}, _utc(2011, 6, 19, 17, 20))
    col = _collection(root, "COPERNICUS/DEM/GLO30", {"title": "Copernicus DEM GLO-30 (eerest emulator stand-in)"})
    _sparse_image(col / "Copernicus_DSM_COG_10_N00_00_E006_00_DEM",
                  _grid("EPSG:4326", 1 / 3600, 6 - 0.5 / 3600, -1 / 3600, 1 + 0.5 / 3600, 3601, 3601),
                  ["DEM"], "f4", {}, _utc(2010, 12, 1))
    col = _collection(root, "LANDSAT/LC08/C02/T1_TOA", {"title": "Landsat 8 TOA (eerest emulator stand-in)"})
    _sparse_image(col / "LC08_044034_20140318", _grid("EPSG:32610", 30, 460785, -30, 4264215, 7661, 7801),
                  [f"B{i}" for i in range(1, 8)], "f4", {"CLOUD_COVER": 0.1}, _utc(2014, 3, 18, 18, 46))
    # a table: what Xee must not open as an image collection
    table = root / PUBLIC / "WRI" / "GPPD" / "power_plants"
    _write_json(table.with_name("power_plants.json"), {"type": "TABLE"})
    _write_json(table.with_name("power_plants.geojson"), {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "0", "geometry": {"type": "Point", "coordinates": [-122.4, 37.8]},
         "properties": {"name": "a", "capacitymw": 10.0}},
        {"type": "Feature", "id": "1", "geometry": {"type": "Point", "coordinates": [13.4, 52.5]},
         "properties": {"name": "b", "capacitymw": 250.0}}]})


def write_standins(root: str | Path) -> Path:
    """Write every stand-in under `root` (an emulator data directory); returns `root`."""
    root = Path(root)
    _landsat_l1(root)
    _gridded(root)
    _scenes(root)
    return root


def read_band(root: str | Path, asset: str, band: str) -> tuple[np.ndarray, dict[str, Any]]:
    """A stand-in band's pixels and its grid (for the tests' numpy oracles)."""
    path = Path(root) / PUBLIC / asset
    meta = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    grid = next(b["grid"] for b in meta["bands"] if b["id"] == band)
    return np.load(path.with_name(path.name + ".npy"))[band], grid
