"""Responses are converted lazily, and a lazy message is indistinguishable from one built by
eager validation: same fields, fields-set, extras, enums, repr, wire form, copies, pickles."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from typing import Any

import pytest

from eerest import ResponseDecodeError
from eerest._core.message import Message, lenient, parse_response
from eerest.v1 import types

BAND = {
    "id": "B4",
    "dataType": {"precision": "INT", "range": {"min": 0, "max": 65535}},
    "grid": {"crsCode": "EPSG:32633", "dimensions": {"width": 10980, "height": 10980},
             "affineTransform": {"scaleX": 10, "scaleY": -10.0, "translateX": 300000, "translateY": 5000040}},
    "pyramidingPolicy": "MEAN",
    "missingData": {"values": [0, "NaN"]},
}
IMAGE = {
    "type": "IMAGE",
    "name": "projects/p/assets/i",
    "startTime": "2024-06-01T10:00:00.123456789Z",
    "sizeBytes": "9007199254740993",
    "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    "properties": {"CLOUD_COVER": 3.5, "nested": {"a": [1, None]}},
    "bands": [BAND, {**BAND, "id": "B8", "pyramidingPolicy": "NEWER_POLICY", "futureField": 1}],
    "newServerField": {"a": 1},
}
PAGE = {"images": [IMAGE, {"name": "projects/p/assets/j", "type": "FUTURE_TYPE", "id": None}], "nextPageToken": "t"}


def _fresh(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


def _eager(model: type[Message], data: dict[str, Any]) -> Any:
    with lenient():
        return model.model_validate(_fresh(data))


def _state(value: Any) -> Any:
    """Everything a message holds, recursively, read the way pydantic reads it."""
    if isinstance(value, Message):
        return (type(value), value.model_fields_set, _state(value.model_extra), _state(dict(value.__dict__)))
    if isinstance(value, list):
        return [_state(v) for v in value]
    if isinstance(value, dict):
        return {k: _state(v) for k, v in value.items()}
    return (type(value), value)


TOUCHES = {
    "nothing": lambda m: None,
    "a field": lambda m: m.images[0].name,
    "a deep field": lambda m: m.images[0].bands[1].grid.affine_transform.scale_y,
    "an extra": lambda m: m.images[0].model_extra,
    "a change": lambda m: m.images[0].bands.append(m.images[0].bands[0]),
    "an assignment": lambda m: setattr(m.images[1], "name", "projects/p/assets/k"),
}


@pytest.mark.parametrize("touch", TOUCHES)
def test_lazy_equals_eager(touch: str) -> None:
    lazy, eager = parse_response(types.ComputeImagesResponse, _fresh(PAGE)), _eager(types.ComputeImagesResponse, PAGE)
    TOUCHES[touch](lazy)
    TOUCHES[touch](eager)
    assert _state(lazy) == _state(eager)
    assert lazy == eager


@pytest.mark.parametrize(
    "read",
    [repr, lambda m: m.to_dict(), lambda m: m.model_dump(), lambda m: m.model_dump_json(), vars, dict,
     lambda m: list(m), lambda m: m.model_fields_set, lambda m: m.model_extra, lambda m: m.model_copy(deep=True),
     copy.copy],
)
def test_every_reader_sees_converted_fields(read: Any) -> None:
    lazy, eager = parse_response(types.EarthEngineAsset, _fresh(IMAGE)), _eager(types.EarthEngineAsset, IMAGE)
    assert read(lazy) == read(eager)


def test_typed_values() -> None:
    asset = parse_response(types.EarthEngineAsset, _fresh(IMAGE))
    assert asset.type is types.EarthEngineAssetType.IMAGE
    assert asset.size_bytes == 9007199254740993
    assert asset.start_time == dt.datetime(2024, 6, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
    band = asset.bands[0]
    assert isinstance(band, types.ImageBand) and isinstance(band.grid.affine_transform.scale_x, float)
    assert band.missing_data.values[1] != band.missing_data.values[1]  # "NaN" is a float NaN
    assert asset.bands[1].pyramiding_policy.value == "NEWER_POLICY"  # unknown enum value kept
    assert asset.bands[1].model_extra == {"futureField": 1}
    assert asset.model_extra == {"newServerField": {"a": 1}}
    assert asset.to_dict()["sizeBytes"] == "9007199254740993"


def test_pickle_round_trip() -> None:
    data = _fresh(IMAGE)
    data["bands"][1]["pyramidingPolicy"] = "MEAN"  # unknown enum values do not pickle, eager or lazy
    for band in data["bands"]:
        band["missingData"] = {"values": [0]}  # NaN != NaN
    lazy = parse_response(types.EarthEngineAsset, data)
    assert pickle.loads(pickle.dumps(lazy)) == _eager(types.EarthEngineAsset, data)


def test_malformed_field_is_a_decode_error_naming_it() -> None:
    asset = parse_response(types.EarthEngineAsset, {"name": "projects/p/assets/i", "bands": 5, "sizeBytes": "x"})
    assert asset.name == "projects/p/assets/i"  # the well-formed fields read fine
    with pytest.raises(ResponseDecodeError, match=r"EarthEngineAsset\.bands"):
        asset.bands  # noqa: B018
    asset = parse_response(types.EarthEngineAsset, {"name": "projects/p/assets/i", "sizeBytes": "x"})
    with pytest.raises(ResponseDecodeError, match=r"EarthEngineAsset\.sizeBytes"):
        asset.to_dict()


def test_requests_stay_strict() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        types.PixelGrid.model_validate({"crsCode": "EPSG:4326", "crsCod": "typo"})
    with pytest.raises(ValueError):
        types.GetPixelsRequest(file_format="NOT_A_FORMAT")


def test_unknown_enum_values_survive_pickle_and_copy() -> None:
    """A value a newer server sent stays readable through pickle (dask ships results that
    way) and deepcopy; a request still refuses it."""
    asset = parse_response(types.EarthEngineAsset, {"type": "NEW_KIND", "bands": [{"id": "b", "dataType": {"precision": "QUAD"}}]})
    for back in (pickle.loads(pickle.dumps(asset)), copy.deepcopy(asset)):
        assert back == asset
        assert back.type.value == "NEW_KIND" and back.bands[0].data_type.precision.value == "QUAD"
    assert pickle.loads(pickle.dumps(types.ImageFileFormat.NPY)) is types.ImageFileFormat.NPY
    with pytest.raises(ValueError):
        types.ImageFileFormat("NEW_FORMAT")


def test_a_call_returns_a_lazy_message_whose_bad_field_fails_when_read(server) -> None:
    """One message, as a page: the call succeeds, the well-formed fields read, and the field
    the server sent malformed raises, naming itself, when read."""
    from tests.client.helpers import client

    server.default.body = json.dumps({**IMAGE, "sizeBytes": "many"}).encode()
    with client("v1", server.url) as c:
        asset = c.projects.assets.get(name="projects/p/assets/i")
    assert asset.name == "projects/p/assets/i" and asset.bands[0].grid.dimensions.width == 10980
    with pytest.raises(ResponseDecodeError, match=r"EarthEngineAsset\.sizeBytes"):
        asset.size_bytes  # noqa: B018
    server.default.body = json.dumps(IMAGE).encode()
    with client("v1", server.url) as c:
        assert _state(c.projects.assets.get(name="projects/p/assets/i")) == _state(_eager(types.EarthEngineAsset, IMAGE))
