"""The Earth Engine REST methods the emulator serves: the route table, auth, and a handler
for each method (assets, listing, pixels, values, thumbnails and map tiles, algorithms,
discovery). `ApiRoutes.handle(Request)` returns a `Response`; the server in `_server.py`
only moves bytes and applies faults.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from . import _asset_routes, _media_routes, _task_routes
from ._algorithms import REGISTRY, Context
from ._catalogue import listing
from ._discovery import VERSIONS, discovery_document, document
from ._encode import ZIP_FORMATS, encode, encode_zip
from ._errors import ApiError, invalid_argument, not_found, unauthenticated
from ._expression import evaluate
from ._faults import FaultInjector
from ._features_api import METHOD_IDS as FEATURE_METHOD_IDS
from ._features_api import ROUTES as FEATURE_ROUTES
from ._features_api import FeaturesApi
from ._grid import resolve_grid, same_crs
from ._http import Request, Response, internal_error
from ._image import Band, Image, ImageCollection
from ._info import to_info
from ._limits import check_request
from ._listing import FilterError, decode_page_token, encode_page_token, list_images_filter, parse_filter
from ._messages import build_message, parse_query, parse_request
from ._response_cache import ResponseCache
from ._store import AssetRecord, AssetStore
from ._unserved import not_served, unserved_method
from ._values import Geometry, nominal_unit

__all__ = ["ApiRoutes"]

log = logging.getLogger("eerest.emulator")

_V = "(" + "|".join(VERSIONS) + ")"
_ROUTES = [
    *FEATURE_ROUTES,
    *_task_routes.ROUTES,
    *_asset_routes.ROUTES,
    *_media_routes.ROUTES,
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/image:computePixels$"), "compute_pixels"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+/assets/.+):getPixels$"), "get_pixels"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/imageCollection:computeImages$"), "compute_images"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/value:compute$"), "compute_value"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/thumbnails$"), "create_thumbnail"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/thumbnails/[^/:]+):getPixels$"), "thumbnail_pixels"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/maps$"), "create_map"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/maps/[^/]+/tiles/-?\d+/-?\d+/-?\d+)$"), "map_tile"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+)/algorithms$"), "list_algorithms"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+):listAssets$"), "list_project_assets"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/assets/.+):listAssets$"), "list_assets"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/assets/.+):listImages$"), "list_images"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/assets/[^:]+)$"), "get_asset"),
]

#: Route handler -> the discovery method it serves (its query parameters are checked against it).
_METHOD_IDS = {
    "compute_pixels": "projects.image.computePixels",
    "get_pixels": "projects.assets.getPixels",
    "compute_images": "projects.imageCollection.computeImages",
    "compute_value": "projects.value.compute",
    "create_thumbnail": "projects.thumbnails.create",
    "thumbnail_pixels": "projects.thumbnails.getPixels",
    "create_map": "projects.maps.create",
    "map_tile": "projects.maps.tiles.get",
    "list_algorithms": "projects.algorithms.list",
    "list_project_assets": "projects.listAssets",
    "list_assets": "projects.assets.listAssets",
    "list_images": "projects.assets.listImages",
    "get_asset": "projects.assets.get",
    **FEATURE_METHOD_IDS,
    **_task_routes.METHOD_IDS,
    **_asset_routes.METHOD_IDS,
    **_media_routes.METHOD_IDS,
}
_DEFAULT_PAGE_SIZE = 1000
_SAVED = 1000  # thumbnails and maps kept
_MERCATOR_HALF = 20037508.342789244  # half the width of the EPSG:3857 world, in metres
_BASIC_VIEW_FIELDS = ("type", "name", "id", "updateTime")


#: Handlers answered without a token: thumbnail and tile URLs are shareable, as on the service.
_PUBLIC = {"thumbnail_pixels", "map_tile", *_media_routes.PUBLIC}


class ApiRoutes(FeaturesApi):
    """Routes requests to the Earth Engine methods; mixed into `App`, which sets up the state below."""

    store: AssetStore
    faults: FaultInjector
    require_auth: bool
    cache: ResponseCache
    _saved: OrderedDict[str, dict]  # thumbnails and maps, by name
    _saved_lock: threading.Lock
    # -- dispatch -----------------------------------------------------------------------
    def handle(self, req: Request, root_url: str) -> Response:
        """Answer one API request (faults are applied by the server, not here): always a
        response, a google.rpc.Status error for anything that goes wrong."""
        try:
            return self._handle(req, root_url)
        except ApiError as e:
            return Response.error(e)
        except RecursionError:
            return Response.error(invalid_argument("The request is nested too deeply (expression or JSON)."))
        except Exception as e:  # a bug, or input the checks missed: a 500, never a dropped connection
            return internal_error(e, req)

    def _handle(self, req: Request, root_url: str) -> Response:
        try:
            path = req.path
            if path.startswith("/$discovery/rest"):
                return self._discovery(req, root_url)
            path_matched = False
            for method, rx, handler in _ROUTES:
                m = rx.match(path)
                if m and req.method != method:
                    path_matched = True
                elif m:
                    if handler not in _PUBLIC:
                        self._check_auth(req)
                    if handler in _METHOD_IDS:
                        parse_query(m.group(1), _METHOD_IDS[handler], req.query)
                    return getattr(self, handler)(req, m.group(1), m.group(2))
            unserved = unserved_method(req.method, path)
            if unserved is not None:
                self._check_auth(req)
                raise not_served(unserved)
            if path_matched:
                raise ApiError(405, f"Method {req.method} is not allowed for {path}.", "INVALID_ARGUMENT")
            raise not_found(f"The requested URL {path} was not found on this server.")
        except ApiError as e:
            return Response.error(e)
        except RecursionError:
            raise  # a 400: see handle()
        except Exception as e:  # a bug in the emulator: say so, never drop the connection
            log.error("eerest emulator: %s %s failed", req.method, req.path[:200], exc_info=e)
            return Response.error(ApiError(500, f"The emulator failed on {req.method} {req.path}: {type(e).__name__}: {e}"))

    def _check_auth(self, req: Request) -> None:
        if not self.require_auth:
            return
        auth = req.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated()

    def _discovery(self, req: Request, root_url: str) -> Response:
        version = (req.query.get("version") or ["v1"])[0]
        doc = discovery_document(version, root_url)
        if doc is None:
            raise not_found(f"Discovery document for version {version!r} not found; use one of {', '.join(VERSIONS)}.")
        return Response(200, doc)

    # -- methods ------------------------------------------------------------------------
    def get_asset(self, req: Request, version: str, name: str) -> Response:
        rec = self.store.get(name)
        return Response.json(self._asset_message(version, rec))

    def _asset_message(self, version: str, rec: AssetRecord) -> dict[str, Any]:
        """The EarthEngineAsset of `rec`, checked (a 500 naming its file when the file does not fit)."""
        return build_message(version, "EarthEngineAsset", self.store.asset_json(rec), source=rec.meta_path)

    def list_algorithms(self, req: Request, version: str, project: str) -> Response:
        return Response(200, _algorithms_body())

    def compute_value(self, req: Request, version: str, project: str) -> Response:
        """projects.value.compute: what `getInfo()` calls."""
        body = parse_request(version, "ComputeValueRequest", req.body)
        if "expression" not in body:
            raise invalid_argument("Request is missing required field 'expression'.")
        value = evaluate(body["expression"], Context(self.store))
        return Response.json({"result": to_info(value)})

    def create_thumbnail(self, req: Request, version: str, project: str) -> Response:
        """projects.thumbnails.create (getThumbURL, getDownloadURL): checks the expression now,
        computes the pixels when the thumbnail's URL is fetched."""
        body = parse_request(version, "Thumbnail", req.body)
        return Response.json({"name": self._save(version, project, "thumbnails", body)})

    def create_map(self, req: Request, version: str, project: str) -> Response:
        """projects.maps.create (getMapId): tiles are computed when they are fetched."""
        body = parse_request(version, "EarthEngineMap", req.body)
        return Response.json({"name": self._save(version, project, "maps", body)})

    def map_tile(self, req: Request, version: str, path: str) -> Response:
        """projects.maps.tiles.get: a 256 x 256 Web Mercator (EPSG:3857) tile of the map's image."""
        name, _, zxy = path.partition("/tiles/")
        z, x, y = (int(v) for v in zxy.split("/"))
        if not (0 <= z <= 30 and 0 <= x < 2**z and 0 <= y < 2**z):
            raise invalid_argument(f"Tile {z}/{x}/{y} does not exist: x and y must be in [0, 2^zoom).")
        body = self._saved_request(name, "Map")
        image = evaluate(body["expression"], Context(self.store))
        if not isinstance(image, Image):
            raise invalid_argument("Maps: the expression must evaluate to an Image.")
        size = 2 * _MERCATOR_HALF / 2**z / 256
        grid = {"crsCode": "EPSG:3857", "dimensions": {"width": 256, "height": 256},
                "affineTransform": {"scaleX": size, "shearX": 0, "translateX": -_MERCATOR_HALF + x * 256 * size,
                                    "shearY": 0, "scaleY": -size, "translateY": _MERCATOR_HALF - y * 256 * size}}
        fmt = body.get("fileFormat") or "PNG"
        return self._pixels(image, {**body, "grid": grid, "fileFormat": "PNG" if fmt == "AUTO_JPEG_PNG" else fmt})

    def _save(self, version: str, project: str, kind: str, body: dict, expect: type = Image) -> str:
        """Check a thumbnail's, map's or download's expression now and keep the request; its name."""
        if "expression" not in body:
            raise invalid_argument("Request is missing required field 'expression'.")
        value = evaluate(body["expression"], Context(self.store))
        if type(value) is not expect:  # an ImageCollection is not a FeatureCollection
            got = type(value).__name__ if value is not None else "null"
            article = "an" if expect.__name__[0] in "AEIOU" else "a"
            raise invalid_argument(f"{kind[0].upper()}{kind[1:]}: the expression must evaluate to {article} {expect.__name__}, got {got}.")
        if isinstance(value, Image) and body.get("grid"):  # a bad grid (0x0...) fails the create call, not each fetch of the URL (retried by some)
            resolve_grid(body["grid"], value.native_grid)
        key = hashlib.sha256(json.dumps([version, body], sort_keys=True).encode()).hexdigest()[:32]
        name = f"{project}/{kind}/{key}"
        with self._saved_lock:
            self._saved[name] = body
            self._saved.move_to_end(name)
            while len(self._saved) > _SAVED:
                self._saved.popitem(last=False)
        return name

    def _saved_request(self, name: str, what: str) -> dict:
        with self._saved_lock:
            body = self._saved.get(name)
        if body is None:
            raise not_found(f"{what} '{name}' not found (the emulator keeps the last {_SAVED} maps, thumbnails and downloads).")
        return body

    def thumbnail_pixels(self, req: Request, version: str, name: str) -> Response:
        body = self._saved_request(name, "Thumbnail")
        image = evaluate(body["expression"], Context(self.store))
        fmt = body.get("fileFormat") or "AUTO_JPEG_PNG"
        if fmt in ZIP_FORMATS:
            bands = _chosen_bands(image, body.get("bandIds"))
            grid = resolve_grid(body.get("grid"), image.native_grid)
            rendered = [b.render(grid) for b in bands]
            data, ctype = encode_zip(fmt, body.get("filenamePrefix") or "download", [b.name for b in bands],
                                     [v for v, _ in rendered], [ok for _, ok in rendered], [b.ptype.dtype for b in bands], grid)
            return Response(200, data, ctype)
        return self._pixels(image, body)

    def list_project_assets(self, req: Request, version: str, project: str) -> Response:
        """projects.listAssets: the assets at the top of a project."""
        return self._list(req, version, "projects.listAssets", project, "assets")

    def list_assets(self, req: Request, version: str, parent: str) -> Response:
        """projects.assets.listAssets: the children of a folder, or the images of a collection."""
        return self._list(req, version, "projects.assets.listAssets", parent, "assets")

    def list_images(self, req: Request, version: str, parent: str) -> Response:
        """projects.assets.listImages: the images of a collection (or folder), filtered."""
        return self._list(req, version, "projects.assets.listImages", parent, "images")

    def _list(self, req: Request, version: str, method_id: str, parent: str, field: str) -> Response:
        query = parse_query(version, method_id, req.query)
        try:
            keep = parse_filter(query.get("filter") or "")
            if field == "images":
                keep = list_images_filter(
                    query.get("startTime"), query.get("endTime"), query.get("region"), query.get("properties") or ()
                ) & keep
        except FilterError as e:
            raise invalid_argument(f"Invalid filter: {e}.") from None
        page_size = query.get("pageSize") or _DEFAULT_PAGE_SIZE
        if page_size < 0:
            raise invalid_argument("page_size must not be negative.")
        scope = json.dumps([method_id, parent, {k: v for k, v in query.items() if k not in ("pageToken", "pageSize")}])
        offset = 0
        if query.get("pageToken"):
            got = decode_page_token(query["pageToken"], scope)
            if got is None:
                raise invalid_argument("Invalid page token.")
            offset = got
        children = self.store.children(parent)
        if field == "images":
            children = [r for r in children if r.type == "IMAGE"]
        matched = [a for a in (self._asset_message(version, r) for r in children) if keep(a)]
        if query.get("view") == "BASIC":
            matched = [{k: a[k] for k in _BASIC_VIEW_FIELDS if k in a} for a in matched]
        schema = "ListImagesResponse" if field == "images" else "ListAssetsResponse"
        schemas = document(version)["schemas"]
        item = schemas[schemas[schema]["properties"][field]["items"]["$ref"]]["properties"]
        page = [{k: v for k, v in a.items() if k in item} for a in matched[offset : offset + page_size]]
        out: dict[str, Any] = {field: page}  # v1alpha lists an Image, which has fewer fields than an asset
        if offset + page_size < len(matched):
            out["nextPageToken"] = encode_page_token(offset + page_size, scope)
        return Response.json(build_message(version, schema, out))

    def _cached(self, req: Request, key_parts: str) -> tuple[str, Response | None]:
        key = hashlib.sha256(key_parts.encode() + b"\0" + req.body).hexdigest()
        if self.faults.limits.memory_limit_pixels is not None:
            return key, None  # a cached answer would skip the memory limit
        return key, self.cache.get(key)

    def compute_pixels(self, req: Request, version: str, project: str) -> Response:
        key, hit = self._cached(req, "computePixels")
        if hit is not None:
            return hit
        body = parse_request(version, "ComputePixelsRequest", req.body)
        if "expression" not in body:
            raise invalid_argument("Request is missing required field 'expression'.")
        value = evaluate(body["expression"], Context(self.store))
        if not isinstance(value, Image):
            got = type(value).__name__ if value is not None else "null"
            raise invalid_argument(f"ComputePixels: the expression must evaluate to an Image, got {got}.")
        resp = self._pixels(value, body)
        self.cache.put(key, resp)
        return resp

    def get_pixels(self, req: Request, version: str, name: str) -> Response:
        key, hit = self._cached(req, "getPixels " + name)
        if hit is not None:
            return hit
        body = parse_request(version, "GetPixelsRequest", req.body)
        rec = self.store.get(name)
        if rec.type != "IMAGE":
            raise invalid_argument(f"Asset '{name}' is not an image (it is {rec.type}).")
        image = self.store.image(rec)
        if body.get("region"):
            try:
                body["grid"] = _region_grid(body.get("region"), body.get("grid"), image)
            except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, OverflowError) as e:
                raise invalid_argument(f"Invalid region: not a GeoJSON geometry this emulator can use ({e}).") from None
        resp = self._pixels(image, body)
        self.cache.put(key, resp)
        return resp

    def _pixels(self, image: Image, body: dict) -> Response:
        bands = _chosen_bands(image, body.get("bandIds"))
        if not bands:
            raise invalid_argument("The image has no bands to return.")
        native = next((b.grid for b in bands if b.grid is not None and b.grid.width is not None), None)
        grid = resolve_grid(body.get("grid"), native)
        dtypes = [b.ptype.dtype for b in bands]
        check_request(grid.width, grid.height, dtypes)  # type: ignore[arg-type]
        memory = self.faults.check_memory(grid.width * grid.height)  # type: ignore[operator]
        if memory is not None:
            raise invalid_argument(memory)
        values, valid = [], []
        for b in bands:
            v, ok = b.render(grid)
            values.append(v)
            valid.append(ok)
        data, ctype = encode(
            body.get("fileFormat"), [b.name for b in bands], values, valid, dtypes, grid, body.get("visualizationOptions")
        )
        return Response(200, data, ctype)

    def compute_images(self, req: Request, version: str, project: str) -> Response:
        body = parse_request(version, "ComputeImagesRequest", req.body)
        if "expression" not in body:
            raise invalid_argument("Request is missing required field 'expression'.")
        page_size = body.get("pageSize") or 1000
        if not isinstance(page_size, int) or page_size < 0:
            raise invalid_argument("pageSize must be a non-negative integer.")
        expr_hash = hashlib.sha256(json.dumps(body["expression"], sort_keys=True).encode()).hexdigest()[:16]
        offset = 0
        if body.get("pageToken"):
            offset = _decode_token(body["pageToken"], expr_hash)
        value = evaluate(body["expression"], Context(self.store))
        if isinstance(value, Image):
            value = ImageCollection([value])
        if type(value) is not ImageCollection:  # not a FeatureCollection either
            raise invalid_argument("ComputeImages: the expression must evaluate to an ImageCollection.")
        page = value.images[offset : offset + page_size]
        out: dict[str, Any] = {"images": [img.to_asset_json() for img in page]}
        if offset + page_size < len(value.images):
            out["nextPageToken"] = _encode_token(offset + page_size, expr_hash)
        return Response.json(build_message(version, "ComputeImagesResponse", out))


