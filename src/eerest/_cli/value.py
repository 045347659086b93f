"""``eerest value``: compute an expression and print its value as JSON, as ``getInfo()``
returns it (``value.compute``). Registered on the ``eerest`` group when imported."""

from __future__ import annotations

import json
from typing import IO

import click

from .commands import _client, _errors_as_one_line, cli
from .options import connection_options

__all__ = ["value"]


@cli.command()
@click.argument("expression", type=click.File("r"), metavar="FILE")
@connection_options
def value(expression: IO[str], project: str | None, base_url: str | None, api_version: str) -> None:
    """Print the value of the expression in FILE ('-': stdin) as JSON.

    FILE holds an Expression, e.g. the JSON of ee.serializer.encode(obj, for_cloud_api=True).
    """
    try:
        parsed = json.load(expression)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="FILE") from None
    if not isinstance(parsed, dict) or "values" not in parsed or "result" not in parsed:
        raise click.BadParameter("not an Expression (a JSON object with 'values' and 'result')", param_hint="FILE")
    with _errors_as_one_line(), _client(api_version, project, base_url) as client:
        result = client.compute_value(parsed)
    click.echo(json.dumps(result, indent=2))
