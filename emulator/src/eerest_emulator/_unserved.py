"""Earth Engine REST methods the emulator does not serve: a call answers 501 UNIMPLEMENTED
naming the method.

The documents the emulator serves are Google's complete ones (copies of the repository's
`schema/`), so a client that reaches methods through the discovery document (the official
client does) finds every method, as it would at Google. A request the emulator's own routes
do not take is matched here against every method of the documents; if it is one, the answer
is a google.rpc.Status that names it, never a 404 or a dropped connection.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from ._errors import ApiError

__all__ = ["not_served", "unserved_method"]

_VARIABLE = re.compile(r"\{(\+?)(\w+)\}")


@cache
def _routes() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(method id without the API name, HTTP method, path regex) of every documented method."""
    from ._discovery import VERSIONS, document  # _discovery imports the listing and this module

    out: list[tuple[str, str, re.Pattern[str], int]] = []
    for version in VERSIONS:
        for spec in _methods(document(version)):
            rx = _path_regex(spec["path"], spec.get("parameters", {}))
            out.append((spec["id"].split(".", 1)[1], spec["httpMethod"], rx, len(_VARIABLE.sub("", spec["path"]))))
    # The most literal template first: `{+name}:listFeatures` before `{+name}`, which matches it too.
    return tuple((m, h, rx) for m, h, rx, _ in sorted(out, key=lambda r: -r[3]))


def _methods(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(resource.get("methods", {}).values())
    for child in resource.get("resources", {}).values():
        found.extend(_methods(child))
    return found


def _path_regex(path: str, parameters: dict[str, Any]) -> re.Pattern[str]:
    """``v1/{+name}:getPixels`` with ``name``'s pattern ``^projects/[^/]+/assets/.*$`` ->
    ``^/v1/projects/[^/]+/assets/.*:getPixels$``."""
    parts: list[str] = []
    at = 0
    for match in _VARIABLE.finditer(path):
        parts.append(re.escape(path[at : match.start()]))
        pattern = parameters.get(match.group(2), {}).get("pattern")
        if match.group(1) and pattern:
            parts.append("(?:" + pattern.removeprefix("^").removesuffix("$") + ")")
        else:
            parts.append(".+" if match.group(1) else "[^/]+")
        at = match.end()
    parts.append(re.escape(path[at:]))
    return re.compile("^/" + "".join(parts) + "$")


def unserved_method(http: str, path: str) -> str | None:
    """The id (``projects.image.export``) of the documented method `http path` calls, or None.
    Only asked about requests the emulator's own routes did not take."""
    for method_id, method, rx in _routes():
        if method == http and rx.match(path):
            return method_id
    return None


def not_served(method_id: str) -> ApiError:
    return ApiError(
        501,
        f"{method_id} is not implemented in the eerest emulator: it serves computePixels, getPixels, "
        "computeImages, value.compute, thumbnails (also filmstrips and GIF videos), table downloads, maps, algorithms.list, the assets methods (get, listing, "
        "create, copy, move, patch, delete, IAM policies, listFeatures), getConfig/updateConfig, image, table "
        "and map exports, image and table imports, and the operations methods.",
        "UNIMPLEMENTED",
    )
