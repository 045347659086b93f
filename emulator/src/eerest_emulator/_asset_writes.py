"""Changing the asset store: create, copy, move, patch and delete assets, write image and
table assets (exports, ingestion), and the per-asset IAM policies and per-project configs.

Everything is kept in the data directory, in the store's layout (see `_store`), plus:

    DATA/P/a/t.json + t.geojson     a table asset (type TABLE) and its features
    DATA/.emulator/iam/P/a/b.json   the IAM policy set on asset projects/P/assets/a/b
    DATA/.emulator/config/P.json    the ProjectConfig of project P

Files appear complete or not at all: each is written to a temporary name and renamed, the
metadata JSON last (an asset exists once its JSON does). One lock serialises the writes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import ApiError, invalid_argument, not_found
from ._store import BUNDLED_DATA, AssetRecord, AssetStore

__all__ = ["AssetWriter", "already_exists", "failed_precondition", "write_atomic"]

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_STATE = ".emulator"
_CREATABLE = ("FOLDER", "IMAGE_COLLECTION")
_PATCHABLE = ("properties", "startTime", "endTime", "title", "description", "bands")


def already_exists(message: str) -> ApiError:
    return ApiError(409, message, "ALREADY_EXISTS")


def failed_precondition(message: str) -> ApiError:
    return ApiError(400, message, "FAILED_PRECONDITION")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)


class AssetWriter:
    """The writes to `store`'s data directory (a 400 FAILED_PRECONDITION for the read-only bundled sample)."""

    def __init__(self, store: AssetStore) -> None:
        self.store = store
        self.lock = threading.RLock()
        self.on_change: Callable[[], None] | None = None  # the app clears its response cache

    # -- names and paths ----------------------------------------------------------------
    def _check_writable(self) -> None:
        if self.store.root.resolve() == BUNDLED_DATA.resolve():
            raise failed_precondition(
                "The eerest emulator serves the bundled sample read-only here: start it with a data "
                "directory (Emulator(data_dir=...), --data DIR) to create or change assets."
            )

    def check_new_name(self, name: str) -> Path:
        """The base path of a new asset `name` (each id segment letters, digits, _ and -)."""
        base = self.store._path_of(name)
        for seg in name.split("/assets/", 1)[1].split("/"):
            if not _SEGMENT.match(seg):
                raise invalid_argument(
                    f"Invalid asset name '{name}': each part of an asset id may hold letters, digits, '_' and '-' only."
                )
        return base

    def _parent_of(self, name: str) -> str:
        head, tail = name.split("/assets/", 1)
        return f"{head}/assets/{tail.rsplit('/', 1)[0]}" if "/" in tail else head

    def _check_parent(self, name: str, kind: str) -> None:
        parent = self._parent_of(name)
        if parent.count("/") == 1:  # the project itself
            return
        rec = self.store.find(parent)
        if rec is None:
            raise not_found(f"Parent asset '{parent}' of '{name}' not found.")
        if rec.type == "IMAGE_COLLECTION":
            if kind != "IMAGE":
                raise invalid_argument(f"An image collection holds images only; '{parent}' cannot hold a {kind}.")
        elif rec.type != "FOLDER":
            raise invalid_argument(f"Parent asset '{parent}' is a {rec.type}, not a folder or an image collection.")

    def _files_of(self, rec: AssetRecord) -> list[Path]:
        base = rec.meta_path.with_suffix("")
        out = [p for p in (rec.meta_path, rec.pixel_path, base.with_name(base.name + ".geojson")) if p is not None and p.exists()]
        return out

    def _changed(self) -> None:
        self.store.clear_cache()
        if self.on_change is not None:
            self.on_change()

    # -- create, delete, move, copy, patch ------------------------------------------------
    def create(self, name: str, asset: dict[str, Any], overwrite: bool = False) -> AssetRecord:
        self._check_writable()
        kind = asset.get("type") or "TYPE_UNSPECIFIED"
        if kind not in _CREATABLE:
            raise invalid_argument(
                f"assets.create makes folders and image collections in the eerest emulator, not {kind} "
                "(images and tables come from exports and ingestion)."
            )
        base = self.check_new_name(name)
        with self.lock:
            old = self.store.find(name)
            if old is not None:
                if not overwrite:
                    raise already_exists(f"Cannot overwrite asset '{name}'.")
                self.delete(name)
            self._check_parent(name, kind)
            meta: dict[str, Any] = {"type": kind, "updateTime": _now()}
            for k in ("properties", "startTime", "endTime"):
                if k in asset:
                    meta[k] = asset[k]
            base.mkdir(parents=True, exist_ok=True)
            write_atomic(base.with_name(base.name + ".json"), json.dumps(meta, indent=1).encode())
            self._changed()
        return self.store.get(name)

    def delete(self, name: str) -> None:
        self._check_writable()
        with self.lock:
            rec = self.store.get(name)
            if rec.type in ("FOLDER", "IMAGE_COLLECTION") and self._has_children(rec):
                raise failed_precondition(f"Asset '{name}' cannot be deleted: it is a {rec.type} that is not empty.")
            for p in self._files_of(rec):
                p.unlink()
            folder = rec.meta_path.with_suffix("")
            if folder.is_dir():
                shutil.rmtree(folder)
            iam = self._iam_path(name)
            if iam.exists():
                iam.unlink()
            self._changed()

    def _has_children(self, rec: AssetRecord) -> bool:
        folder = rec.meta_path.with_suffix("")
        return folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir())

    def move(self, source: str, dest: str) -> AssetRecord:
        self._check_writable()
        with self.lock:
            rec = self.store.get(source)
            self._check_free(dest)
            self._check_parent(dest, rec.type)
            if dest.startswith(source + "/"):
                raise invalid_argument(f"Cannot move asset '{source}' into itself ('{dest}').")
            new_base = self.check_new_name(dest)
            new_base.parent.mkdir(parents=True, exist_ok=True)
            old_base = rec.meta_path.with_suffix("")
            for p in self._files_of(rec):
                os.replace(p, new_base.with_name(new_base.name + p.name[len(old_base.name):]))
            if old_base.is_dir():
                os.replace(old_base, new_base)
            self._move_iam(source, dest)
            self._changed()
        return self.store.get(dest)

    def copy(self, source: str, dest: str, overwrite: bool = False) -> AssetRecord:
        self._check_writable()
        with self.lock:
            rec = self.store.get(source)
            if rec.type == "FOLDER":
                raise invalid_argument(f"Asset '{source}' is a folder: copy its assets one by one.")
            if self.store.find(dest) is not None:
                if not overwrite:
                    raise already_exists(f"Cannot overwrite asset '{dest}'.")
                self.delete(dest)
            self._check_parent(dest, rec.type)
            new_base = self.check_new_name(dest)
            old_base = rec.meta_path.with_suffix("")
            if old_base.is_dir():
                shutil.copytree(old_base, new_base)
            for p in sorted(self._files_of(rec), key=lambda p: p.suffix == ".json"):  # the JSON last
                target = new_base.with_name(new_base.name + p.name[len(old_base.name):])
                data = p.read_bytes()
                if p == rec.meta_path:
                    data = json.dumps({**json.loads(data), "updateTime": _now()}, indent=1).encode()
                write_atomic(target, data)
            self._changed()
        return self.store.get(dest)

    def _check_free(self, name: str) -> None:
        if self.store.find(name) is not None:
            raise already_exists(f"Asset '{name}' already exists.")

    def patch(self, name: str, asset: dict[str, Any], mask: list[str]) -> AssetRecord:
        """assets.patch: the fields named in `mask` (``properties``, ``properties.KEY``,
        ``startTime``, ``endTime``, ``title``, ``description``) take `asset`'s values; a field
        named but unset in `asset` is removed. An empty mask updates them all."""
        self._check_writable()
        with self.lock:
            rec = self.store.get(name)
            if rec.meta_path is None or not rec.meta_path.is_file():
                meta: dict[str, Any] = {"type": rec.type}
            else:
                meta = json.loads(rec.meta_path.read_text(encoding="utf-8"))
            paths = mask or ["properties", "startTime", "endTime"]
            props = dict(meta.get("properties") or {})
            given = asset.get("properties") or {}
            for path in paths:
                path = _snake_to_camel(path.strip())
                if path in ("properties",):
                    props = dict(given)
                elif path.startswith("properties."):
                    key = path.removeprefix("properties.").strip('"`')
                    if given.get(key) is None:
                        props.pop(key, None)
                    else:
                        props[key] = given[key]
                elif path in ("title", "description"):
                    if path in asset or path in given:
                        props[path] = asset.get(path, given.get(path))
                    else:
                        props.pop(path, None)
                elif path in ("startTime", "endTime"):
                    if asset.get(path):
                        meta[path] = asset[path]
                    else:
                        meta.pop(path, None)
                elif path == "bands":
                    raise invalid_argument("The eerest emulator does not rename bands in assets.patch.")
                else:
                    raise invalid_argument(
                        f"Invalid update mask path '{path}': the updatable fields are {', '.join(_PATCHABLE)} and properties.*."
                    )
            if props:
                meta["properties"] = props
            else:
                meta.pop("properties", None)
            meta["updateTime"] = _now()
            if rec.type == "FOLDER" and not rec.meta_path.is_file():
                meta["type"] = "FOLDER"
            write_atomic(rec.meta_path, json.dumps(meta, indent=1).encode())
            self._changed()
        return self.store.get(name)

    # -- writing image and table assets ---------------------------------------------------
    def write_image(
        self, name: str, bands: list[dict[str, Any]], arrays: list[np.ndarray], *, overwrite: bool = False,
        properties: dict[str, Any] | None = None, start_time: str | None = None, end_time: str | None = None,
        geometry: dict[str, Any] | None = None,
    ) -> AssetRecord:
        """An image asset of `bands` (EarthEngineAsset band JSON, with grids) and their pixels."""
        self._check_writable()
        base = self.check_new_name(name)
        with self.lock:
            if self.store.find(name) is not None:
                if not overwrite:
                    raise already_exists(f"Cannot overwrite asset '{name}'.")
                self.delete(name)
            self._check_parent(name, "IMAGE")
            dtype = np.dtype([(b["id"], a.dtype) for b, a in zip(bands, arrays, strict=True)])
            h, w = arrays[0].shape
            rec = np.empty((h, w), dtype)
            for b, a in zip(bands, arrays, strict=True):
                rec[b["id"]] = a
            import io

            buf = io.BytesIO()
            np.save(buf, rec, allow_pickle=False)
            write_atomic(base.with_name(base.name + ".npy"), buf.getvalue())
            meta: dict[str, Any] = {"type": "IMAGE", "updateTime": _now(), "bands": bands}
            if properties:
                meta["properties"] = properties
            if start_time:
                meta["startTime"] = start_time
            if end_time:
                meta["endTime"] = end_time
            if geometry:
                meta["geometry"] = geometry
            write_atomic(base.with_name(base.name + ".json"), json.dumps(meta, indent=1).encode())
            self._changed()
        return self.store.get(name)

    def write_table(
        self, name: str, features: list[dict[str, Any]], *, overwrite: bool = False,
        properties: dict[str, Any] | None = None, start_time: str | None = None, end_time: str | None = None,
    ) -> AssetRecord:
        """A table asset: GeoJSON features in ``t.geojson``, its metadata in ``t.json``."""
        self._check_writable()
        base = self.check_new_name(name)
        with self.lock:
            if self.store.find(name) is not None:
                if not overwrite:
                    raise already_exists(f"Cannot overwrite asset '{name}'.")
                self.delete(name)
            self._check_parent(name, "TABLE")
            data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
            write_atomic(base.with_name(base.name + ".geojson"), data)
            meta: dict[str, Any] = {"type": "TABLE", "updateTime": _now(), "sizeBytes": str(len(data)),
                                    "featureCount": str(len(features))}
            if properties:
                meta["properties"] = properties
            if start_time:
                meta["startTime"] = start_time
            if end_time:
                meta["endTime"] = end_time
            write_atomic(base.with_name(base.name + ".json"), json.dumps(meta, indent=1).encode())
            self._changed()
        return self.store.get(name)

    # -- IAM policies -------------------------------------------------------------------
    def _iam_path(self, name: str) -> Path:
        rel = self.store._path_of(name).relative_to(self.store.root)
        return self.store.root / _STATE / "iam" / rel.parent / (rel.name + ".json")

    def _move_iam(self, source: str, dest: str) -> None:
        old = self._iam_path(source)
        if old.exists():
            new = self._iam_path(dest)
            new.parent.mkdir(parents=True, exist_ok=True)
            os.replace(old, new)
        old_dir = old.with_suffix("")
        if old_dir.is_dir():
            os.replace(old_dir, self._iam_path(dest).with_suffix(""))

    def get_policy(self, name: str) -> dict[str, Any]:
        self.store.get(name)
        path = self._iam_path(name)
        policy: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {"version": 1, "bindings": []}
        policy.setdefault("version", 1)
        policy["etag"] = _etag(policy)
        if not policy.get("bindings"):
            policy.pop("bindings", None)
        return policy

    def set_policy(self, name: str, policy: dict[str, Any], mask: list[str] | None) -> dict[str, Any]:
        self._check_writable()
        with self.lock:
            current = self.get_policy(name)
            if policy.get("etag") and policy["etag"] != current["etag"]:
                raise ApiError(409, "There were concurrent policy changes. Please retry the whole read-modify-write "
                                    "with exponential backoff.", "ABORTED")
            fields = mask or ["bindings", "etag"]
            new = {k: v for k, v in current.items() if k != "etag"}
            for f in fields:
                f = f.strip()
                if f == "etag":
                    continue
                if f not in ("bindings", "auditConfigs", "version"):
                    raise invalid_argument(f"Invalid update mask path '{f}' for an IAM policy.")
                if f in policy:
                    new[f] = policy[f]
                else:
                    new.pop(f, None)
            for b in new.get("bindings") or []:
                if not isinstance(b.get("role"), str) or not b["role"].startswith("roles/"):
                    raise invalid_argument(f"Invalid role {b.get('role')!r} in a policy binding: roles are 'roles/...'.")
            path = self._iam_path(name)
            write_atomic(path, json.dumps(new, indent=1).encode())
        return self.get_policy(name)

    # -- project configs ------------------------------------------------------------------
    def _config_path(self, project: str) -> Path:
        return self.store.root / _STATE / "config" / f"{project.split('/', 1)[1]}.json"

    def get_config(self, project: str) -> dict[str, Any]:
        path = self._config_path(project)
        stored = json.loads(path.read_text()) if path.is_file() else {}
        return {"name": f"{project}/config", "registrationState": "REGISTERED_NOT_COMMERCIALLY", **stored}

    def update_config(self, project: str, config: dict[str, Any], mask: list[str] | None) -> dict[str, Any]:
        self._check_writable()
        with self.lock:
            current = self.get_config(project)
            path = self._config_path(project)
            stored = json.loads(path.read_text()) if path.is_file() else {}
            for f in mask or [k for k in config if k != "name"]:
                f = _snake_to_camel(f.strip())
                if f in ("name", "registrationState", "planMaxConcurrentExports"):
                    raise invalid_argument(f"Field '{f}' of the project config cannot be updated (it is output only).")
                if f not in current and f not in config:
                    raise invalid_argument(f"Invalid update mask path '{f}' for the project config.")
                if f in config:
                    stored[f] = config[f]
                else:
                    stored.pop(f, None)
            write_atomic(path, json.dumps(stored).encode())
        return self.get_config(project)


def _etag(policy: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in policy.items() if k != "etag"}, sort_keys=True).encode()
    return base64.b64encode(hashlib.sha256(body).digest()[:8]).decode()


def _snake_to_camel(path: str) -> str:
    head, dot, rest = path.partition(".")
    parts = head.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:]) + dot + rest
