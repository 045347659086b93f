"""Limit checks in the clients: each limit at its boundary (sent) and one step over (refused
with nothing sent), from band_dtypes= (computePixels) and from asset metadata (getPixels)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pixhelp import RawServer, Reply, npy_bytes, run

from eerest import InvalidRequestError, RequestLimitError, ResponseDecodeError, limits

EXPR = {"result": "0", "values": {"0": {"constantValue": 1}}}
SMALL = npy_bytes(np.zeros((1, 1), dtype=[("b", "u1")]))
ASSET = "projects/p/assets/big"


def _unless_mismatch(get: Any) -> Any:
    try:
        return get()
    except ResponseDecodeError as exc:
        if "request's grid" not in str(exc) and "the request asks for" not in str(exc):
            raise
        return None


def _grid(w: int, h: int) -> dict[str, Any]:
    return {"dimensions": {"width": w, "height": h}}


def _compute(flavour: tuple[str, str], server: RawServer, **kwargs: Any) -> Any:
    version, kind = flavour
    server.routes[":computePixels"] = Reply(SMALL)
    kwargs.setdefault("file_format", "NPY")
    return _unless_mismatch(
        lambda: run(version, kind, server.url, lambda c: c.projects.image.compute_pixels(expression=EXPR, **kwargs))
    )


def _asset(bands: list[dict[str, Any]]) -> Reply:
    return Reply(json.dumps({"name": ASSET, "type": "IMAGE", "bands": bands}).encode(), content_type="application/json")


def _band(name: str, data_type: dict[str, Any], w: int = 100, h: int = 100) -> dict[str, Any]:
    return {
        "id": name,
        "dataType": data_type,
        "grid": {"crsCode": "EPSG:4326", "dimensions": {"width": w, "height": h}},
    }


def _get(flavour: tuple[str, str], server: RawServer, bands: list[dict[str, Any]], **kwargs: Any) -> Any:
    version, kind = flavour
    server.routes[":getPixels"] = Reply(SMALL)
    server.routes["/big"] = _asset(bands)
    kwargs.setdefault("file_format", "NPY")
    return _unless_mismatch(
        lambda: run(version, kind, server.url, lambda c: c.projects.assets.get_pixels(name=ASSET, **kwargs))
    )


# -- computePixels, from band_dtypes= --------------------------------------------------------


def test_bytes_at_limit_is_sent(flavour: tuple[str, str], raw_server: RawServer) -> None:
    _compute(flavour, raw_server, grid=_grid(2048, 2048), band_dtypes=["uint16"] * 4)
    assert len(raw_server.pixel_requests) == 1


def test_bytes_over_limit_is_refused(flavour: tuple[str, str], raw_server: RawServer) -> None:
    with pytest.raises(RequestLimitError) as info:
        _compute(
            flavour, raw_server, grid=_grid(2049, 2048), band_dtypes=["uint16", np.uint16, "u2", np.dtype("uint16")]
        )
    err = info.value
    assert (err.size, err.limit, err.unit) == (2049 * 2048 * 12, 50331648, "bytes")
    assert limits.request_bytes(*err.suggested_tile, ["uint16"] * 4) <= 50331648
    for part in (str(err.size), "50331648", "{}x{}".format(*err.suggested_tile)):
        assert part in str(err)
    assert raw_server.requests == []


def test_types_unknown_only_shape_checked(flavour: tuple[str, str], raw_server: RawServer) -> None:
    _compute(flavour, raw_server, grid=_grid(30000, 30000))  # 900 Mpx, but types unknown: sent
    assert len(raw_server.pixel_requests) == 1


@pytest.mark.parametrize(("w", "h", "ok"), [(32768, 1, True), (1, 32768, True), (32769, 1, False), (1, 32769, False)])
def test_grid_dimension_boundary(flavour: tuple[str, str], raw_server: RawServer, w: int, h: int, ok: bool) -> None:
    if ok:
        _compute(flavour, raw_server, grid=_grid(w, h), band_dtypes=["uint8"])
        assert len(raw_server.pixel_requests) == 1
    else:
        with pytest.raises(RequestLimitError, match="32769") as info:
            _compute(flavour, raw_server, grid=_grid(w, h))
        assert info.value.unit == "pixels" and info.value.suggested_tile is not None
        assert raw_server.requests == []


@pytest.mark.parametrize(("n", "ok"), [(1024, True), (1025, False)])
def test_band_count_boundary(flavour: tuple[str, str], raw_server: RawServer, n: int, ok: bool) -> None:
    ids = [f"b{i}" for i in range(n)]
    if ok:
        _compute(flavour, raw_server, band_ids=ids, grid=_grid(4, 4))
        assert len(raw_server.pixel_requests) == 1
    else:
        with pytest.raises(RequestLimitError, match="1025") as info:
            _compute(flavour, raw_server, band_ids=ids)
        assert (info.value.size, info.value.limit, info.value.unit) == (1025, 1024, "bands")
        assert raw_server.requests == []


def test_band_count_from_band_dtypes(raw_server: RawServer) -> None:
    with pytest.raises(RequestLimitError, match="1025"):
        _compute(("v1", "sync"), raw_server, band_dtypes=["uint8"] * 1025)
    assert raw_server.requests == []


@pytest.mark.parametrize("fmt", ["TF_RECORD_IMAGE", "ZIPPED_GEO_TIFF", "ZIPPED_GEO_TIFF_PER_BAND"])
def test_file_format_refused(flavour: tuple[str, str], raw_server: RawServer, fmt: str) -> None:
    with pytest.raises(InvalidRequestError, match=fmt):
        _compute(flavour, raw_server, file_format=fmt)
    assert raw_server.requests == []


@pytest.mark.parametrize(
    ("vis", "band_ids", "match"),
    [
        ({"opacity": 1.5}, None, "opacity"),
        ({"opacity": -0.1}, None, "opacity"),
        ({"paletteColors": ["000000", "ffffff"]}, ["a", "b"], "palette"),
        ({"ranges": [{"min": 0, "max": 1}] * 2}, ["a", "b", "c"], "ranges"),
    ],
)
def test_visualization_refused(
    flavour: tuple[str, str], raw_server: RawServer, vis: Any, band_ids: Any, match: str
) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        _compute(flavour, raw_server, file_format="PNG", visualization_options=vis, band_ids=band_ids)
    assert raw_server.requests == []


def test_visualization_that_works_is_sent(raw_server: RawServer) -> None:
    for vis, ids in (
        ({"opacity": 1.0}, None),
        ({"paletteColors": ["000000", "ffffff"]}, ["a"]),
        ({"ranges": [{"min": 0, "max": 1}] * 3}, ["a", "b", "c"]),
    ):
        _compute(("v1", "sync"), raw_server, file_format="NPY", visualization_options=vis, band_ids=ids)
    assert len(raw_server.pixel_requests) == 3


def test_band_dtypes_must_match_band_ids(raw_server: RawServer) -> None:
    with pytest.raises(InvalidRequestError, match="one dtype per requested band"):
        _compute(("v1", "sync"), raw_server, band_ids=["a", "b"], band_dtypes=["uint8"])
    with pytest.raises(InvalidRequestError, match="not a pixel type"):
        _compute(("v1", "sync"), raw_server, band_dtypes=[object])
    assert raw_server.requests == []


# -- getPixels, from the asset's metadata --------------------------------------------------

INT16 = {"precision": "INT", "range": {"min": -32768, "max": 32767}}  # int16: 3 bytes a value


def test_asset_types_bytes_at_limit(flavour: tuple[str, str], raw_server: RawServer) -> None:
    # 4096 x 4096 x (int16 = 3 bytes) = 50331648: exactly the limit
    _get(flavour, raw_server, [_band("a", INT16)], grid=_grid(4096, 4096))
    assert len(raw_server.pixel_requests) == 1
    assert raw_server.requests[0].path == f"/{flavour[0]}/{ASSET}"  # assets.get first


def test_asset_types_bytes_over_limit(flavour: tuple[str, str], raw_server: RawServer) -> None:
    with pytest.raises(RequestLimitError, match="int16") as info:
        _get(flavour, raw_server, [_band("a", INT16)], grid=_grid(4097, 4096))
    assert info.value.size == 4097 * 4096 * 3
    assert raw_server.pixel_requests == []  # only assets.get went out


@pytest.mark.parametrize(
    ("data_type", "per_value"),
    [
        ({"precision": "INT", "range": {"min": 0, "max": 255}}, 2),
        ({"precision": "INT", "range": {"min": 0, "max": 65535}}, 3),
        ({"precision": "INT", "range": {"min": -1, "max": 65535}}, 5),
        ({"precision": "FLOAT"}, 5),
        ({"precision": "DOUBLE"}, 9),
    ],
)
def test_asset_type_sizes(raw_server: RawServer, data_type: dict[str, Any], per_value: int) -> None:
    pixels = limits.MAX_REQUEST_BYTES // per_value
    w = 4096
    h = pixels // w
    _get(("v1", "sync"), raw_server, [_band("x", data_type)], grid=_grid(w, h))
    with pytest.raises(RequestLimitError) as info:
        _get(("v1", "sync"), raw_server, [_band("x", data_type)], grid=_grid(w, h + 1))
    assert info.value.size == w * (h + 1) * per_value


def test_asset_native_grid_and_band_selection(raw_server: RawServer) -> None:
    u8 = {"precision": "INT", "range": {"min": 0, "max": 1}}
    bands = [_band("small", u8, 4000, 4000), _band("big", {"precision": "DOUBLE"}, 4000, 4000)]
    _get(("v1", "sync"), raw_server, bands, band_ids=["small"])  # native 4000 x 4000 x 2 bytes: fits
    assert len(raw_server.pixel_requests) == 1
    with pytest.raises(RequestLimitError, match="4000x4000"):
        _get(("v1", "sync"), raw_server, bands, band_ids=["big"])  # x 9 bytes: too big
    with pytest.raises(RequestLimitError, match="uint8, float64"):
        _get(("v1", "sync"), raw_server, bands)  # all bands
    assert len(raw_server.pixel_requests) == 1


def test_asset_unknowns_are_not_guessed(raw_server: RawServer) -> None:
    big = [_band("d", {"precision": "DOUBLE"}, 8000, 8000)]
    _get(("v1", "sync"), raw_server, big, region={"type": "Point", "coordinates": [0, 0]})  # size from region: unknown
    _get(("v1", "sync"), raw_server, big, band_ids=["d", "not-in-asset"])  # a band pattern: types unknown
    _get(("v1", "sync"), raw_server, [_band("i", {"precision": "INT"}, 8000, 8000)])  # INT without range
    assert len(raw_server.pixel_requests) == 3


def test_asset_band_count_for_visualization(flavour: tuple[str, str], raw_server: RawServer) -> None:
    u8 = {"precision": "INT", "range": {"min": 0, "max": 255}}
    with pytest.raises(InvalidRequestError, match="palette"):
        _get(
            flavour,
            raw_server,
            [_band(n, u8) for n in "rgb"],
            file_format="PNG",
            visualization_options={"paletteColors": ["000000", "ffffff"]},
        )
    assert raw_server.pixel_requests == []


@pytest.mark.parametrize(
    "name", ["projects/p/assets/a b", "projects/p/assets/x:y/z?#%", "projects/earthengine-public/assets/LANDSAT/LC08"]
)
def test_asset_name_recovered_from_path(name: str) -> None:
    import eerest.v1 as v1
    from eerest._core.call import build_call
    from eerest._core.types import RequestOptions
    from eerest._overlays.pixel_requests import asset_name

    api = v1.Client._api
    spec = api.specs["projects.assets.getPixels"]
    call = build_call(api, spec, project=None, params={"name": name}, body={}, options=RequestOptions())
    assert asset_name(call) == name


def test_asset_not_fetched_when_it_cannot_matter(raw_server: RawServer) -> None:
    big = [_band("d", {"precision": "DOUBLE"}, 8000, 8000)]
    # a grid without dimensions: the size is the server's to work out, so no assets.get
    _get(("v1", "sync"), raw_server, big, grid={"crsCode": "EPSG:4326"})
    assert [r.path for r in raw_server.requests] == [f"/v1/{ASSET}:getPixels"]


def test_bytes_of_pixels(raw_server: RawServer) -> None:
    px = _compute(("v1", "sync"), raw_server)
    assert bytes(px) == SMALL and len(px) == len(SMALL)
