"""Helpers shared by the pixel overlay tests (imported as a plain module: ``from pixhelp import ...``)."""

from __future__ import annotations

import asyncio
import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import google.auth.credentials
import numpy as np

import eerest  # noqa: F401

VERSIONS = ("v1alpha", "v1beta", "v1")
KINDS = ("sync", "async")


def make_client(version: str, kind: str, url: str) -> Any:
    module = importlib.import_module(f"eerest.{version}")
    cls = module.Client if kind == "sync" else module.AsyncClient
    return cls("my-proj", credentials=google.auth.credentials.AnonymousCredentials(), base_url=url, max_retries=0)


def run(version: str, kind: str, url: str, fn: Callable[[Any], Any]) -> Any:
    """``fn(client)`` with a fresh client of ``version``; for async clients ``fn`` returns a
    coroutine, which runs to completion here."""
    client = make_client(version, kind, url)
    if kind == "sync":
        with client:
            return fn(client)

    async def main() -> Any:
        async with client:
            return await fn(client)

    return asyncio.run(main())


def npy_bytes(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    buf = io.BytesIO()
    if version is None:
        np.save(buf, array)
    else:
        np.lib.format.write_array(buf, array, version=version)
    return buf.getvalue()




@dataclass
class Reply:
    """What the raw server answers: ``body`` after the headers; ``content_length`` is sent
    as given (``None``: the body's length; ``False``: no header, close-delimited);
    ``cut_after`` sends that many bytes and then breaks the connection."""

    body: bytes
    status: int = 200
    content_type: str = "application/octet-stream"
    content_length: int | bool | None = None
    cut_after: int | None = None


@dataclass
class RawServer:
    url: str
    routes: dict[str, Reply] = field(default_factory=dict)  # by path suffix, e.g. ":getPixels"
    default: Reply | None = None
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # (method, path, body)

    def reply(self, path: str) -> Reply | None:
        for suffix, reply in self.routes.items():
            if path.endswith(suffix):
                return reply
        return self.default

    @property
    def pixel_requests(self) -> list[tuple[str, str, bytes]]:
        return [r for r in self.requests if r[1].endswith((":computePixels", ":getPixels"))]
