"""The command line's argument types and checks: pure, no requests sent.

Each check raises a ``click.BadParameter`` / ``click.UsageError`` whose message says what
is wrong and what to give instead, so every mistake is one line before anything is sent.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import click

__all__ = [
    "ACCESS_TOKEN_ENV",
    "OUTPUT_SUFFIXES",
    "ByteSize",
    "ResumeShare",
    "check_output",
    "parse_bands",
    "read_expression",
    "read_grid",
    "resolve_source",
]

#: The environment variable holding a bearer token (for the emulator, or a token from
#: ``gcloud auth print-access-token``): environment variables never show in ``ps`` listings.
ACCESS_TOKEN_ENV = "EEREST_ACCESS_TOKEN"

#: Output files by suffix: a tiled GeoTIFF or an NPY file.
OUTPUT_SUFFIXES = (".tif", ".tiff", ".npy")

_ASSET_NAME = re.compile(r"^projects/[^/]+/assets/.+")


class ByteSize(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.5
    """A number of bytes: ``16777216``, ``16MiB``, ``16M`` (K/M/G and KiB/MiB/GiB are powers of
    1024; KB/MB/GB of 1000, as in IEC and SI)."""

    name = "bytes"
    _UNITS: Mapping[str, int] = {
        "": 1, "b": 1,
        "k": 2**10, "kib": 2**10, "kb": 10**3,
        "m": 2**20, "mib": 2**20, "mb": 10**6,
        "g": 2**30, "gib": 2**30, "gb": 10**9,
    }  # fmt: skip
    _PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = self._PATTERN.match(str(value))
        unit = match and self._UNITS.get(match.group(2).lower())
        if not match or unit is None:
            self.fail(f"{value!r} is not a size; give bytes or a number with K, M, G (or KiB, MiB, GiB)", param, ctx)
        size = int(float(match.group(1)) * unit)
        if size <= 0:
            self.fail(f"{value!r} must be more than 0 bytes", param, ctx)
        return size


class ResumeShare(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.5
    """The share of kept tiles a resumed read checks: a number in (0, 1] (``0.1``: a random
    10%), as ``read_area(resume=0.1)`` takes it."""

    name = "fraction"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            share = value
        else:
            try:
                share = float(str(value).strip())
            except ValueError:
                share = math.nan
        if not 0 < share <= 1:  # also NaN
            self.fail(
                f"{value!r} is not a share of the kept tiles; give a number more than 0 and at most 1 "
                "(e.g. 0.1 checks a random 10% of them, 1 all)",
                param,
                ctx,
            )
        return share


def parse_bands(values: Sequence[str]) -> list[str] | None:
    """``--bands red,nir --bands blue`` → ``["red", "nir", "blue"]``; nothing given → None (all bands)."""
    bands = [band.strip() for value in values for band in value.split(",")]
    if not bands:
        return None
    if not all(bands):
        raise click.BadParameter(f"{','.join(values)!r} has an empty band name; give names such as red,nir",
                                 param_hint="'--bands'")
    duplicates = sorted({b for b in bands if bands.count(b) > 1})
    if duplicates:
        raise click.BadParameter(f"{', '.join(duplicates)} given more than once", param_hint="'--bands'")
    return bands


def _read_json(stream: IO[str], option: str) -> Any:
    try:
        return json.load(stream)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{stream.name}: not valid JSON ({exc})", param_hint=option) from None


def read_expression(stream: IO[str]) -> dict[str, Any]:
    """An Expression (``{"result": ..., "values": {...}}``, e.g. from ``ee.serializer.encode(image,
    for_cloud_api=True)``) read from a JSON file or ``-`` for stdin."""
    data = _read_json(stream, "'--expression'")
    if not isinstance(data, dict) or "result" not in data or not isinstance(data.get("values"), dict):
        raise click.BadParameter(
            f"{stream.name}: not an Earth Engine expression; expected a JSON object "
            '{"result": ..., "values": {...}} as ee.serializer.encode(image, for_cloud_api=True) writes',
            param_hint="'--expression'",
        )
    return data


def resolve_source(source: str | None, expression: IO[str] | None) -> str | dict[str, Any]:
    """What to read: an asset name (SOURCE) or an expression (``--expression FILE``), exactly one."""
    if expression is not None:
        if source not in (None, "-"):
            raise click.UsageError(f"give SOURCE or --expression, not both (SOURCE is {source!r}; omit it or use -)")
        return read_expression(expression)
    if source is None or source == "-":
        raise click.UsageError("missing SOURCE (an asset name projects/PROJECT/assets/ID) or --expression FILE")
    if not _ASSET_NAME.match(source):
        raise click.BadParameter(
            f"{source!r} is not an asset name; give projects/PROJECT/assets/ID "
            f"(e.g. projects/earthengine-public/assets/{source.strip('/')})",
            param_hint="'SOURCE'",
        )
    return source


def read_grid(
    grid_file: IO[str] | None,
    crs: str | None,
    scale: float | None,
    bbox: tuple[float, float, float, float] | None,
    *,
    bbox_crs: str | None = None,
    region: IO[str] | None = None,
    like: Path | None = None,
    native_ok: bool = False,
) -> Any:
    """The output's `eerest.tiling.PixelGrid`, from one of: ``--grid FILE`` (a PixelGrid JSON
    object, as the REST API writes it); ``--like FILE.tif`` (an existing raster's grid);
    ``--crs`` and ``--scale`` with ``--bbox`` (in ``--bbox-crs`` units, default the CRS's) or
    ``--region FILE`` (GeoJSON, lon/lat). None when none is given and ``native_ok`` (an
    asset is then read on its first band's grid)."""
    from eerest.errors import InvalidRequestError
    from eerest.tiling import PixelGrid

    ways = {"--grid": grid_file, "--like": like, "--bbox": bbox, "--region": region}
    chosen = [name for name, value in ways.items() if value is not None]
    if len(chosen) > 1:
        raise click.UsageError(f"give one of --grid, --like, --bbox or --region, not {' and '.join(chosen)}")
    if grid_file is not None or like is not None:
        extra = [name for name, value in (("--crs", crs), ("--scale", scale), ("--bbox-crs", bbox_crs)) if value]
        if extra:
            raise click.UsageError(f"--grid and --like give the whole grid: drop {', '.join(extra)}")
    if like is not None:
        try:
            return PixelGrid.from_file(like)
        except (InvalidRequestError, ImportError) as exc:
            raise click.BadParameter(str(exc), param_hint="'--like'") from None
    if grid_file is not None:
        data = _read_json(grid_file, "'--grid'")
        if not isinstance(data, dict):
            raise click.BadParameter(f"{grid_file.name}: expected a PixelGrid JSON object", param_hint="'--grid'")
        try:
            return PixelGrid.from_api(data)
        except (InvalidRequestError, ValueError, TypeError, KeyError) as exc:
            raise click.BadParameter(f"{grid_file.name}: {exc}", param_hint="'--grid'") from None
    if not chosen:
        if crs is None and scale is None and native_ok:
            return None
        raise click.UsageError(
            "missing the output area: give --crs and --scale with --bbox or --region (or --grid FILE, --like FILE.tif)"
        )
    missing = [name for name, value in (("--crs", crs), ("--scale", scale)) if value is None]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)}: a grid needs --crs and --scale with {chosen[0]}")
    assert crs is not None and scale is not None
    if region is not None:
        if bbox_crs is not None:
            raise click.UsageError("--bbox-crs applies to --bbox; a --region file is GeoJSON (lon/lat, or its crs member)")
        geometry = _read_json(region, "'--region'")
        try:
            return PixelGrid.from_geometry(geometry, crs=crs, scale=scale)
        except (InvalidRequestError, ImportError) as exc:
            raise click.BadParameter(f"{region.name}: {exc}", param_hint="'--region'") from None
    assert bbox is not None
    xmin, ymin, xmax, ymax = bbox
    if not (xmin < xmax and ymin < ymax):
        raise click.BadParameter(f"{xmin:g} {ymin:g} {xmax:g} {ymax:g} is empty; give XMIN YMIN XMAX YMAX with "
                                 "XMIN < XMAX and YMIN < YMAX", param_hint="'--bbox'")
    try:
        return PixelGrid.from_bbox(crs, scale, bbox, bbox_crs=bbox_crs)
    except (InvalidRequestError, ValueError, ImportError) as exc:
        message = str(exc)
        if "looks like longitude/latitude" in message:  # the library's fix, as an option
            message = message.split("; pass", 1)[0] + "; add --bbox-crs EPSG:4326 to give the box in lon/lat"
        raise click.BadParameter(message, param_hint="'--crs/--scale/--bbox'") from None


def check_output(path: Path) -> Path:
    """The output file: a .tif/.tiff (GeoTIFF) or .npy in an existing directory."""
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise click.BadParameter(
            f"{str(path)!r}: unknown file type; name it .tif (GeoTIFF) or .npy (NumPy)", param_hint="'-o/--output'"
        )
    if path.is_dir():
        raise click.BadParameter(f"{str(path)!r} is a directory; give a file name", param_hint="'-o/--output'")
    if not path.parent.is_dir():
        raise click.BadParameter(f"{str(path.parent)!r}: no such directory", param_hint="'-o/--output'")
    return path
