#!/usr/bin/env python3
"""Write the eerest emulator's bundled sample data, deterministically, into emulator/src/eerest_emulator/data/.

The sample is synthetic but realistic: a 2.24 km x 2.24 km scene in UTM zone 33N
(EPSG:32633) at 10 m, with fields whose crops grow over the summer, a lake and a river,
a town with a street grid, a forest, and clouds that differ between dates. It holds

- `projects/eerest/assets/sample/scenes`: an image collection of 5 dates of 16-bit
  surface reflectance (scaled by 10000), bands blue, green, red, nir;
- `projects/eerest/assets/sample/elevation`: a float32 elevation model at 20 m;
- `projects/eerest/assets/sample/places`: a table of 12 features (points, polygons, one
  with a hole, a multipolygon and a road) with typed properties: strings, integers (some
  null), floats, dates (some null) and booleans.
- `projects/eerest/assets/sample/monthly`: an image collection of 24 monthly images
  (2023-01 to 2024-12) at 40 m, bands blue, green, red, nir and QA_PIXEL (Landsat-style
  bits: 1 dilated cloud, 3 cloud, 4 cloud shadow, 5 snow, 6 clear, 7 water), snow in winter,
  for bitmask cloud masking, seasonal composites and `calendarRange` filters;
- `projects/eerest/assets/sample/fields`: a table (type TABLE, features in `fields.geojson`)
  of 8 field and lake polygons with properties, for `ee.FeatureCollection(id)`.

Running it twice gives byte-identical files (fixed seeds, no timestamps taken from the
clock). Usage: `python emulator/tools/make_sample_data.py [OUT_DIR]`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np

SIZE = 224  # pixels per side
SCALE = 10.0  # metres per pixel
X0, Y0 = 533_120.0, 5_311_840.0  # upper-left corner, EPSG:32633
CRS = "EPSG:32633"
DATES = ["2024-05-04", "2024-05-24", "2024-06-13", "2024-07-03", "2024-07-23"]
CLOUD_COVER_TARGET = [4.0, 35.0, 0.0, 18.0, 9.0]  # percent of the scene under cloud
BANDS = ["blue", "green", "red", "nir"]
ROOT = Path(__file__).resolve().parents[1] / "src" / "eerest_emulator" / "data"

# Reflectance (blue, green, red, nir) of each cover type.
WATER = (0.055, 0.050, 0.030, 0.015)
SOIL = (0.080, 0.110, 0.145, 0.220)
CROP = (0.030, 0.075, 0.035, 0.420)
FOREST = (0.020, 0.040, 0.022, 0.300)
GRASS = (0.040, 0.080, 0.055, 0.330)
ROOF = (0.120, 0.125, 0.140, 0.180)
ROAD = (0.090, 0.095, 0.100, 0.120)
CLOUD = (0.620, 0.610, 0.600, 0.580)


def smooth_noise(rng: np.random.Generator, cells: int, size: int = SIZE) -> np.ndarray:
    """Smooth noise in [0, 1): a coarse uniform grid upsampled bilinearly."""
    coarse = rng.random((cells + 1, cells + 1))
    t = np.linspace(0.0, cells, size, endpoint=False) + 0.5 * cells / size
    i = np.minimum(t.astype(int), cells - 1)
    f = t - i
    f = f * f * (3 - 2 * f)  # smoothstep
    rows = coarse[i] * (1 - f)[:, None] + coarse[i + 1] * f[:, None]
    return rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]


def land_cover(rng: np.random.Generator):
    """Cover class map and per-field crop calendars."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    cover = np.full((SIZE, SIZE), 2, dtype=np.uint8)  # 0 water, 1 forest, 2 field, 3 town, 4 road, 5 grass
    # Fields: a grid of parcels of varying size; each gets a crop id.
    field_id = np.zeros((SIZE, SIZE), dtype=np.int32)
    edges_x = np.cumsum(rng.integers(18, 40, size=12))
    edges_y = np.cumsum(rng.integers(16, 36, size=12))
    fx = np.searchsorted(edges_x, xx)
    fy = np.searchsorted(edges_y, yy)
    field_id = fy * 16 + fx
    # Forest in the north-east, with a ragged edge.
    n = smooth_noise(rng, 6)
    cover[(xx + 0.8 * (SIZE - yy) + 60 * n) > 1.55 * SIZE] = 1
    # A lake in the south-west and a river crossing the scene.
    lake = ((xx - 52) / 34) ** 2 + ((yy - 170) / 24) ** 2 < 1 + 0.25 * (smooth_noise(rng, 5) - 0.5)
    river = np.abs(xx - (88 + 40 * np.sin(yy / 37.0) + 0.5 * yy)) < 2.6
    cover[lake | river] = 0
    # A town north of the river: blocks of roofs split by a street grid.
    town = ((xx - 150) / 42) ** 2 + ((yy - 70) / 34) ** 2 < 1
    cover[town] = 3
    streets = town & ((xx.astype(int) % 14 < 2) | (yy.astype(int) % 12 < 2))
    cover[streets] = 4
    parks = town & (smooth_noise(rng, 9) > 0.72) & ~streets
    cover[parks] = 5
    # A main road.
    cover[(np.abs(yy - (0.35 * xx + 110)) < 1.5) & (cover != 0)] = 4
    n_fields = int(field_id.max()) + 1
    sowing = rng.integers(0, 4, size=n_fields)  # index of the date the crop starts greening
    is_grass = rng.random(n_fields) < 0.2
    return cover, field_id, sowing, is_grass


