"""Turning a method's arguments into a validated, fully-formed request: pure, no I/O."""

from __future__ import annotations

import base64
import datetime as _dt
import fnmatch
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from eerest._core.body import BodyLimits
from eerest._core.message import Message
from eerest._core.paths import check_enum, check_header, check_path_value, check_pattern, expand_path
from eerest._core.spec import ApiInfo, MediaUploadSpec, MethodSpec, ParamSpec
from eerest._core.types import NOT_GIVEN, Media, NotGiven, RequestOptions, Timeout
from eerest._ee import to_expression
from eerest.errors import InvalidRequestError

__all__ = ["Call", "Media", "build_call", "encode_query_value"]


@dataclass(frozen=True)
class Call:
    """One request, ready to send (and to resend on retry)."""

    spec: MethodSpec[Any]
    path: str  # expanded, relative to the client's base URL + service path (or, for uploads, to the root)
    query: tuple[tuple[str, str], ...]
    body: dict[str, Any] | None  # the JSON body
    headers: Mapping[str, str]
    content: bytes | None = None  # a raw body instead of JSON (media uploads)
    from_root: bool = False  # path is relative to the root URL, not the service path
    timeout: Timeout | NotGiven = NOT_GIVEN
    request: Message | None = None  # the validated request message, for overlays
    extras: Mapping[str, Any] = field(default_factory=dict)  # overlay-only arguments
    body_limits: BodyLimits | None = None  # set by overlays that know the response's size


def encode_query_value(value: Any) -> str:
    """A query parameter in its wire form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return base64.urlsafe_b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _dt.datetime):
        from eerest._core.fields import _timestamp_out

        return _timestamp_out(value)
    if isinstance(value, _dt.timedelta):
        from eerest._core.fields import _duration_out

        return _duration_out(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return str(value.value)
    return str(value)


def _path_value(api: ApiInfo, spec: MethodSpec[Any], p: ParamSpec, value: Any, project: str | None) -> str:
    if value is None and p.defaults_to_project:
        if project is None:
            raise InvalidRequestError(
                f"{spec.id}: no project given; pass {p.name}='projects/my-project' or create the "
                "client with project='my-project' (or set GOOGLE_CLOUD_PROJECT)"
            )
        value = project
    if value is None:
        raise InvalidRequestError(f"{spec.id}: the path parameter {p.name!r} is required")
    text = str(value)
    if p.defaults_to_project and not text.startswith("projects/"):
        text = "projects/" + text
    check_path_value(spec.id, p.name, text)
    check_enum(spec.id, p.name, text, p.enum)
    check_pattern(spec.id, p.name, text, p.pattern)
    return text


def _query_values(spec: MethodSpec[Any], p: ParamSpec, value: Any) -> list[tuple[str, str]]:
    """A query parameter's (name, wire value) pairs, each value checked against the
    parameter's enum and pattern before anything is sent."""
    values = value if p.repeated and isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        text = encode_query_value(v)
        check_enum(spec.id, p.name, text, p.enum)
        check_pattern(spec.id, p.name, text, p.pattern)
        out.append((p.name, text))
    return out


def _read_media(media: Media) -> bytes:
    if isinstance(media, (bytes, bytearray, memoryview)):
        return bytes(media)
    data = media.read()
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidRequestError("media must be bytes or a binary file or stream (opened with 'rb')")
    return bytes(data)


def _media_request(
    spec: MethodSpec[Any], upload: MediaUploadSpec, media: Media, mime_type: str | None, metadata: dict[str, Any] | None
) -> tuple[str, bytes, str]:
    """(uploadType, body, content-type) of a simple (media only) or multipart (metadata +
    media) upload, as google-api-python-client sends them; checked before sending."""
    content = _read_media(media)
    mime_type = mime_type or "application/octet-stream"
    if upload.max_size is not None and len(content) > upload.max_size:
        raise InvalidRequestError(
            f"{spec.id}: the media is {len(content)} bytes, more than the {upload.max_size} bytes the API accepts"
        )
    if upload.accept and not any(fnmatch.fnmatch(mime_type, pattern) for pattern in upload.accept):
        raise InvalidRequestError(
            f"{spec.id}: media_mime_type {mime_type!r} is not one the API accepts ({', '.join(upload.accept)}); "
            "pass media_mime_type="
        )
    if not metadata:
        return "media", content, mime_type
    boundary = "===============" + secrets.token_hex(16) + "=="
    head = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(metadata)}\r\n"
        f"--{boundary}\r\nContent-Type: {mime_type}\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{boundary}--".encode()
    return "multipart", body, f'multipart/related; boundary="{boundary}"'


