"""The emulator's request handling, independent of the HTTP server: routes, auth, methods, admin API.

`App.handle(Request)` returns a `Response`; the server in `_server.py` only moves bytes
and applies faults.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from ._algorithms import REGISTRY, Context
from ._discovery import VERSIONS, discovery_document
from ._encode import encode
from ._errors import ApiError, invalid_argument, not_found, unauthenticated
from ._expression import evaluate
from ._faults import Fault, FaultInjector, ServerLimits
from ._grid import resolve_grid
from ._image import Image, ImageCollection
from ._limits import check_request
from ._messages import build_message, parse_request
from ._store import AssetStore

__all__ = ["App", "Request", "Response", "RecordedRequest", "ADMIN_PREFIX"]

ADMIN_PREFIX = "/_emulator"
_V = "(" + "|".join(VERSIONS) + ")"
_ROUTES = [
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/image:computePixels$"), "compute_pixels"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+/assets/.+):getPixels$"), "get_pixels"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/imageCollection:computeImages$"), "compute_images"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+)/algorithms$"), "list_algorithms"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/assets/.+)$"), "get_asset"),
]


@dataclass
class Request:
    """An HTTP request as the app sees it; `target` is the raw request target (path?query)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        """The percent-decoded path (clients encode `/` in `{+name}` as %2F)."""
        return unquote(urlsplit(self.target).path)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for k, v in self.headers.items():
            if k.lower() == name:
                return v
        return default


@dataclass
class RecordedRequest:
    """One request the emulator received (the log tests assert against)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # the HTTP status answered (None while in progress)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def grid(self) -> dict[str, Any] | None:
        """The PixelGrid a computePixels/getPixels request asked for (None if none)."""
        if not self.path.endswith((":computePixels", ":getPixels")):
            return None
        try:
            body = self.json()
        except ValueError:
            return None
        return body.get("grid") if isinstance(body, dict) else None

    def to_json(self) -> dict[str, Any]:
        try:
            body: Any = self.json()
        except ValueError:
            body = {"base64": base64.b64encode(self.body).decode()}
        out = {"method": self.method, "path": self.path, "query": self.query, "headers": self.headers, "body": body}
        return {**out, "status": self.status, "grid": self.grid}


@dataclass
class Response:
    status: int
    body: bytes | memoryview
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(obj, indent=2).encode() + b"\n")

    @classmethod
    def error(cls, err: ApiError) -> Response:
        return cls(err.code, err.body(), headers=dict(err.headers))


class _Cache:
    """An LRU of pixel responses, bounded in bytes: repeated requests answer without recomputing."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._d: OrderedDict[str, Response] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Response | None:
        with self._lock:
            r = self._d.get(key)
            if r is not None:
                self._d.move_to_end(key)
            return r

    def put(self, key: str, r: Response) -> None:
        n = len(r.body)
        if n > self.max_bytes:
            return
        with self._lock:
            if key in self._d:
                return
            self._d[key] = r
            self._size += n
            while self._size > self.max_bytes:
                _, old = self._d.popitem(last=False)
                self._size -= len(old.body)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._size = 0


