"""Downloads made in two steps, like thumbnails: ``filmstripThumbnails``, ``videoThumbnails``
(``getFilmstripThumbURL``, ``getVideoThumbURL``) and ``tables`` (a FeatureCollection's
``getDownloadURL``). ``create`` checks the expression and keeps the request; fetching the name
computes the file. Mixed into `App`, like `ApiRoutes`, whose dispatcher finds these handlers
through `ROUTES`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ._algorithms import Context
from ._collection_media import filmstrip, video_thumbnail
from ._discovery import VERSIONS
from ._errors import unimplemented
from ._expression import evaluate
from ._http import Request, Response
from ._image import ImageCollection
from ._messages import parse_request
from ._store import AssetStore
from ._table_files import TABLE_CONTENT_TYPES, TABLE_SUFFIX, encode_table
from ._values import FeatureCollection

__all__ = ["METHOD_IDS", "PUBLIC", "ROUTES", "MediaRoutes"]

_V = "(" + "|".join(VERSIONS) + ")"
ROUTES = [
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/filmstripThumbnails$"), "create_filmstrip"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/filmstripThumbnails/[^/:]+):getPixels$"), "filmstrip_pixels"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/videoThumbnails$"), "create_video_thumbnail"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/videoThumbnails/[^/:]+):getPixels$"), "video_pixels"),
    ("POST", re.compile(rf"^/{_V}/(projects/[^/]+)/tables$"), "create_table_download"),
    ("GET", re.compile(rf"^/{_V}/(projects/[^/]+/tables/[^/:]+):getFeatures$"), "table_features"),
]
METHOD_IDS = {
    "create_filmstrip": "projects.filmstripThumbnails.create",
    "filmstrip_pixels": "projects.filmstripThumbnails.getPixels",
    "create_video_thumbnail": "projects.videoThumbnails.create",
    "video_pixels": "projects.videoThumbnails.getPixels",
    "create_table_download": "projects.tables.create",
    "table_features": "projects.tables.getFeatures",
}
#: Answered without a token: the URLs are shareable, as on the service.
PUBLIC = {"filmstrip_pixels", "video_pixels", "table_features"}


class MediaRoutes:
    """Filmstrips, video thumbnails and table downloads; mixed into `App` with `ApiRoutes`,
    which keeps the requests (`_save`, `_saved_request`)."""

    store: AssetStore

    if TYPE_CHECKING:  # ApiRoutes's

        def _save(self, version: str, project: str, kind: str, body: dict, expect: type) -> str: ...
        def _saved_request(self, name: str, what: str) -> dict: ...

    def _created(self, version: str, project: str, kind: str, schema: str, body_bytes: bytes, expect: type) -> Response:
        body = parse_request(version, schema, body_bytes)
        return Response.json({"name": self._save(version, project, kind, body, expect)})

    def _evaluated(self, name: str, what: str) -> tuple[dict[str, Any], Any]:
        body = self._saved_request(name, what)
        return body, evaluate(body["expression"], Context(self.store))

    def create_filmstrip(self, req: Request, version: str, project: str) -> Response:
        return self._created(version, project, "filmstripThumbnails", "FilmstripThumbnail", req.body, ImageCollection)

    def filmstrip_pixels(self, req: Request, version: str, name: str) -> Response:
        body, collection = self._evaluated(name, "Filmstrip thumbnail")
        data, ctype = filmstrip(collection, body)
        return Response(200, data, ctype)

    def create_video_thumbnail(self, req: Request, version: str, project: str) -> Response:
        return self._created(version, project, "videoThumbnails", "VideoThumbnail", req.body, ImageCollection)

    def video_pixels(self, req: Request, version: str, name: str) -> Response:
        body, collection = self._evaluated(name, "Video thumbnail")
        data, ctype = video_thumbnail(collection, body)
        return Response(200, data, ctype)

    def create_table_download(self, req: Request, version: str, project: str) -> Response:
        body = parse_request(version, "Table", req.body)
        fmt = _table_format(body)
        if fmt not in TABLE_SUFFIX:
            raise unimplemented(f"A table download as {fmt} ({', '.join(TABLE_SUFFIX)} are served)")
        return Response.json({"name": self._save(version, project, "tables", body, FeatureCollection)})

    def table_features(self, req: Request, version: str, name: str) -> Response:
        body, fc = self._evaluated(name, "Table")
        fmt = _table_format(body)
        data = encode_table(fc, fmt, body.get("selectors") or None)
        filename = (body.get("filename") or "table") + TABLE_SUFFIX[fmt]
        disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(200, data, TABLE_CONTENT_TYPES[fmt], disposition)


def _table_format(body: dict[str, Any]) -> str:
    fmt = body.get("fileFormat") or "CSV"
    return "CSV" if fmt == "TABLE_FILE_FORMAT_UNSPECIFIED" else fmt
