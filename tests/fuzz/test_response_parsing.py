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


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)
TOKENS = st.sampled_from(['{', '}', '[', ']', ',', ':', '"a"', '"\\ud800"', '"\\u00e9"', '1', '-0', '1e400', '1.5E-3',
                          'NaN', '-Infinity', 'true', 'null', ' ', '\n', '"x', '01', '1.', '\ufeff', '"\x00"', '\xe9'])


def _same_as_json_loads(body: bytes) -> None:
    """Where pydantic-core's parser accepts ``body``, json.loads reads the same value from
    it (anything else goes to json.loads itself)."""
    import pydantic_core

    from eerest._core.exchange import _loads

    try:
        fast = pydantic_core.from_json(body, cache_strings="keys")
    except ValueError:
        return
    expected = json.loads(body)
    assert json.dumps(fast) == json.dumps(expected), body
    assert json.dumps(_loads(bytearray(body))) == json.dumps(expected)


@given(JSON, st.booleans())
def test_json_parsing_agrees_with_json_loads(value: Any, ascii_only: bool) -> None:
    _same_as_json_loads(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


@given(st.lists(TOKENS, max_size=12).map("".join))
def test_odd_json_text_is_read_as_json_loads_reads_it(text: str) -> None:
    _same_as_json_loads(text.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=40))
def test_arbitrary_bytes_are_read_as_json_loads_reads_them(body: bytes) -> None:
    _same_as_json_loads(body)