@functools.cache
def _algorithms_body() -> bytes:
    """The algorithms.list answer (~1000 algorithms; the registry is fixed once imported)."""
    return json.dumps({"algorithms": listing({k: a.to_json() for k, a in REGISTRY.items()})}).encode()


def _chosen_bands(image: Image, band_ids: list[str] | None) -> list[Band]:
    bands = image.bands
    if band_ids:
        by = {b.name: b for b in bands}
        missing = [b for b in band_ids if b not in by]
        if missing:
            raise invalid_argument(
                f"Band pattern '{missing[0]}' did not match any bands. Available bands: [{', '.join(by)}]"
            )
        bands = [by[b] for b in band_ids]
    return bands


def _encode_token(offset: int, expr_hash: str) -> str:
    raw = json.dumps({"o": offset, "e": expr_hash}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, expr_hash: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        d = json.loads(raw)
        offset = int(d["o"])
        ok = d["e"] == expr_hash and offset >= 0
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise invalid_argument("Invalid page token.")
    return offset


def _region_grid(region: Any, grid: dict | None, image: Image) -> dict:
    """getPixels `region`: the bounding box, in the output grid's CRS, of a GeoJSON geometry
    (EPSG:4326 unless it names its own `crs`)."""
    native = image.native_grid
    grid = dict(grid or {})
    crs = grid.get("crsCode") or grid.get("crsWkt") or (native.crs if native else None) or "EPSG:4326"
    if not isinstance(region, dict) or not _flatten_coords(region.get("coordinates")):
        raise invalid_argument("region must be a GeoJSON geometry with coordinates.")
    xmin, ymin, xmax, ymax = Geometry.from_geojson(region).bounds(crs)
    at = dict(grid.get("affineTransform") or (native.to_json()["affineTransform"] if native and same_crs(native.crs or native.crs_wkt, crs) else {}))
    sx, sy = float(at.get("scaleX", 1.0)), float(at.get("scaleY", -1.0))
    dims = grid.get("dimensions")
    if dims:
        sx = (xmax - xmin) / dims["width"] * (1 if sx > 0 else -1)
        sy = (ymax - ymin) / dims["height"] * (1 if sy > 0 else -1)
    else:
        if not grid.get("affineTransform") and native is not None and not same_crs(native.crs or native.crs_wkt, crs):
            # The image's pixel size, in the output CRS's units.
            metres = abs(native.scale_x) * nominal_unit(native.crs or native.crs_wkt or "EPSG:4326")
            sx = sy = metres / nominal_unit(crs)
            sy = -sy
        dims = {"width": max(1, int(np.ceil((xmax - xmin) / abs(sx)))), "height": max(1, int(np.ceil((ymax - ymin) / abs(sy))))}
    at.update(scaleX=sx, scaleY=sy, translateX=xmin if sx > 0 else xmax, translateY=ymax if sy < 0 else ymin)
    key = "crsWkt" if "crsWkt" in grid and "crsCode" not in grid else "crsCode"
    return {key: crs, "affineTransform": at, "dimensions": dims}


def _flatten_coords(c: Any) -> list:
    if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
        return [list(c[:2])]
    out: list = []
    for x in c or []:
        out.extend(_flatten_coords(x))
    return out
