"""Every type one version's pages can refer to, and how a reference finds its type.

A field's type is a link: ``.../rest/v1/projects.assets#EarthEngineAsset.ImageBand`` (a
section of a page; the site numbers sections that share a title, ``#...Type_1`` is the
second ``Type``), ``.../rest/v1/PixelGrid`` (a type page), ``.../rest/Shared.Types/Policy``
(a type the pages do not show: Google's shared types, or this project's supplement). A
name without a link (a few on the v1alpha pages) is looked up by name, and must be
unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .model import EnumDef, MessageDef, Page, TypeRef

__all__ = ["Catalogue", "Google", "Resolved"]

_SITE = re.compile(r"^https://developers\.google\.com/earth-engine/reference/rest/(?P<target>[^#]+)(?:#(?P<anchor>[\w.]+))?$")
_OCCURRENCE = re.compile(r"^(?P<name>[A-Za-z]\w*?)(?:_(?P<n>\d+))?$")


@dataclass(frozen=True)
class Google:
    """One of Google's shared types (``google_types.py``), by name."""

    name: str


Resolved = MessageDef | EnumDef | Google


class Catalogue:
    def __init__(
        self,
        version: str,
        pages: Mapping[str, Page],
        supplement: Mapping[str, Page],
        google: Mapping[str, dict[str, Any]],
    ) -> None:
        self.version = version
        self.pages = pages
        self.supplement = supplement
        self.google = google

    def resolve(self, ref: TypeRef) -> Resolved:
        """The type ``ref`` points to; a `ValueError` (naming ``ref.where``) if none or several."""
        found = self._by_url(ref) if ref.url else self._by_name(ref.name, ref)
        name = found.name
        if name != ref.name:
            raise ValueError(f"{ref.where}: {ref.name} links to {name} ({ref.url})")
        return found

    def message(self, ref: TypeRef) -> MessageDef | Google:
        found = self.resolve(ref)
        if isinstance(found, EnumDef):
            raise ValueError(f"{ref.where}: {ref.name} is an enum where a message is expected")
        return found

    def enum(self, ref: TypeRef) -> EnumDef:
        found = self.resolve(ref)
        if not isinstance(found, EnumDef):
            raise ValueError(f"{ref.where}: {ref.name} is not an enum")
        return found

    # -- lookups ------------------------------------------------------------------------------
    def _by_url(self, ref: TypeRef) -> Resolved:
        assert ref.url is not None
        match = _SITE.match(ref.url)
        if match is None:
            raise ValueError(f"{ref.where}: a link to {ref.url} is not a type of this reference")
        target, anchor = match.group("target"), match.group("anchor")
        version, _, page_name = target.partition("/")
        if version == "Shared.Types":
            name = anchor.rsplit(".", 1)[-1] if anchor else page_name
            return self._shared(name, page_name, ref)
        if version != self.version:
            raise ValueError(f"{ref.where}: a {self.version} page links to {version} ({ref.url})")
        page = self.pages.get(page_name + ".md")
        if page is None:
            raise ValueError(f"{ref.where}: links to {page_name}, which has no page")
        if not anchor:
            if not page.types:
                raise ValueError(f"{ref.where}: {page_name} defines no type")
            return page.types[0]
        return self._section(page, anchor.rsplit(".", 1)[-1], ref)

    @staticmethod
    def _section(page: Page, anchor: str, ref: TypeRef) -> MessageDef | EnumDef:
        match = _OCCURRENCE.match(anchor)
        if match is None:
            raise ValueError(f"{ref.where}: unreadable anchor #{anchor}")
        name, nth = match.group("name"), int(match.group("n") or 0)
        same = [t for t in page.types if t.name == name]
        if nth >= len(same):
            raise ValueError(f"{ref.where}: {page.path} has no section #{anchor}")
        return same[nth]

    def _shared(self, name: str, page_name: str, ref: TypeRef) -> Resolved:
        if name in self.google:
            return Google(name)
        page = self.supplement.get(page_name + ".md")
        if page is not None:
            same = [t for t in page.types if t.name == name]
            if len(same) == 1:
                return same[0]
        raise ValueError(
            f"{ref.where}: {ref.url} is neither one of Google's shared types nor in the supplement "
            f"(schema/sources/supplement/{page_name}.md)"
        )

    def _by_name(self, name: str, ref: TypeRef) -> Resolved:
        found = _distinct(t for page in self.pages.values() for t in page.types if t.name == name)
        if len(found) > 1:
            raise ValueError(f"{ref.where}: {name} has no link and several pages define it: {[t.where for t in found]}")
        if found:
            return found[0]
        if name in self.google:
            return Google(name)
        supplement = _distinct(t for page in self.supplement.values() for t in page.types if t.name == name)
        if len(supplement) == 1:
            return supplement[0]
        raise ValueError(f"{ref.where}: no page defines {name}")


def _distinct(types: Iterable[MessageDef | EnumDef]) -> list[MessageDef | EnumDef]:
    """Types that differ in more than the place they were read from."""
    out: list[MessageDef | EnumDef] = []
    for t in types:
        if not any(_same(t, seen) for seen in out):
            out.append(t)
    return out


def _same(a: MessageDef | EnumDef, b: MessageDef | EnumDef) -> bool:
    if isinstance(a, EnumDef) and isinstance(b, EnumDef):
        return (a.name, a.values) == (b.name, b.values)
    return False
