"""Helpers shared by the pixel overlay tests (imported as a plain module: ``from pixhelp import ...``)."""

from __future__ import annotations

import asyncio
import importlib
import io
from collections.abc import Callable
from typing import Any

import google.auth.credentials
import numpy as np
from scripted_server import Reply
from scripted_server import ScriptedServer as RawServer

import eerest  # noqa: F401

__all__ = ["KINDS", "VERSIONS", "RawServer", "Reply", "make_client", "npy_bytes", "run"]

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
