"""The ``eerest`` commands (click). Arguments are checked in `.params`; this module builds the
client, runs the read and turns every failure into one line on stderr and a non-zero exit."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY, PROJECT_CONCURRENCY_QUOTA
from eerest.tiling import DEFAULT_MAX_TILE_BYTES

from .options import API_VERSIONS as _API_VERSIONS
from .params import (
    ACCESS_TOKEN_ENV,
    ByteSize,
    ResumeShare,
    check_output,
    parse_bands,
    read_grid,
    resolve_source,
)

__all__ = ["cli", "read_area", "emulator"]

#: What click (8.2+) raises for a bare `eerest`; its message is the whole help, not one line.
_NO_ARGS_IS_HELP: tuple[type[click.UsageError], ...] = tuple(
    getattr(click.exceptions, name) for name in ("NoArgsIsHelpError",) if hasattr(click.exceptions, name)
)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Group(click.Group):
    """A click group whose errors are each one line on stderr: click's usage errors (exit 2,
    without click's usage block), eerest and OS errors (exit 1), Ctrl-C (exit 130)."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # `eerest` alone: the help, as click shows it
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(f"{exc.format_message()}{where}", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("interrupted", 130)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"Error: {_one_line(message)}", err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="eerest", prog_name="eerest", message="%(prog)s %(version)s")
def cli() -> None:
    """Earth Engine pixels from the command line (REST API, through eerest)."""


@cli.command("read-area")
@click.argument("source", required=False, metavar="[SOURCE]")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .tif (tiled, georeferenced GeoTIFF; BigTIFF when needed) or .npy.")
@click.option("--expression", type=click.File("r"), metavar="FILE",
              help="Read a computed image: an Expression as JSON (- for stdin); SOURCE is then omitted or -.")
@click.option("--grid", "grid_file", type=click.File("r"), metavar="FILE",
              help="The output grid as a PixelGrid JSON object (crsCode, affineTransform, dimensions).")
@click.option("--like", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE.tif",
              help="Read on the grid of an existing GeoTIFF (its size, transform and CRS).")
@click.option("--crs", metavar="CRS", help="The output CRS, e.g. EPSG:32633 (with --scale and --bbox or --region).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), metavar="UNITS",
              help="Pixel size in CRS units (metres for EPSG:32633, degrees for EPSG:4326).")
@click.option("--bbox", type=(float, float, float, float), metavar="XMIN YMIN XMAX YMAX",
              help="The area, in CRS units (or in --bbox-crs units).")
@click.option("--bbox-crs", metavar="CRS", help="The CRS --bbox is given in, e.g. EPSG:4326 for lon/lat.")
@click.option("--region", type=click.File("r"), metavar="FILE",
              help="The area as a GeoJSON file (geometry, Feature or FeatureCollection; lon/lat): its bounds.")
@click.option("--bands", multiple=True, metavar="B1,B2",
              help="Bands to read (comma-separated or repeated; default: all).")
@click.option("--project", envvar="GOOGLE_CLOUD_PROJECT", show_envvar=True,
              help="Cloud project (default: the one google.auth.default() reports).")
@click.option("--base-url", envvar="EEREST_BASE_URL", show_envvar=True, metavar="URL",
              help="API endpoint, e.g. https://earthengine-highvolume.googleapis.com or an emulator's URL.")
@click.option("--api-version", type=click.Choice(_API_VERSIONS), default="v1", show_default=True)
@click.option("--max-concurrency", type=click.IntRange(min=1), metavar="N",
              help=f"Requests in flight at most, tiles and every other request (default "
              f"{DEFAULT_MAX_CONCURRENCY}, well under the project's quota of {PROJECT_CONCURRENCY_QUOTA}; "
              "more than the quota is allowed, with a warning).")
@click.option("--max-tile-bytes", type=ByteSize(), metavar="SIZE",
              help=f"Size of each request as the server counts it (default {DEFAULT_MAX_TILE_BYTES // 2**20}MiB, "
              "at most 48MiB).")
