"""Query parameters' patterns and enums, and path enums, are checked before sending, as
google-api-python-client refuses them; body enums are typed as Literals like query enums."""

from __future__ import annotations

import inspect

import pytest

import eerest
from eerest._core.call import build_call
from eerest._core.spec import ApiInfo, MethodSpec, ParamSpec
from eerest._core.types import RequestOptions
from tests.client.helpers import client

API = ApiInfo("x:v1", "v1", "1", "https://x.example.com/", "", ())
SPEC: MethodSpec[None] = MethodSpec(
    id="x.things.list",
    http_method="GET",
    path="v1/{kind}/things",
    params=(
        ParamSpec("kind", "path", required=True, enum=("RED", "GREEN")),
        ParamSpec("filter", "query", pattern="^[a-z]+=[0-9]+$"),
        ParamSpec("tags", "query", repeated=True, pattern="^t[0-9]$"),
        ParamSpec("zone", "query", pattern="[a-z]+"),  # no ^: matched from the start, as re.match
        ParamSpec("view", "query", enum=("BASIC", "FULL")),
    ),
)


def _call(extra_query: dict[str, str] | None = None, **params: object) -> tuple[tuple[str, str], ...]:
    options = RequestOptions(extra_query=extra_query or {})
    return build_call(API, SPEC, project=None, params={"kind": "RED", **params}, body=None, options=options).query


def test_valid_values_pass() -> None:
    assert _call(filter="a=1", tags=["t1", "t2"], zone="us1", view="FULL") == (
        ("filter", "a=1"),
        ("tags", "t1"),
        ("tags", "t2"),
        ("zone", "us1"),
        ("view", "FULL"),
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter": "a=b"}, "x.things.list: filter='a=b' does not match the pattern '^[a-z]+=[0-9]+$'"),
        ({"tags": ["t1", "x2"]}, "tags='x2' does not match the pattern '^t[0-9]$'"),
        ({"zone": "1us"}, "zone='1us' does not match the pattern '[a-z]+'"),
        ({"view": "NEWER"}, "view='NEWER' is not one of the values the API declares ('BASIC', 'FULL')"),
        ({"kind": "BLUE"}, "kind='BLUE' is not one of the values the API declares ('RED', 'GREEN')"),
    ],
)
def test_refused_before_sending(params: dict[str, object], message: str) -> None:
    with pytest.raises(eerest.InvalidRequestError) as caught:
        _call(**params)
    assert message in str(caught.value)


def test_a_value_newer_than_the_sdk_goes_in_extra_query() -> None:
    with pytest.raises(eerest.InvalidRequestError, match=r"extra_query=\{'view': \.\.\.\}"):
        _call(view="NEWER")
    assert _call(extra_query={"view": "NEWER"}) == (("view", "NEWER"),)


def test_earth_engine_query_enum_checked_before_sending(server) -> None:
    with client("v1", server.url) as c, pytest.raises(eerest.InvalidRequestError, match="view='NOPE'"):
        next(iter(c.projects.assets.list_assets(parent="projects/p/assets/a", view="NOPE").pages))  # type: ignore[arg-type]
    assert server.requests == []


def test_body_enums_are_literals_like_query_enums(server) -> None:
    with client("v1", server.url) as c:
        body_enum = inspect.signature(c.projects.update_config).parameters["registration_state"].annotation
        query_enum = inspect.signature(c.projects.assets.list_assets).parameters["view"].annotation
    assert body_enum.startswith("types.ProjectConfigRegistrationState | Literal['REGISTRATION_STATE_UNSPECIFIED', ")
    assert "| str" not in body_enum
    assert query_enum.startswith("Literal['EARTH_ENGINE_ASSET_VIEW_UNSPECIFIED', ")
