"""``eerest read-table``: the features of a table asset or a FeatureCollection expression,
every page, into a GeoParquet file (``client.read_table``). Registered on the ``eerest``
group when imported (``eerest._cli.main`` does)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO

import click

from .commands import _client, _errors_as_one_line, cli
from .options import connection_options
from .params import resolve_source

__all__ = ["read_table"]

_SUFFIXES = (".parquet", ".geoparquet")


@cli.command("read-table")
@click.argument("source", required=False, metavar="[SOURCE]")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.parquet", help="The GeoParquet file to write.")
@click.option("--expression", type=click.File("r"), metavar="FILE",
              help="A FeatureCollection expression (JSON, - for stdin) to read instead of SOURCE.")
@click.option("--columns", metavar="A,B", help="Only these properties, in this order.")
@click.option("--page-size", type=click.IntRange(min=1), metavar="N", help="Features per page (service default 1000).")
@connection_options
@click.option("--max-concurrency", type=click.IntRange(min=1), metavar="N", help="Pages fetched ahead (default 2).")
@click.option("--workload-tag", metavar="TAG", help="Earth Engine workload tag for billing reports.")
@click.option("--resume", is_flag=True, help="Keep what was written if the read fails; a rerun goes on from there.")
@click.option("--progress/--no-progress", default=None, help="A progress bar (default: when stderr is a terminal).")
def read_table(
    source: str | None,
    output: Path,
    expression: IO[str] | None,
    columns: str | None,
    page_size: int | None,
    project: str | None,
    base_url: str | None,
    api_version: str,
    max_concurrency: int | None,
    workload_tag: str | None,
    resume: bool,
    progress: bool | None,
) -> None:
    """Read every feature of a table into a GeoParquet file, page after page.

    SOURCE is a table asset name (projects/PROJECT/assets/ID, read with listFeatures);
    --expression reads a computed FeatureCollection instead (computeFeatures), e.g. the JSON
    of ee.serializer.encode(image.reduceRegions(...), for_cloud_api=True).

    \b
    eerest read-table projects/P/assets/parcels -o parcels.parquet
    eerest read-table --expression samples.json -o samples.parquet --columns name,elevation
    """
    if output.suffix.lower() not in _SUFFIXES:
        raise click.BadParameter(f"{str(output)!r}: name it .parquet (GeoParquet)", param_hint="'-o/--output'")
    if not output.parent.is_dir():
        raise click.BadParameter(f"{str(output.parent)!r}: no such directory", param_hint="'-o/--output'")
    what = resolve_source(source, expression)
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns is not None else None
    if progress is None:
        progress = sys.stderr.isatty()
    started = time.perf_counter()
    hint = "rerun the same command to go on from the failed page" if resume else (
        "add --resume to keep the pages read if a rerun fails again"
    )
    rows = [0]

    def count(features: int, pages: int) -> None:
        rows[0] = features

    report: object = progress if progress else count
    try:
        with _errors_as_one_line(hint=hint), _client(api_version, project, base_url) as client:
            client.read_table(what, out=str(output), columns=names, page_size=page_size, max_concurrency=max_concurrency,
                              progress=report, resume=resume, workload_tag=workload_tag)
    except ImportError as exc:  # pyarrow, shapely: the table extra
        raise click.ClickException(" ".join(str(exc).split())) from None
    elapsed = time.perf_counter() - started
    got = f"{rows[0]} features, " if not progress else ""
    click.echo(f"wrote {output}: {got}{output.stat().st_size / 2**20:.1f} MiB in {elapsed:.1f} s")