@click.option("--workload-tag", metavar="TAG", help="Earth Engine workload tag for billing reports.")
@click.option("--resume", is_flag=True,
              help="Keep finished tiles of an interrupted run of the same command; fetch only the rest.")
@click.option("--resume-check", type=ResumeShare(), metavar="FRACTION",
              help="With --resume: check this share of the kept tiles (read back against their checksums) "
              "before trusting them, e.g. 0.1 for a random 10% (default 1: all; a compressed GeoTIFF "
              "checks all).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: when stderr is a terminal).")
@click.option("--dry-run", is_flag=True, help="Print the size and number of requests, and read nothing.")
@click.option("--max-size", type=ByteSize(), metavar="SIZE",
              help="Refuse a read whose result is larger than this (e.g. 2GiB), before reading anything.")
def read_area(
    source: str | None,
    output: Path,
    expression: IO[str] | None,
    grid_file: IO[str] | None,
    like: Path | None,
    crs: str | None,
    scale: float | None,
    bbox: tuple[float, float, float, float] | None,
    bbox_crs: str | None,
    region: IO[str] | None,
    bands: tuple[str, ...],
    project: str | None,
    base_url: str | None,
    api_version: str,
    max_concurrency: int | None,
    max_tile_bytes: int | None,
    workload_tag: str | None,
    resume: bool,
    resume_check: float | None,
    progress: bool | None,
    dry_run: bool,
    max_size: int | None,
) -> None:
    """Read an area of any size into a GeoTIFF or NPY file, in tiles fetched concurrently.

    SOURCE is an asset name (projects/PROJECT/assets/ID, read with getPixels; without a grid,
    on the asset's first band's grid); --expression reads a computed image instead (computePixels).
    Credentials: google.auth.default(), or a bearer token in the environment variable
    EEREST_ACCESS_TOKEN (e.g. for the emulator).

    \b
    eerest read-area projects/P/assets/dem --crs EPSG:32633 --scale 10 \\
        --bbox 500000 5300000 520000 5320000 -o dem.tif
    eerest read-area projects/P/assets/dem --crs EPSG:32633 --scale 10 \\
        --bbox 14.5 47.9 14.8 48.1 --bbox-crs EPSG:4326 -o dem.tif --dry-run
    """
    output = check_output(output)
    what = resolve_source(source, expression)
    band_ids = parse_bands(bands)
    grid = read_grid(
        grid_file, crs, scale, bbox, bbox_crs=bbox_crs, region=region, like=like, native_ok=isinstance(what, str)
    )
    if progress is None:
        progress = sys.stderr.isatty()
    if resume_check is not None and not resume:
        raise click.UsageError("--resume-check applies to a resumed read: add --resume (or drop --resume-check)")

    if max_concurrency is not None and max_concurrency > PROJECT_CONCURRENCY_QUOTA:
        click.echo(
            f"warning: --max-concurrency {max_concurrency} is above Earth Engine's quota of "
            f"{PROJECT_CONCURRENCY_QUOTA} concurrent requests per project: expect 429 answers (retried, and the "
            "client then lowers its concurrency for a while)",
            err=True,
        )
    started = time.perf_counter()
    hint = "rerun the same command to fetch only the missing tiles" if resume else (
        "add --resume to keep the finished tiles of a rerun that fails again"
    )
    with _errors_as_one_line(hint=hint), _client(api_version, project, base_url, max_concurrency) as client:
        plan = client.plan_area(what, grid=grid, band_ids=band_ids, max_tile_bytes=max_tile_bytes)
        if dry_run:
            click.echo(f"would read {plan} into {output}")
            return
        if max_size is not None and plan.nbytes > max_size:
            raise click.ClickException(
                f"the read is {plan}, more than --max-size {max_size} bytes; narrow the area, use a coarser "
                "--scale or fewer --bands, or raise --max-size"
            )
        if progress or plan.nbytes >= _ANNOUNCE_BYTES:
            click.echo(f"reading {plan}", err=True)
        grid = plan.grid
        client.read_area(
            what,
            grid=grid,
            band_ids=list(plan.band_ids),
            band_dtypes=list(plan.tiles.band_dtypes),
            out=str(output),
            max_concurrency=max_concurrency,
            max_tile_bytes=max_tile_bytes,
            progress=progress,
            workload_tag=workload_tag,
            resume=resume_check if resume and resume_check is not None else resume,
        )
    elapsed = time.perf_counter() - started
    size = f"{output.stat().st_size / 2**20:.1f} MiB"
    pixels = f"{grid.width} x {grid.height} pixels, "
    click.echo(f"wrote {output}: {pixels}{size} in {elapsed:.1f} s")