def scene(rng: np.random.Generator, cover, field_id, sowing, is_grass, k: int):
    """One date's reflectance (4, H, W) as uint16 (x 10000), and its cloud fraction."""
    refl = np.zeros((4, SIZE, SIZE), dtype=np.float64)
    texture = 0.85 + 0.3 * smooth_noise(rng, 28)
    season = k - sowing[field_id]  # dates since the crop started growing
    growth = np.clip(season / 3.0, 0.0, 1.0)
    growth = np.where(is_grass[field_id], 0.8, growth)
    for b in range(4):
        field = SOIL[b] + (CROP[b] - SOIL[b]) * growth
        table = {0: WATER[b], 1: FOREST[b], 3: ROOF[b], 4: ROAD[b], 5: GRASS[b]}
        r = np.where(cover == 2, field, 0.0)
        for c, v in table.items():
            r = np.where(cover == c, v, r)
        refl[b] = r * np.where(cover == 0, 1.0, texture)
    refl *= 1.0 + 0.04 * (rng.random((1, SIZE, SIZE)) - 0.5)
    # Clouds: threshold smooth noise at the quantile that gives the target cover.
    target = CLOUD_COVER_TARGET[k] / 100.0
    cloud_noise = 0.7 * smooth_noise(rng, 5) + 0.3 * smooth_noise(rng, 14)
    if target > 0:
        thr = np.quantile(cloud_noise, 1 - target)
        opacity = np.clip((cloud_noise - thr) / 0.06, 0.0, 1.0)
    else:
        opacity = np.zeros((SIZE, SIZE))
    for b in range(4):
        refl[b] = refl[b] * (1 - opacity) + CLOUD[b] * opacity
    dn = np.clip(np.round(refl * 10000.0), 1, 65535).astype(np.uint16)
    return dn, float((opacity > 0.5).mean() * 100.0)


