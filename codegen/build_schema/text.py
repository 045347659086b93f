"""Descriptions as a discovery document carries them, from the text of the reference pages.

The pages show each description as the API's own comment plus what the documentation site
adds when it renders a page. Google's discovery documents carry the comment only, on one
line (newlines become spaces, as in every document google-api-python-client ships), so
this module takes the site's additions away again; it changes nothing else:

- ``Name[](url)``: the site links every type and field name it recognises in backquotes;
  the name stays, the empty link goes. Links the comment itself makes,
  ``[Resource names](https://...)``, stay as they are (as in Google's documents).
- ``<https://...>``: a bare URL the site turned into a link; the URL stays.
- ``This item is deprecated!``: the site's banner for a deprecated field or value
  (discovery says ``"deprecated": true`` instead).
- ``Authorization requires the following IAM permission ...`` and its list: the site
  renders a method's IAM annotation into its path parameter's description.
- The site's explanation of a well-known type after the description of a field of that
  type: `Timestamp`, `Duration`, `FieldMask`, maps and `Any`, exactly as in `_WELL_KNOWN`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["DEPRECATED_BANNER", "clean", "strip_site_links", "well_known_suffix"]

DEPRECATED_BANNER = "This item is deprecated!"
_SITE_LINK = re.compile(r"\[\]\([^)\s]*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_IAM_NOTE = re.compile(
    r"\s*Authorization requires the following \[IAM\]\(https://cloud\.google\.com/iam/docs/\) "
    r"permissions? on the specified resource `[\w.]+`:\s*$"
)
_IAM_PERMISSION = re.compile(r"^\s*\* `[\w.]+`\s*$")

#: What the site appends to the description of a field of a well-known type, by the page's
#: name for the type (`Timestamp`, ... or ``map``/``Any`` for maps and ``google.protobuf.Any``).
_WELL_KNOWN = {
    "Timestamp": (
        ' Uses RFC 3339, where generated output will always be Z-normalized and uses 0, 3, 6 or 9 '
        'fractional digits. Offsets other than "Z" are also accepted. Examples: `"2014-10-02T15:01:23Z"`, '
        '`"2014-10-02T15:01:23.045123456Z"` or `"2014-10-02T15:01:23+05:30"`.'
    ),
    "Duration": " A duration in seconds with up to nine fractional digits, ending with '`s`'. Example: `\"3.5s\"`.",
    "FieldMask": (
        ' This is a comma-separated list of fully qualified names of fields. Example: `"user.displayName,photo"`.'
    ),
    "map": ' An object containing a list of `"key": value` pairs. Example: `{ "name": "wrench", "mass": "1.3kg", "count": "3" }`.',
    "Any": (
        ' An object containing fields of an arbitrary type. An additional field `"@type"` contains a URI '
        'identifying the type. Example: `{ "id": 1234, "@type": "types.example.com/standard/id" }`.'
    ),
}


def strip_site_links(text: str) -> str:
    """``Name[](url)`` -> ``Name``; ``<https://x>`` -> ``https://x``."""
    return _AUTOLINK.sub(r"\1", _SITE_LINK.sub("", text))


def well_known_suffix(type_name: str) -> str | None:
    return _WELL_KNOWN.get(type_name)


def clean(lines: Sequence[str], *, well_known: str | None = None) -> tuple[str, bool]:
    """The description a discovery document would carry for these page lines, and whether
    the site marked the item deprecated. ``well_known`` names the field's well-known type
    (see `_WELL_KNOWN`), whose explanation is removed from the end."""
    kept = _drop_iam_note(lines)
    text = " ".join(" ".join(line.split()) for line in kept if line.strip())
    text = strip_site_links(text).strip()
    deprecated = text.startswith(DEPRECATED_BANNER)
    if deprecated:
        text = text[len(DEPRECATED_BANNER) :].lstrip()
    suffix = _WELL_KNOWN.get(well_known) if well_known else None
    if suffix and text.endswith(suffix.strip()):
        text = text[: -len(suffix.strip())].rstrip()
    return text, deprecated


def _drop_iam_note(lines: Sequence[str]) -> list[str]:
    """The lines without the site's IAM note (the sentence that ends a line, and the
    permission list under it; nothing else may follow)."""
    for i, line in enumerate(lines):
        match = _IAM_NOTE.search(line)
        if match is None:
            continue
        rest = [text for text in lines[i + 1 :] if text.strip()]
        if not rest or not all(_IAM_PERMISSION.match(text) for text in rest):
            raise ValueError(f"an IAM note followed by something other than its permission list: {rest!r}")
        return [*lines[:i], line[: match.start()]]
    return list(lines)