def _client(api_version: str, project: str | None, base_url: str | None, max_concurrency: int | None = None) -> Any:
    """A client of ``api_version``; like every client, it takes a static bearer token from
    ``EEREST_ACCESS_TOKEN`` when set, otherwise google.auth.default(); ``max_concurrency``
    (when given) is its limiter's, which every request of the command passes through."""
    module = importlib.import_module(f"eerest.{api_version}")
    limits = {} if max_concurrency is None else {"max_concurrency": max_concurrency}
    return module.Client(project=project, base_url=base_url, **limits)


#: Reads at least this large say their size and number of requests before they start.
_ANNOUNCE_BYTES = 1 << 30


class _Interrupted(click.ClickException):
    exit_code = 130


@contextlib.contextmanager
def _errors_as_one_line(hint: str | None = None) -> Iterator[None]:
    """Turns what a read can raise into a one-line ``click.ClickException`` (exit 1); a
    failure of the service or the connection ends with ``hint`` (how to resume)."""
    import google.auth.exceptions

    from eerest.errors import APIError, CredentialsError, EERestError, RequestLimitError, ResumeError

    try:
        yield
    except KeyboardInterrupt:
        raise _Interrupted(f"interrupted ({hint})" if hint else "interrupted") from None
    except (CredentialsError, google.auth.exceptions.GoogleAuthError) as exc:
        reason = (exc.reason or str(exc)) if isinstance(exc, CredentialsError) else f"{type(exc).__name__}: {exc}"
        raise click.ClickException(
            f"no usable Google credentials ({_one_line(reason)}); run 'gcloud auth "
            f"application-default login', or put a bearer token in the environment variable {ACCESS_TOKEN_ENV}"
        ) from None
    except (APIError, RequestLimitError) as exc:
        message = _one_line(str(exc))
        raise click.ClickException(f"{message} ({hint})" if hint else message) from None
    except ResumeError as exc:  # the library's advice says resume=False; the command line's is without --resume
        raise click.ClickException(
            _one_line(
                f"cannot resume: the partial file {exc.path} {exc.reason}, so the tiles it holds cannot be trusted; "
                f"delete it and {exc.path}.resume, or rerun without --resume to read the area afresh"
            )
        ) from None
    except EERestError as exc:
        raise click.ClickException(_one_line(str(exc))) from None
    except ImportError as exc:
        if exc.name not in ("tqdm", "tifffile"):
            raise
        raise click.ClickException(f"{exc.name} is missing: pip install 'eerest[cli]'") from None
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise click.ClickException(_one_line(f"{exc.strerror or exc}{where}")) from None


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulator(args: tuple[str, ...]) -> None:
    """Start the local Earth Engine emulator (eerest-emulator); its options, e.g. --port 8080, --help."""
    module = next((m for m in ("eerest_emulator", "eerest.emulator") if _installed(m)), None)
    if module is None:
        raise click.ClickException("the emulator is not installed: pip install eerest-emulator")
    status = importlib.import_module(f"{module}.__main__").main(list(args))
    click.get_current_context().exit(status)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