def utm_to_lonlat(x: float, y: float, zone: int = 33) -> tuple[float, float]:
    """Inverse transverse Mercator (WGS84, northern hemisphere), Snyder's series."""
    a, f, k0 = 6378137.0, 1 / 298.257223563, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    x -= 500000.0
    m = y / k0
    mu = m / (a * (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256))
    e1 = (1 - math.sqrt(1 - e2)) / (1 + math.sqrt(1 - e2))
    phi1 = (
        mu
        + (3 * e1 / 2 - 27 * e1**3 / 32) * math.sin(2 * mu)
        + (21 * e1**2 / 16 - 55 * e1**4 / 32) * math.sin(4 * mu)
        + (151 * e1**3 / 96) * math.sin(6 * mu)
    )
    c1 = ep2 * math.cos(phi1) ** 2
    t1 = math.tan(phi1) ** 2
    n1 = a / math.sqrt(1 - e2 * math.sin(phi1) ** 2)
    r1 = a * (1 - e2) / (1 - e2 * math.sin(phi1) ** 2) ** 1.5
    d = x / (n1 * k0)
    lat = phi1 - (n1 * math.tan(phi1) / r1) * (
        d**2 / 2
        - (5 + 3 * t1 + 10 * c1 - 4 * c1**2 - 9 * ep2) * d**4 / 24
        + (61 + 90 * t1 + 298 * c1 + 45 * t1**2 - 252 * ep2 - 3 * c1**2) * d**6 / 720
    )
    lon = (
        d
        - (1 + 2 * t1 + c1) * d**3 / 6
        + (5 - 2 * c1 + 28 * t1 - 3 * c1**2 + 8 * ep2 + 24 * t1**2) * d**5 / 120
    ) / math.cos(phi1)
    return round(math.degrees(lon) + (zone - 1) * 6 - 180 + 3, 7), round(math.degrees(lat), 7)


def footprint() -> dict:
    x1, y1 = X0 + SIZE * SCALE, Y0 - SIZE * SCALE
    ring = [utm_to_lonlat(x, y) for x, y in [(X0, Y0), (X0, y1), (x1, y1), (x1, Y0), (X0, Y0)]]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def grid(scale: float = SCALE, size: int = SIZE) -> dict:
    return {
        "crsCode": CRS,
        "affineTransform": {"scaleX": scale, "shearX": 0, "translateX": X0, "shearY": 0, "scaleY": -scale, "translateY": Y0},
        "dimensions": {"width": size, "height": size},
    }


def write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_npy(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=(1, 0), allow_pickle=False)


def main(out: Path = ROOT) -> None:
    base = out / "eerest" / "sample"
    if base.exists():
        shutil.rmtree(base)
    (base / "scenes").mkdir(parents=True)
    rng = np.random.default_rng(20240504)
    cover, field_id, sowing, is_grass = land_cover(rng)
    geom = footprint()
    write_json(
        base / "scenes.json",
        {
            "type": "IMAGE_COLLECTION",
            "updateTime": "2024-08-01T00:00:00Z",
            "properties": {
                "title": "eerest synthetic surface reflectance sample",
                "description": "Synthetic 16-bit surface reflectance (x 10000): fields, water, a town, clouds.",
                "scale_factor": 0.0001,
            },
        },
    )
    dtype = np.dtype([(b, "<u2") for b in BANDS])
    for k, date in enumerate(DATES):
        dn, cloud = scene(rng, cover, field_id, sowing, is_grass, k)
        arr = np.empty((SIZE, SIZE), dtype=dtype)
        for b, name in enumerate(BANDS):
            arr[name] = dn[b]
        sid = date.replace("-", "")
        write_npy(base / "scenes" / f"{sid}.npy", arr)
        write_json(
            base / "scenes" / f"{sid}.json",
            {
                "type": "IMAGE",
                "updateTime": "2024-08-01T00:00:00Z",
                "properties": {
                    "CLOUD_COVER": round(cloud, 2),
                    "SPACECRAFT": "EERESTSAT-" + ("A" if k % 2 == 0 else "B"),
                    "SUN_ELEVATION": round(58.0 + 6.0 * math.sin(k / 2.0), 2),
                    "scale_factor": 0.0001,
                },
                "startTime": f"{date}T10:05:31Z",
                "endTime": f"{date}T10:05:31Z",
                "geometry": geom,
                "bands": [
                    {
                        "id": name,
                        "dataType": {"precision": "INT", "range": {"min": 0, "max": 65535}},
                        "grid": grid(),
                        "pyramidingPolicy": "MEAN",
                    }
                    for name in BANDS
                ],
            },
        )
    # Elevation: a valley along the river, hills to the north-east; 20 m pixels.
    half = SIZE // 2
    yy, xx = np.mgrid[0:half, 0:half].astype(np.float64)
    elev = 180.0 + 0.9 * xx + 0.6 * (half - yy) + 25.0 * smooth_noise(rng, 6, half)
    write_npy(base / "elevation.npy", elev.astype("<f4"))
    write_json(
        base / "elevation.json",
        {
            "type": "IMAGE",
            "updateTime": "2024-08-01T00:00:00Z",
            "properties": {"units": "m", "title": "eerest synthetic elevation"},
            "startTime": "2000-02-11T00:00:00Z",
            "endTime": "2000-02-22T00:00:00Z",
            "geometry": geom,
            "bands": [{"id": "elevation", "dataType": {"precision": "FLOAT"}, "grid": grid(2 * SCALE, half)}],
        },
    )
    write_places(base)
    monthly(base, cover, geom)
    fields(base, cover)
    total = sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
    print(f"wrote {base} ({total / 1e6:.2f} MB)")


