"""The pure parts: coordinates, CRS attributes, fill values, the client configuration."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from eerest_emulator.testing import emulator_credentials

from eerest.errors import InvalidRequestError
from eerest.tiling import PixelGrid
from eerest.xarray import ClientConfig, client_for
from eerest.xarray._coords import grid_mapping_attrs, xy_coords
from eerest.xarray._expressions import collection_image, unmask
from eerest.xarray._fill import band_fill_values
from eerest.xarray._source import looks_like_collection


def test_coordinates_are_pixel_centres():
    grid = PixelGrid(3, 2, (30.0, 0.0, 100.0, 0.0, -30.0, 900.0), "EPSG:32633")
    x, y = xy_coords(grid)
    assert x.tolist() == [115.0, 145.0, 175.0] and y.tolist() == [885.0, 855.0]
    attrs = grid_mapping_attrs(grid)
    assert attrs["GeoTransform"] == "100.0 30.0 0.0 900.0 0.0 -30.0"
    assert attrs["crs_code"] == "EPSG:32633"


def test_sheared_grids_have_no_xy_coordinates():
    with pytest.raises(InvalidRequestError, match="sheared or rotated"):
        xy_coords(PixelGrid(3, 2, (30.0, 1.0, 100.0, 0.0, -30.0, 900.0), "EPSG:32633"))


@pytest.mark.parametrize(
    ("dtype", "value", "ok"),
    [
        ("uint16", 65535, True),
        ("uint16", -1, False),
        ("uint16", 1.5, False),
        ("int8", -128, True),
        ("float32", -9999.0, True),
        ("float32", 0.1, False),  # not exactly a float32
        ("float64", 0.1, True),
        ("float32", float("inf"), False),
        ("uint8", True, False),
    ],
)
def test_fill_values_must_fit_the_band_type(dtype, value, ok):
    if ok:
        assert band_fill_values(["b"], [np.dtype(dtype)], value) == {"b": value}
    else:
        with pytest.raises(InvalidRequestError):
            band_fill_values(["b"], [np.dtype(dtype)], value)


def test_default_fill_value_is_what_earth_engine_sends():
    assert band_fill_values(["a", "b"], [np.dtype("uint8"), np.dtype("float32")], {"b": -1.0}) == {"a": 0, "b": -1.0}


def test_unmask_expression_wraps_the_result():
    expr = {"result": "0", "values": {"0": {"constantValue": 1}}}
    out = unmask(expr, [5])
    node = out["values"][out["result"]]["functionInvocationValue"]
    assert node["functionName"] == "Image.unmask"
    assert node["arguments"]["input"] == {"valueReference": "0"}
    assert node["arguments"]["sameFootprint"] == {"constantValue": False}
    fill = out["values"][node["arguments"]["value"]["valueReference"]]
    assert fill["functionInvocationValue"]["arguments"]["value"] == {"constantValue": 5}
    assert expr == {"result": "0", "values": {"0": {"constantValue": 1}}}  # not modified


def test_collection_detection_and_single_image_expressions():
    load = {"result": "0", "values": {"0": {"functionInvocationValue": {"functionName": "ImageCollection.load", "arguments": {}}}}}
    assert looks_like_collection(None, load)
    first = collection_image(load, "20240504")
    assert not looks_like_collection(None, first)
    filt = first["values"]["eerest_filter"]["functionInvocationValue"]["arguments"]
    assert filt == {"leftField": {"constantValue": "system:index"}, "rightValue": {"constantValue": "20240504"}}


def test_client_config_pickles_without_credentials_and_builds_one_client_per_process():
    config = ClientConfig(project="p", base_url="http://127.0.0.1:9", credentials=emulator_credentials, max_retries=1)
    blob = pickle.dumps(config)
    assert b"google.oauth2" not in blob and b"emulator_credentials" in blob  # a reference, not a token
    again = pickle.loads(blob)
    assert again == config and hash(again) == hash(config)
    client = client_for(again)
    assert client is client_for(config)
    assert client.project == "projects/p" and client.base_url == "http://127.0.0.1:9" and client.max_retries == 1
    assert ClientConfig.from_client(client, emulator_credentials).base_url == "http://127.0.0.1:9"


def test_client_config_rejects_credentials_objects():
    with pytest.raises(InvalidRequestError, match="credentials factory"):
        ClientConfig(project="p", credentials=emulator_credentials())  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="api_version"):
        ClientConfig(project="p", api_version="v2")  # type: ignore[arg-type]
