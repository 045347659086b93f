"""Code written for Xee's ``engine="ee"`` runs with ``engine="eerest"``: the same grid
keywords give the same values as Xee itself reading the same emulator (the oracle), and
Xee's other keywords get a message naming eerest's spelling. Image properties are numpy
coordinates, so selecting images by them works."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr
from xarray_helpers import SCENES

import eerest.xarray
from eerest.errors import InvalidRequestError

ee = pytest.importorskip("ee")
xee = pytest.importorskip("xee")
shapely = pytest.importorskip("shapely")

pytestmark = [
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
def ee_init(ee_emulator: Any) -> Any:
    from google.oauth2.credentials import Credentials

    ee.Initialize(credentials=Credentials(token="emulator"), project="eerest", opt_url=ee_emulator.url)
    yield ee_emulator
    ee.Reset()


def test_xee_grid_keywords_read_what_xee_reads(ee_init: Any, ee_client: Any) -> None:
    coll = ee.ImageCollection(SCENES).filterDate("2024-05-01", "2024-06-30")
    params = xee.helpers.fit_geometry(
        shapely.box(15.45, 47.945, 15.465, 47.955), grid_crs="EPSG:4326", grid_scale=(0.0002, -0.0002)
    )
    theirs = xr.open_dataset(coll, engine="ee", **params)
    ours = xr.open_dataset(coll, engine=eerest.xarray.EeRestBackendEntrypoint, client=ee_client, **params)
    w, h = params["shape_2d"]
    assert ours["red"].shape == theirs["red"].shape == (3, h, w)
    np.testing.assert_array_equal(ours["red"].values.astype(np.float32), theirs["red"].values)
    np.testing.assert_allclose(ours.x.values, theirs.x.values)
    np.testing.assert_allclose(ours.y.values, theirs.y.values)


def test_crs_scale_geometry_make_the_grid_of_the_geometry(ee_client: Any) -> None:
    box = shapely.box(15.45, 47.945, 15.465, 47.955)
    ds = xr.open_dataset(
        SCENES, engine=eerest.xarray.EeRestBackendEntrypoint, client=ee_client, crs="EPSG:32633", scale=10,
        geometry=box,
    )
    want = eerest.tiling.PixelGrid.from_geometry(box, crs="EPSG:32633", scale=10)
    assert (ds.sizes["x"], ds.sizes["y"]) == (want.width, want.height)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ee_mask_value": 0}, "ee_mask_value= -> fill_value="),
        ({"request_byte_limit": 1 << 20}, "request_byte_limit= -> max_tile_bytes="),
        ({"crs": "EPSG:4326", "scale": 0.01}, "need geometry="),
        ({"crs": "EPSG:4326", "shape_2d": (3, 3)}, "crs=, crs_transform= and shape_2d= together"),
        ({"scale": 10}, "need crs= too"),
    ],
)
def test_other_xee_keywords_say_what_to_pass(ee_client: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        xr.open_dataset(SCENES, engine=eerest.xarray.EeRestBackendEntrypoint, client=ee_client, **kwargs)


def test_images_are_selected_by_their_properties(ee_client: Any) -> None:
    ds = eerest.xarray.open_dataset(SCENES, client=ee_client)
    assert isinstance(ds.CLOUD_COVER.data, np.ndarray)
    clear = ds.where(ds.CLOUD_COVER < 10, drop=True)
    assert 0 < clear.sizes["time"] < ds.sizes["time"]
    assert (clear.CLOUD_COVER.values < 10).all()
