"""``eerest assets``: list, describe, copy, move, delete and make folders of Earth Engine
assets, as ``earthengine ls/cp/mv/rm/create folder`` do. Registered on the ``eerest`` group
when imported (``eerest._cli.main`` does)."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import click

from .commands import _client, _errors_as_one_line, cli
from .options import connection_options
from .text import table

__all__ = ["assets"]

_ASSET = re.compile(r"^(projects/[^/]+)/assets/(.+)$")
_CONTAINERS = ("FOLDER", "IMAGE_COLLECTION")


def split_asset(name: str) -> tuple[str, str]:
    """``projects/P/assets/a/b`` -> (``projects/P``, ``a/b``); a clear error for anything else."""
    m = _ASSET.match(name.rstrip("/"))
    if m is None:
        raise click.BadParameter(f"{name!r} is not an asset name (projects/PROJECT/assets/ID)")
    return m.group(1), m.group(2)


def _children(client: Any, parent: str) -> Iterator[Any]:
    """The assets directly under ``parent``: a project (``projects/P``) or a folder/collection."""
    root = parent.rstrip("/").removesuffix("/assets")
    if re.fullmatch(r"projects/[^/]+", root):
        return iter(client.projects.list_assets(parent=root))
    split_asset(parent)
    return iter(client.projects.assets.list_assets(parent=parent.rstrip("/")))


@cli.group()
def assets() -> None:
    """Earth Engine assets: ls, info, cp, mv, rm, mkdir."""


@assets.command("ls")
@click.argument("parents", nargs=-1, required=True, metavar="PARENT...")
@click.option("-l", "--long", "long_format", is_flag=True, help="Type, update time and size too.")
@click.option("-r", "--recursive", is_flag=True, help="Also list what folders and collections hold.")
@connection_options
def ls(parents: tuple[str, ...], long_format: bool, recursive: bool, project: str | None, base_url: str | None,
       api_version: str) -> None:
    """List the assets in a project (projects/P) or in a folder or collection."""
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        rows: list[list[str]] = []
        pending = list(parents)
        while pending:
            for asset in _children(client, pending.pop(0)):
                kind = str(asset.type or "")
                if recursive and kind in _CONTAINERS:
                    pending.append(asset.name)
                if long_format:
                    size = "" if asset.size_bytes is None else str(asset.size_bytes)
                    rows.append([kind, _when(asset.update_time), size, asset.name])
                else:
                    click.echo(asset.name)
    if rows:
        click.echo(table([["TYPE", "UPDATED", "BYTES", "NAME"], *rows]))


def _when(value: object) -> str:
    """An update time as 2024-05-04T10:00:00Z (UTC, whole seconds), however the message holds it."""
    if isinstance(value, datetime.datetime):
        utc = value.astimezone(datetime.timezone.utc) if value.tzinfo is not None else value
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return "" if value is None else str(value)


@assets.command("info")
@click.argument("names", nargs=-1, required=True, metavar="ASSET...")
@connection_options
def info(names: tuple[str, ...], project: str | None, base_url: str | None, api_version: str) -> None:
    """Print each asset's description (assets.get) as JSON."""
    for name in names:
        split_asset(name)
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        for name in names:
            click.echo(json.dumps(client.projects.assets.get(name=name).to_dict(), indent=2))


@assets.command("cp")
@click.argument("source", metavar="SOURCE")
@click.argument("destination", metavar="DESTINATION")
@click.option("-f", "--force", is_flag=True, help="Replace DESTINATION if it exists.")
@connection_options
def cp(source: str, destination: str, force: bool, project: str | None, base_url: str | None,
       api_version: str) -> None:
    """Copy an asset."""
    split_asset(source)
    split_asset(destination)
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        client.projects.assets.copy(source_name=source, destination_name=destination, overwrite=force or None)
    click.echo(f"copied {source} -> {destination}")


@assets.command("mv")
@click.argument("source", metavar="SOURCE")
@click.argument("destination", metavar="DESTINATION")
@connection_options
def mv(source: str, destination: str, project: str | None, base_url: str | None, api_version: str) -> None:
    """Move (rename) an asset."""
    split_asset(source)
    split_asset(destination)
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        client.projects.assets.move(source_name=source, destination_name=destination)
    click.echo(f"moved {source} -> {destination}")


@assets.command("rm")
@click.argument("names", nargs=-1, required=True, metavar="ASSET...")
@click.option("-r", "--recursive", is_flag=True, help="Delete folders and collections with what they hold.")
@connection_options
def rm(names: tuple[str, ...], recursive: bool, project: str | None, base_url: str | None, api_version: str) -> None:
    """Delete assets (a folder or collection must be empty, unless -r)."""
    for name in names:
        split_asset(name)
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        for name in names:
            for doomed in _depth_first(client, name) if recursive else [name]:
                client.projects.assets.delete(name=doomed)
                click.echo(f"deleted {doomed}")


def _depth_first(client: Any, name: str) -> list[str]:
    """``name`` and everything under it, children before their parents (the order to delete)."""
    kind = str(client.projects.assets.get(name=name).type or "")
    order: list[str] = []
    if kind in _CONTAINERS:
        for child in _children(client, name):
            order.extend(_depth_first(client, child.name))
    order.append(name)
    return order


@assets.command("mkdir")
@click.argument("names", nargs=-1, required=True, metavar="FOLDER...")
@click.option("--collection", is_flag=True, help="Make image collections instead of folders.")
@connection_options
def mkdir(names: tuple[str, ...], collection: bool, project: str | None, base_url: str | None,
          api_version: str) -> None:
    """Make folders (or, with --collection, image collections)."""
    parsed = [split_asset(name) for name in names]
    kind = "IMAGE_COLLECTION" if collection else "FOLDER"
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        for name, (parent, asset_id) in zip(names, parsed, strict=True):
            client.projects.assets.create(parent=parent, asset_id=asset_id, type=kind)
            click.echo(f"created {name}")
