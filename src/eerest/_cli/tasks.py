"""``eerest tasks``: the project's batch tasks (exports and ingestions, as long-running
operations): list, describe, wait for and cancel them, as ``earthengine task`` does.
Registered on the ``eerest`` group when imported (``eerest._cli.main`` does)."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from .commands import _client, _errors_as_one_line, cli
from .options import connection_options
from .text import table

__all__ = ["tasks"]

_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
_STATES = ("PENDING", "RUNNING", "CANCELLING", *_DONE)


def _row(operation: Any) -> list[str]:
    meta = operation.metadata
    progress = "" if meta.progress is None else f"{meta.progress:.0%}"
    return [operation.name.rsplit("/", 1)[-1], meta.type or "", meta.state or "", progress, meta.description or ""]


@cli.group()
def tasks() -> None:
    """Batch tasks (exports, ingestions): list, info, wait, cancel."""


@tasks.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(_STATES, case_sensitive=False),
              help="Only tasks in this state (repeat for several).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N tasks (newest first, as listed).")
@click.option("--json", "as_json", is_flag=True, help="One JSON Operation per line instead of a table.")
@connection_options
def list_tasks(states: tuple[str, ...], limit: int | None, as_json: bool, project: str | None,
               base_url: str | None, api_version: str) -> None:
    """List the project's tasks: ID, TYPE, STATE, PROGRESS, DESCRIPTION."""
    wanted = {s.upper() for s in states}
    rows: list[list[str]] = []
    shown = 0
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        for operation in client.list_operations():
            if wanted and operation.state not in wanted:
                continue
            if as_json:
                click.echo(json.dumps(operation.to_dict(), separators=(",", ":")))
            else:
                rows.append(_row(operation))
            shown += 1
            if limit is not None and shown >= limit:
                break
    if rows:
        click.echo(table([["ID", "TYPE", "STATE", "PROGRESS", "DESCRIPTION"], *rows]))


@tasks.command("info")
@click.argument("names", nargs=-1, required=True, metavar="TASK...")
@connection_options
def info(names: tuple[str, ...], project: str | None, base_url: str | None, api_version: str) -> None:
    """Print each task's Operation as JSON (TASK: an ID or projects/P/operations/ID)."""
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        for name in names:
            click.echo(json.dumps(client.operation(name).refresh().to_dict(), indent=2))


@tasks.command("wait")
@click.argument("names", nargs=-1, required=True, metavar="TASK...")
@click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Give up after this long in all (exit 1); default: no limit.")
@connection_options
def wait(names: tuple[str, ...], timeout: float | None, project: str | None, base_url: str | None,
         api_version: str) -> None:
    """Wait until every task is done; exit 1 naming those that failed or were cancelled."""
    end = None if timeout is None else time.monotonic() + timeout
    failed: list[str] = []
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        for name in names:
            left = None if end is None else max(0.0, end - time.monotonic())
            try:
                operation = client.operation(name).wait(left)
            except TimeoutError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"{operation.name}: {operation.state}")
            if operation.state != "SUCCEEDED":
                message = (operation.error or {}).get("message") or operation.state
                failed.append(f"{operation.name.rsplit('/', 1)[-1]} ({message})")
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(names)} tasks did not succeed: {'; '.join(failed)}")


@tasks.command("cancel")
@click.argument("names", nargs=-1, required=True, metavar="TASK...")
@connection_options
def cancel(names: tuple[str, ...], project: str | None, base_url: str | None, api_version: str) -> None:
    """Ask the service to cancel each task (they end CANCELLED a little later)."""
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        for name in names:
            operation = client.operation(name)
            operation.cancel()
            click.echo(f"{operation.name}: cancel requested")
