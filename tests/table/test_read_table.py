"""read_table against the emulator, compared with what earthengine-api's
``ee.data.computeFeatures`` / ``listFeatures`` return from the same emulator."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest

gpd = pytest.importorskip("geopandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
shapely = pytest.importorskip("shapely")
ee = pytest.importorskip("ee")

from eerest_emulator.testing import EMULATOR_PROJECT, emulator_credentials  # noqa: E402

import eerest  # noqa: E402
import eerest.v1alpha  # noqa: E402
import eerest.v1beta  # noqa: E402

PLACES = "projects/eerest/assets/sample/places"
ELEVATION = "projects/eerest/assets/sample/elevation"


@pytest.fixture
def client(ee_session: Any) -> Any:
    with eerest.Client(project=EMULATOR_PROJECT, base_url=ee_session.url, credentials=emulator_credentials(),
                       max_requests_per_second=None) as c:
        yield c


def _plain(v: Any) -> Any:
    """A cell as ee's GeoDataFrame holds it (NaN for a missing number, a Date as its dict)."""
    import pandas as pd

    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "timestamp") and hasattr(v, "tzinfo"):
        if str(v) == "NaT":
            return None
        return {"type": "Date", "value": round(v.timestamp() * 1000)}
    if hasattr(v, "item"):
        return v.item()
    return v


def assert_same_features(ours: Any, theirs: Any) -> None:
    """Our GeoDataFrame holds what ee's (GeoDataFrame.from_features) does: same rows in the same
    order, same geometries, same property values (ee's lose integer and date types; ours keep them)."""
    assert isinstance(ours, gpd.GeoDataFrame) and ours.crs.to_epsg() == 4326
    assert len(ours) == len(theirs)
    assert set(ours.columns) == set(theirs.columns)
    assert shapely.equals_exact(ours.geometry.values, theirs.geometry.values, tolerance=0).all()
    for name in theirs.columns:
        if name == "geometry":
            continue
        assert [_plain(v) for v in ours[name]] == [_plain(v) for v in theirs[name]], name