class App:
    """Routes requests to the Earth Engine methods and the admin API."""

    def __init__(
        self,
        store: AssetStore,
        faults: FaultInjector | None = None,
        *,
        require_auth: bool = True,
        cache_bytes: int = 512 * 1024 * 1024,
    ) -> None:
        self.store = store
        self.faults = faults or FaultInjector()
        self.require_auth = require_auth
        self.cache = _Cache(cache_bytes)
        self._log: list[RecordedRequest] = []
        self._log_lock = threading.Lock()

    # -- request log --------------------------------------------------------------------
    def record(self, req: Request) -> RecordedRequest:
        rec = RecordedRequest(req.method, req.path, req.query, dict(req.headers), req.body)
        with self._log_lock:
            self._log.append(rec)
        return rec

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- dispatch -----------------------------------------------------------------------
    def handle(self, req: Request, root_url: str) -> Response:
        """Answer one API request (faults are applied by the server, not here)."""
        try:
            path = req.path
            if path.startswith("/$discovery/rest"):
                return self._discovery(req, root_url)
            for method, rx, handler in _ROUTES:
                m = rx.match(path)
                if m:
                    if req.method != method:
                        raise ApiError(405, f"Method {req.method} is not allowed for {path}.", "INVALID_ARGUMENT")
                    self._check_auth(req)
                    return getattr(self, handler)(req, m.group(1), m.group(2))
            raise not_found(f"The requested URL {path} was not found on this server.")
        except ApiError as e:
            return Response.error(e)

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
        return Response.json(build_message(version, "EarthEngineAsset", self.store.asset_json(rec)))

    def list_algorithms(self, req: Request, version: str, project: str) -> Response:
        algs = [REGISTRY[k].to_json() for k in sorted(REGISTRY)]
        return Response.json({"algorithms": algs})

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
            got = "ImageCollection" if isinstance(value, ImageCollection) else type(value).__name__ if value is not None else "null"
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
            body["grid"] = _region_grid(body.get("region"), body.get("grid"), image)
        resp = self._pixels(image, body)
        self.cache.put(key, resp)
        return resp

    def _pixels(self, image: Image, body: dict) -> Response:
        bands = image.bands
        band_ids = body.get("bandIds")
        if band_ids:
            by = {b.name: b for b in bands}
            missing = [b for b in band_ids if b not in by]
            if missing:
                raise invalid_argument(
                    f"Band pattern '{missing[0]}' did not match any bands. Available bands: [{', '.join(by)}]"
                )
            bands = [by[b] for b in band_ids]
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
        if not isinstance(value, ImageCollection):
            raise invalid_argument("ComputeImages: the expression must evaluate to an ImageCollection.")
        page = value.images[offset : offset + page_size]
        out: dict[str, Any] = {"images": [img.to_asset_json() for img in page]}
        if offset + page_size < len(value.images):
            out["nextPageToken"] = _encode_token(offset + page_size, expr_hash)
        return Response.json(build_message(version, "ComputeImagesResponse", out))

    # -- admin API ----------------------------------------------------------------------
    def handle_admin(self, req: Request) -> Response:
        """`/_emulator/...`: faults, request log, reset, health. No auth, never faulted or logged."""
        path = req.path[len(ADMIN_PREFIX):].rstrip("/")
        try:
            if path == "/faults":
                if req.method == "GET":
                    return Response.json({"faults": [f.to_json() for f in self.faults.pending()]})
                if req.method == "DELETE":
                    self.faults.clear()
                    return Response.json({})
                if req.method == "POST":
                    try:
                        data = json.loads(req.body or b"{}")
                        items = data if isinstance(data, list) else data.get("faults", [data]) if isinstance(data, dict) else None
                        if items is None:
                            raise ValueError("expected a fault object or a list of them")
                        added = [self.faults.add(Fault.from_json(d)) for d in items]
                    except (ValueError, TypeError) as e:
                        raise invalid_argument(f"Invalid fault: {e}") from None
                    return Response.json({"faults": [f.to_json() for f in added]})
            elif path == "/limits":
                if req.method == "GET":
                    return Response.json(
                        {**self.faults.limits.to_json(), "peakConcurrent": self.faults.peak_concurrent,
                         "rejected": self.faults.rejected}
                    )
                if req.method == "DELETE":
                    self.faults.set_limits()
                    return Response.json({})
                if req.method == "POST":
                    try:
                        data = json.loads(req.body or b"{}")
                        limits = ServerLimits.from_json(data if isinstance(data, dict) else {"?": data})
                    except (ValueError, TypeError) as e:
                        raise invalid_argument(f"Invalid limits: {e}") from None
                    self.faults.set_limits(limits.max_concurrent, limits.memory_limit_pixels)
                    return Response.json(limits.to_json())
            elif path == "/requests":
                if req.method == "GET":
                    return Response.json({"requests": [r.to_json() for r in self.requests]})
                if req.method == "DELETE":
                    self.clear_requests()
                    return Response.json({})
            elif path == "/reset" and req.method == "POST":
                self.faults.clear()
                self.clear_requests()
                self.cache.clear()
                return Response.json({})
            elif path == "/health" and req.method == "GET":
                return Response.json({"status": "ok"})
            raise not_found(f"No admin endpoint {req.method} {req.path}.")
        except ApiError as e:
            return Response.error(e)


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
    """getPixels `region`: the bounding box of a GeoJSON geometry, supported when the output
    grid is in the geometry's CRS (EPSG:4326); the emulator does not reproject."""
    native = image.native_grid
    grid = dict(grid or {})
    crs = grid.get("crsCode") or (native.crs if native else None)
    if crs != "EPSG:4326":
        raise invalid_argument(
            "The eerest emulator supports getPixels 'region' only for grids in EPSG:4326 (it does not "
            f"reproject the region into {crs}); use grid.affineTransform and grid.dimensions instead."
        )
    coords = np.asarray(_flatten_coords(region.get("coordinates") if isinstance(region, dict) else None), dtype=float)
    if coords.size == 0:
        raise invalid_argument("region must be a GeoJSON geometry with coordinates.")
    xmin, ymin = coords.min(axis=0)
    xmax, ymax = coords.max(axis=0)
    at = dict(grid.get("affineTransform") or (native.to_json()["affineTransform"] if native else {}))
    sx, sy = float(at.get("scaleX", 1.0)), float(at.get("scaleY", -1.0))
    dims = grid.get("dimensions")
    if dims:
        sx = (xmax - xmin) / dims["width"] * (1 if sx > 0 else -1)
        sy = (ymax - ymin) / dims["height"] * (1 if sy > 0 else -1)
    else:
        dims = {"width": max(1, int(np.ceil((xmax - xmin) / abs(sx)))), "height": max(1, int(np.ceil((ymax - ymin) / abs(sy))))}
    at.update(scaleX=sx, scaleY=sy, translateX=xmin if sx > 0 else xmax, translateY=ymax if sy < 0 else ymin)
    return {"crsCode": crs, "affineTransform": at, "dimensions": dims}


def _flatten_coords(c: Any) -> list:
    if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
        return [list(c[:2])]
    out: list = []
    for x in c or []:
        out.extend(_flatten_coords(x))
    return out
