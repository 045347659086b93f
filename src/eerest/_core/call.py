"""Turning a method's arguments into a validated, fully-formed request: pure, no I/O."""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from eerest._core.body import BodyLimits
from eerest._core.message import Message
from eerest._core.paths import check_header, check_path_value, check_pattern, expand_path
from eerest._core.spec import ApiInfo, MethodSpec, ParamSpec
from eerest._core.types import NOT_GIVEN, NotGiven, RequestOptions, Timeout
from eerest.errors import InvalidRequestError

__all__ = ["Call", "build_call", "encode_query_value"]


@dataclass(frozen=True)
class Call:
    """One request, ready to send (and to resend on retry)."""

    spec: MethodSpec
    path: str  # expanded, relative to the client's base URL
    query: tuple[tuple[str, str], ...]
    body: dict[str, Any] | None  # the JSON body
    headers: Mapping[str, str]
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


def _path_value(api: ApiInfo, spec: MethodSpec, p: ParamSpec, value: Any, project: str | None) -> str:
    if value is None and p.defaults_to_project:
        if project is None:
            raise InvalidRequestError(
                f"{spec.id}: no project given; pass {p.name}='projects/my-project' or create the "
                "client with project='my-project' (or set GOOGLE_CLOUD_PROJECT)"
            )
        value = project
    if value is None:
        raise InvalidRequestError(f"{spec.id}: the path parameter {p.name!r} is required")
    value = str(value)
    if p.defaults_to_project and not value.startswith("projects/"):
        value = "projects/" + value
    check_path_value(spec.id, p.name, value)
    check_pattern(spec.id, p.name, value, p.pattern)
    return value


def build_call(
    api: ApiInfo,
    spec: MethodSpec,
    *,
    project: str | None,
    params: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    options: RequestOptions,
    extras: Mapping[str, Any] | None = None,
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
            values = value if p.repeated and isinstance(value, (list, tuple)) else [value]
            query.extend((p.name, encode_query_value(v)) for v in values)
        elif p.required:
            raise InvalidRequestError(f"{spec.id}: the query parameter {p.name!r} is required")
    for key, value in options.extra_query.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        query.extend((key, encode_query_value(v)) for v in values)

    request_message: Message | None = None
    json_body: dict[str, Any] | None = None
    if spec.request is not None:
        given = {k: v for k, v in (body or {}).items() if v is not None}
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

    for name, value in options.extra_headers.items():
        check_header(spec.id, name, value)
    headers = {"accept": spec.accept, **{k.lower(): v for k, v in options.extra_headers.items()}}
    return Call(
        spec=spec,
        path=expand_path(spec.path, path_values, fully_encode_reserved=api.fully_encode_reserved_expansion),
        query=tuple(query),
        body=json_body,
        headers=headers,
        timeout=options.timeout,
        request=request_message,
        extras=extras,
    )
