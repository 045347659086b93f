"""Request building against random input: path parameters never leave the API's path,
header and Retry-After parsing never fail with anything but a typed error or a value."""

from __future__ import annotations

import math

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eerest import InvalidRequestError
from eerest._core.call import build_call
from eerest._core.paths import check_header, check_path_value, expand_path, within
from eerest._core.retry import RetryPolicy, parse_retry_after
from eerest._core.types import RequestOptions
from eerest.v1 import Client

API = Client._api

SEGMENT = st.sampled_from([".", "..", "%2e", "%2E%2e", "a", "", "\\", "b c", "?", "#", "%2f", ";x", "\u00e9", "\ud800"])
NAMES = st.one_of(st.text(max_size=60), st.lists(SEGMENT, max_size=8).map("/".join))
SPECS = sorted(API.specs.values(), key=lambda s: s.id)


@given(NAMES, st.sampled_from(SPECS))
def test_path_parameters_stay_in_the_api_path(value: str, spec: object) -> None:
    path_params = [p.name for p in spec.params if p.location == "path"]  # type: ignore[attr-defined]
    params = dict.fromkeys(path_params, value)
    try:
        call = build_call(API, spec, project="projects/p", params=params, body={}, options=RequestOptions())  # type: ignore[arg-type]
    except InvalidRequestError:
        return
    url = httpx.URL(f"https://earthengine.googleapis.com/{call.path}")
    assert within(url.path, "/v1/"), (value, url.path)
    assert "?" not in call.path and "#" not in call.path


@given(st.text(max_size=40))
def test_expand_path_encodes_everything_but_slashes(value: str) -> None:
    try:
        check_path_value("m", "name", value)
    except InvalidRequestError:
        return
    out = expand_path("v1/{+name}:get", {"name": value})
    assert out.startswith("v1/") and out.endswith(":get")
    assert not any(seg in (".", "..") for seg in out.split("/"))


@given(st.text(max_size=20), st.one_of(st.text(max_size=40), st.integers(), st.none()))
def test_header_check(name: str, value: object) -> None:
    try:
        check_header("m", name, value)
    except InvalidRequestError:
        return
    httpx.Headers({name: value})  # what passes is valid HTTP  # type: ignore[dict-item]
    assert "\r" not in name + str(value) and "\n" not in name + str(value)


@given(st.dictionaries(st.sampled_from(["retry-after", "Retry-After", "retry-after-ms", "x"]),
                       st.one_of(st.text(max_size=40), st.from_regex(r"\d{1,400}(\.\d+)?", fullmatch=True)), max_size=3))
def test_retry_after(headers: dict[str, str]) -> None:
    seconds = parse_retry_after(headers, now=1.7e9)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)
    delay = RetryPolicy().delay(0, headers)
    assert 0 <= delay <= 60


@pytest.mark.parametrize("value", ["1e999", "nan", "-inf", "-1", "Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 99999"])
def test_retry_after_edges(value: str) -> None:
    seconds = parse_retry_after({"retry-after": value}, now=1.7e9)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)
