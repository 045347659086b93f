"""Options every command that talks to Earth Engine shares: which project, endpoint and API
version (the arguments of ``commands._client``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["API_VERSIONS", "connection_options"]

API_VERSIONS = ("v1", "v1beta", "v1alpha")

_F = TypeVar("_F", bound=Callable[..., Any])


def connection_options(command: _F) -> _F:
    """``--project``, ``--base-url`` and ``--api-version``, in that order in ``--help``."""
    for option in reversed((
        click.option("--project", envvar="GOOGLE_CLOUD_PROJECT", show_envvar=True,
                     help="Cloud project (default: the one google.auth.default() reports)."),
        click.option("--base-url", envvar="EEREST_BASE_URL", show_envvar=True, metavar="URL",
                     help="API endpoint, e.g. https://earthengine-highvolume.googleapis.com or an emulator's URL."),
        click.option("--api-version", type=click.Choice(API_VERSIONS), default="v1", show_default=True),
    )):
        command = option(command)
    return command
