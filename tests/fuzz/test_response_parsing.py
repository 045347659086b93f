"""Response JSON is decoded by pydantic-core's parser, and by ``json.loads`` whatever that
refuses: wherever the fast parser accepts a body, it must read exactly what ``json.loads``
reads (and never accept what ``json.loads`` rejects)."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core
from hypothesis import given
from hypothesis import strategies as st

from eerest._core.exchange import _loads

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