def _ms(date: str) -> int:
    return int(_dt.datetime.fromisoformat(f"{date}T00:00:00+00:00").timestamp() * 1000)


def _box(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


#: (name, kind, population, height_m, surveyed, protected, geometry) of the sample table.
PLACES = [
    ("Hochkar Hut", "hut", 12, 1480.5, "2021-06-01", True, {"type": "Point", "coordinates": [15.4480, 47.9550]}),
    ("Lassing Mill", "mill", None, 712.25, "2019-09-14", False, {"type": "Point", "coordinates": [15.4520, 47.9420]}),
    ("North Spring", "spring", 0, 1233.0, "2022-04-30", True, {"type": "Point", "coordinates": [15.4600, 47.9570]}),
    ("Oak Farm", "farm", 7, 820.75, "2018-03-03", False, {"type": "Point", "coordinates": [15.4700, 47.9400]}),
    ("Chapel", "chapel", None, 955.5, None, False, {"type": "Point", "coordinates": [15.4655, 47.9500]}),
    ("Weather Mast", "mast", 0, 1390.0, "2023-11-20", True, {"type": "Point", "coordinates": [15.4450, 47.9480]}),
    ("Bridge", "bridge", None, 690.125, "2020-07-07", False, {"type": "Point", "coordinates": [15.4560, 47.9395]}),
    ("Saddle", "pass", 0, 1510.0, "2022-08-16", True, {"type": "Point", "coordinates": [15.4620, 47.9445]}),
    ("Upper Meadow", "meadow", None, 1300.0, "2021-05-20", True,
     {"type": "Polygon", "coordinates": _box(15.4460, 47.9520, 15.4540, 47.9575)}),
    ("Village", "village", 240, 760.5, "2017-01-15", False,
     {"type": "Polygon", "coordinates": _box(15.4600, 47.9400, 15.4700, 47.9460) + _box(15.4640, 47.9420, 15.4660, 47.9440)}),
    ("Twin Lakes", "lake", 0, 1105.0, "2020-10-02", True,
     {"type": "MultiPolygon", "coordinates": [_box(15.4480, 47.9410, 15.4510, 47.9430), _box(15.4520, 47.9440, 15.4550, 47.9460)]}),
    ("Forest Road", "road", None, 980.0, None, False,
     {"type": "LineString", "coordinates": [[15.4440, 47.9400], [15.4550, 47.9480], [15.4720, 47.9580]]}),
]


def write_places(base: Path) -> None:
    """The sample table: its asset JSON and its features (GeoJSON; dates as getInfo writes them)."""
    features = []
    for i, (name, kind, population, height, surveyed, protected, geometry) in enumerate(PLACES):
        features.append({
            "type": "Feature",
            "id": f"{'p' if geometry['type'] == 'Point' else 'a'}{i}",
            "geometry": geometry,
            "properties": {
                "name": name,
                "kind": kind,
                "population": population,
                "height_m": height,
                "surveyed": {"type": "Date", "value": _ms(surveyed)} if surveyed else None,
                "protected": protected,
            },
        })
    write_json(base / "places.geojson", {"type": "FeatureCollection", "features": features})
    write_json(
        base / "places.json",
        {
            "type": "TABLE",
            "updateTime": "2024-08-01T00:00:00Z",
            "properties": {"title": "eerest sample places: points, polygons and a road with typed properties"},
        },
    )
MONTHLY_SIZE = 56  # 40 m pixels: the 10 m scene averaged 4 x 4
SNOW = (0.80, 0.78, 0.75, 0.62)
QA_DILATED, QA_CLOUD, QA_SHADOW, QA_SNOW, QA_CLEAR, QA_WATER = 1 << 1, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7


def monthly(base: Path, cover: np.ndarray, geom: dict) -> None:
    """24 monthly images at 40 m with a Landsat-style QA_PIXEL band (own seed: the files
    written before it do not change)."""
    rng = np.random.default_rng(20230115)
    (base / "monthly").mkdir()
    write_json(base / "monthly.json", {
        "type": "IMAGE_COLLECTION",
        "updateTime": "2025-01-15T00:00:00Z",
        "properties": {"title": "eerest synthetic monthly sample with a QA band",
                       "description": "Synthetic monthly 16-bit reflectance (x 10000) at 40 m with QA_PIXEL bits.",
                       "scale_factor": 0.0001},
    })
    n = MONTHLY_SIZE
    c = cover.reshape(n, 4, n, 4)
    water = (c == 0).mean(axis=(1, 3)) > 0.5
    forest = (c == 1).mean(axis=(1, 3)) > 0.5
    town = np.isin(c, (3, 4)).mean(axis=(1, 3)) > 0.5
    names = ["blue", "green", "red", "nir", "QA_PIXEL"]
    dtype = np.dtype([(b, "<u2") for b in names])
    for k in range(24):
        year, month = 2023 + k // 12, k % 12 + 1
        growth = max(0.0, math.sin(math.pi * (month - 3.5) / 6.0)) if 4 <= month <= 9 else 0.0
        texture = 0.9 + 0.2 * smooth_noise(rng, 7, n)
        refl = np.zeros((4, n, n))
        for b in range(4):
            field = SOIL[b] + (CROP[b] - SOIL[b]) * growth
            r = np.where(water, WATER[b], np.where(forest, FOREST[b], np.where(town, ROOF[b], field)))
            refl[b] = r * np.where(water, 1.0, texture)
        snow = np.zeros((n, n), dtype=bool)
        if month in (12, 1, 2):
            snow = (smooth_noise(rng, 4, n) > (0.25 if month == 1 else 0.5)) & ~water
        target = float(rng.choice([0.0, 0.05, 0.15, 0.3, 0.6]))
        noise = smooth_noise(rng, 5, n)
        cloud = noise > np.quantile(noise, 1 - target) if target > 0 else np.zeros((n, n), dtype=bool)
        shadow = np.roll(np.roll(cloud, 3, axis=0), 2, axis=1) & ~cloud
        dilated = ~cloud & (np.roll(cloud, 1, 0) | np.roll(cloud, -1, 0) | np.roll(cloud, 1, 1) | np.roll(cloud, -1, 1))
        for b in range(4):
            refl[b] = np.where(snow, SNOW[b], refl[b])
            refl[b] = np.where(shadow, refl[b] * 0.45, refl[b])
            refl[b] = np.where(cloud, CLOUD[b], refl[b])
        dn = np.clip(np.round(refl * 10000.0), 1, 65535).astype(np.uint16)
        qa = np.where(cloud, QA_CLOUD, 0) | np.where(dilated, QA_DILATED, 0) | np.where(shadow, QA_SHADOW, 0)
        qa |= np.where(snow & ~cloud, QA_SNOW, 0) | np.where(water & ~cloud, QA_WATER, 0)
        qa |= np.where(~cloud & ~shadow & ~dilated, QA_CLEAR, 0)
        arr = np.empty((n, n), dtype=dtype)
        for b, name in enumerate(names[:4]):
            arr[name] = dn[b]
        arr["QA_PIXEL"] = qa.astype(np.uint16)
        sid = f"{year}{month:02d}15"
        write_npy(base / "monthly" / f"{sid}.npy", arr)
        write_json(base / "monthly" / f"{sid}.json", {
            "type": "IMAGE",
            "updateTime": "2025-01-15T00:00:00Z",
            "properties": {"CLOUD_COVER": round(float(cloud.mean() * 100.0), 2), "SNOW_COVER": round(float(snow.mean() * 100.0), 2),
                           "SPACECRAFT": "EERESTSAT-C", "scale_factor": 0.0001},
            "startTime": f"{year}-{month:02d}-15T10:00:00Z",
            "endTime": f"{year}-{month:02d}-15T10:00:00Z",
            "geometry": geom,
            "bands": [{"id": name, "dataType": {"precision": "INT", "range": {"min": 0, "max": 65535}},
                       "grid": grid(4 * SCALE, n), "pyramidingPolicy": "SAMPLE" if name == "QA_PIXEL" else "MEAN"}
                      for name in names],
        })


#: The table's polygons: (name, crop, column0, row0, column1, row1) in 10 m pixels of the scene.
FIELDS = [
    ("north-west", "wheat", 8, 8, 40, 36), ("west", "maize", 8, 44, 44, 80), ("centre", "barley", 90, 110, 130, 140),
    ("south", "grass", 120, 180, 170, 215), ("east", "maize", 180, 120, 215, 160), ("river-bend", "wheat", 60, 95, 84, 120),
    ("south-east", "rapeseed", 178, 178, 216, 216),
]


def fields(base: Path, cover: np.ndarray) -> None:
    """A table of polygons (lon/lat) with properties; a lake outline among the fields."""
    feats = []
    for i, (name, crop, c0, r0, c1, r1) in enumerate(FIELDS):
        xs, ys = (X0 + c0 * SCALE, X0 + c1 * SCALE), (Y0 - r0 * SCALE, Y0 - r1 * SCALE)
        ring = [utm_to_lonlat(x, y) for x, y in [(xs[0], ys[0]), (xs[0], ys[1]), (xs[1], ys[1]), (xs[1], ys[0]), (xs[0], ys[0])]]
        feats.append({"type": "Feature", "id": str(i),
                      "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
                      "properties": {"name": name, "crop": crop, "area_ha": round((c1 - c0) * (r1 - r0) * SCALE * SCALE / 1e4, 2),
                                     "field_pixels": int((cover[r0:r1, c0:c1] == 2).sum())}})
    lake = [utm_to_lonlat(X0 + (52 + 30 * math.cos(t)) * SCALE, Y0 - (170 + 20 * math.sin(t)) * SCALE)
            for t in np.linspace(0, 2 * math.pi, 17)]
    lake[-1] = lake[0]
    feats.append({"type": "Feature", "id": str(len(feats)),
                  "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in lake]]},
                  "properties": {"name": "lake", "crop": "water", "area_ha": round(math.pi * 300 * 200 / 1e4, 2), "field_pixels": 0}})
    write_json(base / "fields.json", {
        "type": "TABLE", "updateTime": "2025-01-15T00:00:00Z",
        "properties": {"title": "eerest synthetic field parcels"},
        "geometry": footprint(),
    })
    (base / "fields.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