def build_call(
    api: ApiInfo,
    spec: MethodSpec[Any],
    *,
    project: str | None,
    params: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    options: RequestOptions,
    extras: Mapping[str, Any] | None = None,
    media: Media | None = None,
    media_mime_type: str | None = None,
) -> Call:
    """Validate the arguments of ``spec`` and build the :class:`Call` to send.

    ``params`` are path/query parameters and ``body`` request-body fields, both keyed by
    wire name; ``None`` means "not given". Raises :class:`InvalidRequestError` (or
    pydantic's ``ValidationError`` wrapped in it) before anything is sent.
    """
    extras = dict(extras or {})
    path_values: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    for p in spec.params:
        value = params.get(p.name)
        if p.location == "path":
            path_values[p.name] = _path_value(api, spec, p, value, project)
        elif value is not None:
            query.extend(_query_values(spec, p, value))
        elif p.required:
            raise InvalidRequestError(f"{spec.id}: the query parameter {p.name!r} is required")
    if spec.media_download:
        query.append(("alt", "media"))
    for key, value in options.extra_query.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        query.extend((key, encode_query_value(v)) for v in values)

    request_message: Message | None = None
    json_body: dict[str, Any] | None = None
    if spec.request is not None and not (isinstance(spec.request, type) and issubclass(spec.request, Message)):
        # The whole body is a map (a pydantic TypeAdapter): sent as given, checked first.
        try:
            json_body = dict(spec.request.dump_python(spec.request.validate_python(body or {}), mode="json"))
        except ValidationError as exc:
            raise InvalidRequestError(f"{spec.id}: invalid request: {exc}") from exc
        json_body.update(options.extra_body)
    elif spec.request is not None:
        # ee objects (ee.Image, ee.FeatureCollection, ...) become their Expression, in any field
        given = {k: to_expression(v) for k, v in (body or {}).items() if v is not None}
        if spec.overlay is not None:
            given = spec.overlay.adapt_body(given, extras)
        try:
            request_message = spec.request.model_validate(given)
        except ValidationError as exc:
            raise InvalidRequestError(f"{spec.id}: invalid request: {exc}") from exc
        json_body = request_message.to_dict()
        json_body.update(options.extra_body)
    elif options.extra_body:
        json_body = dict(options.extra_body)
    if api.data_wrapper and json_body is not None and "data" not in json_body:
        json_body = {"data": json_body}  # the document's "dataWrapper" feature, as Google's clients send it

    for name, value in options.extra_headers.items():
        check_header(spec.id, name, value)
    headers = {"accept": spec.accept}
    if spec.api_version:
        headers["x-goog-api-version"] = spec.api_version
    template, content, from_root = spec.path, None, False
    if media is not None:
        if spec.media_upload is None:
            raise InvalidRequestError(f"{spec.id}: this method takes no media")
        upload_type, content, headers["content-type"] = _media_request(
            spec, spec.media_upload, media, media_mime_type, json_body
        )
        query.append(("uploadType", upload_type))
        template, json_body, from_root = spec.media_upload.path, None, True
    headers.update({k.lower(): v for k, v in options.extra_headers.items()})
    return Call(
        spec=spec,
        path=expand_path(template, path_values, fully_encode_reserved=api.fully_encode_reserved_expansion),
        query=tuple(query),
        body=json_body,
        headers=headers,
        content=content,
        from_root=from_root,
        timeout=options.timeout,
        request=request_message,
        extras=extras,
    )