def test_table_asset_equals_ee(client: Any) -> None:
    ours = client.read_table(PLACES)
    theirs = ee.data.listFeatures({"assetId": PLACES, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
    assert_same_features(ours, theirs)
    assert str(ours["population"].dtype) == "Int64" and ours["population"].isna().sum() == 5
    assert str(ours["surveyed"].dtype) == "datetime64[ms, UTC]" and str(ours["surveyed"][0]) == "2021-06-01 00:00:00+00:00"
    assert str(ours["protected"].dtype) == "bool" and ours["height_m"].dtype == "float64"
    assert set(ours.geometry.geom_type) == {"Point", "Polygon", "MultiPolygon", "LineString"}
    assert len(ours.geometry[9].interiors) == 1  # the village's hole


def test_expression_equals_ee_in_small_pages(client: Any) -> None:
    fc = ee.FeatureCollection(PLACES).filter(ee.Filter.neq("kind", "road")).sort("height_m")
    ours = client.read_table(fc, page_size=4)
    theirs = ee.data.computeFeatures({"expression": fc, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
    assert_same_features(ours, theirs)
    assert list(ours["height_m"]) == sorted(ours["height_m"])
    as_dict = client.read_table(ee.serializer.encode(fc, for_cloud_api=True))
    assert as_dict.equals(ours)


def test_reduce_regions_and_sample_regions_equal_ee(client: Any) -> None:
    img = ee.Image(ELEVATION)
    areas = ee.FeatureCollection(PLACES).filter(ee.Filter.inList("kind", ["meadow", "village", "lake"]))
    for fc in (img.reduceRegions(areas, ee.Reducer.mean(), 20),
               img.sampleRegions(areas, ["name", "population"], 20, geometries=True)):
        ours = client.read_table(fc, page_size=100)
        theirs = ee.data.computeFeatures({"expression": fc, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
        assert len(ours) > 2
        assert_same_features(ours, theirs)


def test_more_than_5000_features_in_every_output(client: Any, tmp_path: Path) -> None:
    pts = ee.FeatureCollection.randomPoints(ee.Geometry.Rectangle([0, 0, 10, 10]), 12_345, 7)
    frame = client.read_table(pts, page_size=5000)
    assert len(frame) == 12_345 and (frame.geometry.geom_type == "Point").all()
    theirs = ee.data.computeFeatures({"expression": pts, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
    assert shapely.equals_exact(frame.geometry.values, theirs.geometry.values, tolerance=0).all()
    path = client.read_table(pts, out=tmp_path / "pts.parquet", page_size=1000, max_concurrency=3)
    assert pq.ParquetFile(path).metadata.num_row_groups == 13
    assert gpd.read_parquet(path).geometry.equals(frame.geometry)
    table = client.read_table(pts, out="arrow")
    assert table.num_rows == 12_345
    assert shapely.equals_exact(shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False)),
                                frame.geometry.values, tolerance=0).all()


def test_geoparquet_opens_in_geopandas_and_pyarrow(client: Any, tmp_path: Path) -> None:
    frame = client.read_table(PLACES)
    path = client.read_table(PLACES, out=str(tmp_path / "places.parquet"), page_size=5)
    assert path == str(tmp_path / "places.parquet") and not list(tmp_path.glob("*.partial*"))
    table = pq.read_table(path)
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB" and column["geometry_types"] == ["LineString", "MultiPolygon", "Point", "Polygon"]
    assert column["covering"] == {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}}
    assert column["bbox"] == pytest.approx(list(frame.total_bounds))
    import pyproj

    assert pyproj.CRS.from_json_dict(column["crs"]).to_epsg() == 4326
    bbox = table.column("bbox").to_pylist()
    assert [[b["xmin"], b["ymin"], b["xmax"], b["ymax"]] for b in bbox] == frame.geometry.bounds.values.tolist()
    assert table.schema.field("population").type == pa.int64() and table.schema.field("surveyed").type == pa.timestamp("ms", tz="UTC")
    read = gpd.read_parquet(path)
    assert read.crs.to_epsg() == 4326
    assert read.geometry.equals(frame.geometry)
    for name in ("name", "kind", "height_m", "surveyed", "protected"):
        assert read[name].equals(frame[name]), name
    assert [_plain(v) for v in read["population"]] == [_plain(v) for v in frame["population"]]
    arrow = client.read_table(PLACES, out="arrow")
    assert arrow.drop_columns([]).select(frame.columns.drop("geometry").tolist()).equals(table.select(frame.columns.drop("geometry").tolist()))
    assert arrow.schema.field("geometry").metadata[b"ARROW:extension:name"] == b"geoarrow.wkb"


def test_columns_and_schema_changes_across_pages(client: Any, tmp_path: Path) -> None:
    # A property null on the first pages, integers on one page and doubles on another.
    feats = [ee.Feature(ee.Geometry.Point([i, i]), {"n": i}) for i in range(4)]
    feats += [ee.Feature(ee.Geometry.Point([i, i]), {"n": i + 0.5, "late": "x"}) for i in range(4, 6)]
    fc = ee.FeatureCollection(feats)
    frame = client.read_table(fc, page_size=2)
    assert list(frame["n"]) == [0, 1, 2, 3, 4.5, 5.5] and list(frame["late"].isna()) == [True] * 4 + [False] * 2
    path = client.read_table(fc, out=tmp_path / "t.parquet", page_size=2)
    read = pq.read_table(path)
    assert read.column("n").to_pylist() == [0, 1, 2, 3, 4.5, 5.5] and read.schema.field("n").type == pa.float64()
    assert read.column("late").to_pylist() == [None] * 4 + ["x", "x"]
    assert json.loads(read.schema.metadata[b"geo"])["columns"]["geometry"]["geometry_types"] == ["Point"]
    only = client.read_table(fc, columns=["late", "missing"], page_size=4)
    assert list(only.columns) == ["late", "missing", "geometry"] and only["missing"].isna().all()


def test_every_version_sync_and_async(ee_session: Any) -> None:
    for module in (eerest, eerest.v1beta, eerest.v1alpha):
        with module.Client(project=EMULATOR_PROJECT, base_url=ee_session.url, credentials=emulator_credentials()) as c:
            assert len(c.read_table(PLACES, page_size=5)) == 12

        async def run(module: Any = module) -> Any:
            async with module.AsyncClient(project=EMULATOR_PROJECT, base_url=ee_session.url,
                                          credentials=emulator_credentials()) as ac:
                return await ac.read_table(ee.FeatureCollection(PLACES), page_size=5)

        assert len(asyncio.run(run())) == 12


def test_async_parquet(ee_session: Any, tmp_path: Path) -> None:
    async def run() -> Any:
        async with eerest.AsyncClient(project=EMULATOR_PROJECT, base_url=ee_session.url,
                                      credentials=emulator_credentials()) as ac:
            return await ac.read_table(PLACES, out=tmp_path / "a.parquet", page_size=3)

    assert len(gpd.read_parquet(asyncio.run(run()))) == 12


def _fail_after_first_page(emulator: Any, path: str) -> Any:
    """A progress callback that makes the next request of ``path`` fail once (a 400: no retry)."""

    def progress(features: int, pages: int) -> None:
        if pages == 1:
            emulator.inject("error", status=400, message="Computation failed.", path=path)

    return progress


def test_fatal_error_names_the_page_and_leaves_no_file(client: Any, ee_session: Any, tmp_path: Path) -> None:
    out = tmp_path / "fail.parquet"
    progress = _fail_after_first_page(ee_session, ":computeFeatures")
    with pytest.raises(eerest.BadRequestError) as info:
        client.read_table(ee.FeatureCollection(PLACES), out=out, page_size=2, max_concurrency=1, progress=progress)
    page = info.value.page
    assert page in (2, 3, 4) and str(info.value).startswith(f"400 INVALID_ARGUMENT: page {page}: Computation failed")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_resume_goes_on_from_the_failed_page(client: Any, ee_session: Any, tmp_path: Path) -> None:
    out = tmp_path / "resumed.parquet"
    progress = _fail_after_first_page(ee_session, ":listFeatures")
    with pytest.raises(eerest.BadRequestError):
        client.read_table(PLACES, out=out, page_size=2, resume=True, max_concurrency=1, progress=progress)
    record = tmp_path / "resumed.parquet.partial.json"
    assert not out.exists() and record.exists()
    written = json.loads(record.read_text())["pages"]
    assert written >= 1
    seen = len(ee_session.requests)
    path = client.read_table(PLACES, out=out, page_size=2, resume=True)
    asked = [r for r in ee_session.requests[seen:] if r.path.endswith(":listFeatures")]
    assert len(asked) == 6 - written and all("pageToken" in r.query for r in asked)  # only the pages missing
    assert gpd.read_parquet(path).geometry.equals(client.read_table(PLACES).geometry)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resumed.parquet"]


def test_bad_sources(client: Any) -> None:
    with pytest.raises(eerest.InvalidRequestError, match="projects/earthengine-public/assets/USDOS/LSIB"):
        client.read_table("USDOS/LSIB")
    with pytest.raises(eerest.InvalidRequestError):
        client.read_table(42)
    with pytest.raises(eerest.InvalidRequestError):
        client.read_table(PLACES, out="x.shp")
    with pytest.raises(eerest.InvalidRequestError):
        client.read_table(PLACES, page_size=0)
    with pytest.raises(eerest.BadRequestError, match="page 1"):
        client.read_table(ee.Image(ELEVATION))
    with pytest.raises(eerest.BadRequestError, match="not a Table"):
        client.read_table(ELEVATION)


def test_empty_results_and_features_without_geometry(client: Any, tmp_path: Path) -> None:
    none = ee.FeatureCollection(PLACES).filter(ee.Filter.eq("kind", "castle"))
    frame = client.read_table(none)
    assert len(frame) == 0 and frame.crs.to_epsg() == 4326
    path = client.read_table(none, out=tmp_path / "empty.parquet")
    assert pq.read_table(path).num_rows == 0 and json.loads(pq.read_schema(path).metadata[b"geo"])["version"] == "1.1.0"
    assert client.read_table(none, out="arrow").num_rows == 0
    mixed = ee.FeatureCollection([ee.Feature(None, {"a": 1}), ee.Feature(ee.Geometry.Point([1, 2]), {"a": 2})])
    frame = client.read_table(mixed)
    assert frame.geometry.isna().tolist() == [True, False] and list(frame["a"]) == [1, 2]
    read = gpd.read_parquet(client.read_table(mixed, out=tmp_path / "mixed.parquet"))
    assert read.geometry.isna().tolist() == [True, False]
    assert pq.read_table(tmp_path / "mixed.parquet").column("bbox").to_pylist()[0] is None
