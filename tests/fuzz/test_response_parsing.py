"""A single response message is parsed in one step from its bytes (pydantic's JSON parser)
and, for anything that is not a well-formed message, again the slow way for the exact error:
the one-step path must build exactly what ``json.loads`` + validation builds, and never
accept what that rejects."""

from __future__ import annotations

import json
from typing import Any

from eerest.v1 import types
from hypothesis import given
from hypothesis import strategies as st

from eerest._core.exchange import _parse_message
from eerest._core.message import lenient
from tests.client.test_lazy_responses import IMAGE, PAGE, _state

ODD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
    st.sampled_from(["", "NaN", "Infinity", "2024-06-01T10:00:00.123456789Z", "2024-06-01", "12", " 12 ", "+3",
                     "x", "IMAGE", "NEW_KIND", "FLOAT", "\u00e9", "1e3", "1.5s", "\ud800"]),
    st.text(max_size=8),
)
FIELDS = ["type", "name", "sizeBytes", "startTime", "updateTime", "bands", "properties", "geometry", "featureCount",
          "error", "newField"]
BAND_FIELDS = ["id", "dataType", "grid", "pyramidingPolicy", "missingData", "futureField"]


def _value(depth: int = 2) -> st.SearchStrategy[Any]:
    if depth == 0:
        return ODD
    return st.one_of(ODD, st.lists(_value(depth - 1), max_size=3), st.dictionaries(
        st.sampled_from([*BAND_FIELDS, "precision", "min", "max", "crsCode", "values"]), _value(depth - 1), max_size=3))


ASSETS = st.dictionaries(st.sampled_from(FIELDS), _value(), max_size=6)


def _slow(data: Any) -> Any:
    with lenient():
        return types.EarthEngineAsset.model_validate(data)


def _check(body: bytes) -> None:
    fast = _parse_message(types.EarthEngineAsset, bytearray(body))
    try:
        data = json.loads(body)
        slow = _slow(data)
    except (ValueError, RecursionError):
        assert fast is None, body  # rejected the slow way: never accepted the fast way
        return
    if fast is not None:
        assert _state(fast) == _state(slow) and fast == slow
        assert not (isinstance(data, dict) and list(data) == ["error"])  # an error body is left to the slow path


def test_a_real_image_and_page_parse_as_eager_validation_builds_them() -> None:
    body = json.dumps(IMAGE).encode()
    fast = _parse_message(types.EarthEngineAsset, bytearray(body))
    assert fast is not None and _state(fast) == _state(_slow(json.loads(body)))
    page = json.dumps(PAGE).encode()
    with lenient():
        expected = types.ComputeImagesResponse.model_validate(json.loads(page))
    assert _state(_parse_message(types.ComputeImagesResponse, bytearray(page))) == _state(expected)


def test_error_bodies_and_odd_encodings_take_the_slow_path() -> None:
    assert _parse_message(types.EarthEngineAsset, bytearray(b'{"error": {"code": 400, "message": "m"}}')) is None
    for body in [b"\xef\xbb\xbf{}", '{"name": "x"}'.encode("utf-16"), b'{"name": "\\ud800"}', b"[1]", b"",
                 b'{"name": "\xff"}', b'{"sizeBytes": "12x"}', b'{"bands": "many"}']:
        _check(body)


@given(ASSETS)
def test_one_step_parsing_agrees_with_loads_and_validate(data: dict[str, Any]) -> None:
    try:
        body = json.dumps(data).encode()
    except (ValueError, UnicodeEncodeError):
        return
    _check(body)
