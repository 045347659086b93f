"""The emulator's request handling against random requests: always a Response, a
google.rpc.Status body for every error, never an exception (in-process, no sockets)."""

from __future__ import annotations

import json
from typing import Any

from eerest_emulator import App, AssetStore
from eerest_emulator._http import Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

APP = App(AssetStore(None), require_auth=False)
SCENE = "projects/eerest/assets/sample/scenes/20240504"
PATHS = st.sampled_from([
    f"/v1/{SCENE}:getPixels", "/v1/projects/p/image:computePixels", "/v1/projects/p/imageCollection:computeImages",
    f"/v1/{SCENE}", "/v1/projects/p/algorithms", "/$discovery/rest?version=v1", "/v1/projects/p/assets/%2e%2e/x",
    "/_emulator/faults", "/_emulator/requests", "/_emulator/reset",
])
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
FIELDS = st.sampled_from(["fileFormat", "grid", "bandIds", "region", "expression", "visualizationOptions",
                          "pageSize", "pageToken", "kind", "delay", "count", "status"])
BODIES = st.one_of(
    st.binary(max_size=64),
    st.dictionaries(FIELDS, JSON, max_size=4).map(lambda d: json.dumps(d).encode()),
    st.builds(
        lambda w, h, sx, sy: json.dumps({"fileFormat": "NPY", "grid": {
            "dimensions": {"width": w, "height": h}, "affineTransform": {"scaleX": sx, "scaleY": sy}}}).encode(),
        st.integers(-2, 40), st.integers(-2, 40), st.floats(), st.floats()),
)


def _check(response: Any) -> None:
    assert 200 <= response.status < 600
    if response.status >= 400:
        error = json.loads(bytes(response.body))["error"]
        assert error["code"] == response.status and isinstance(error["message"], str)


# Whatever the profile (the repository's suite loads tests/fuzz's): the first requests load
# the algorithm catalogue and the discovery documents, slow for a deadline.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["GET", "POST", "DELETE", "PUT"]), PATHS, BODIES)
def test_any_request_gets_an_answer(method: str, path: str, body: bytes) -> None:
    request = Request(method, path, {"Authorization": "Bearer t"}, body)
    if path.startswith("/_emulator"):
        _check(APP.handle_admin(request))
    else:
        _check(APP.handle(request, "http://127.0.0.1:1/"))
    APP.faults.clear()
