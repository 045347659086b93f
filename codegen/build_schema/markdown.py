"""The Markdown layout of Google's REST reference pages: headings, boilerplate and tables.

This module knows the page *layout* (where a heading, a table row or a code block starts);
what the parts mean is ``pages.py``'s business. Anything it does not recognise is a
`PageError` naming the file and line: a silently skipped line could be a dropped field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Line", "PageError", "RawRow", "Section", "is_boilerplate", "read_sections", "split_table"]

_HEADING = re.compile(r"^(#{1,3})\s+(.*?)\s*$")
#: Lines the site adds to every page (navigation, feedback widgets); they carry no API content.
_BOILERPLATE = (
    re.compile(r"^bookmark_border"),
    re.compile(r"^Stay organized with collections"),
    re.compile(r"^\s*\* On this page\s*$"),
    re.compile(r"^\s*\* \[[^\]]*\]\(https://developers\.google\.com/earth-engine/reference/rest/[^)]*\)\s*$"),
    re.compile(r"^Was this helpful\?\s*$"),
    re.compile(r"^\s*$"),
)
#: A table row starts with the backquoted name, then `|` (or, for a deprecated item, the name
#: alone on the line and `**(deprecated)**`|` on the next one).
_ROW = re.compile(r"^`(?P<name>[A-Za-z_$@][\w.$@]*(?:\[\])?)`\s*\|(?P<rest>.*)$")
_ROW_DEPRECATED_HEAD = re.compile(r"^`(?P<name>[A-Za-z_$@][\w.$@]*(?:\[\])?)\s*$")
_ROW_DEPRECATED_TAIL = re.compile(r"^\*\*\(deprecated\)\*\*`\s*\|(?P<rest>.*)$")
_UNION = re.compile(r"^Union field `\w+`\..*can be only one of the following:\s*$")
_FEEDBACK = re.compile(r"^Was this helpful\?\s*$")
_TABLE_HEADERS = ("Fields", "Parameters", "Enums")


class PageError(ValueError):
    """A page that does not read as the reference layout: ``file:line: what``."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line


@dataclass(frozen=True)
class Line:
    number: int
    text: str


@dataclass(frozen=True)
class Section:
    """A heading (level 1 to 3, ``title`` without the #s) and the lines up to the next heading."""

    level: int
    title: str
    line: int
    body: tuple[Line, ...]


@dataclass(frozen=True)
class RawRow:
    """One table row: its name (``bands[]``), whether it is marked deprecated, and its text
    after the ``|`` with any continuation lines (kept as lines)."""

    name: str
    deprecated: bool
    text: tuple[str, ...]
    line: int


def is_boilerplate(text: str) -> bool:
    return any(rx.match(text) for rx in _BOILERPLATE)


def read_sections(path: Path) -> list[Section]:
    """The page's sections in order; lines before the first heading must be boilerplate."""
    lines = path.read_text(encoding="utf-8").splitlines()
    sections: list[Section] = []
    current: tuple[int, str, int] | None = None
    body: list[Line] = []
    in_code = False
    for number, text in enumerate(lines, start=1):
        if _toggles_code(text):
            in_code = not in_code
        heading = None if in_code else _HEADING.match(text)
        if heading:
            if current is not None:
                sections.append(Section(current[0], current[1], current[2], tuple(body)))
            current, body = (len(heading.group(1)), heading.group(2), number), []
        elif current is None:
            if not is_boilerplate(text):
                raise PageError(path, number, f"text before the page's title: {text!r}")
        else:
            body.append(Line(number, text))
    if current is not None:
        sections.append(Section(current[0], current[1], current[2], tuple(body)))
    if in_code:
        raise PageError(path, len(lines), "a ``` code block is never closed")
    if not sections:
        raise PageError(path, 1, "no heading: not a reference page")
    return sections


def _toggles_code(text: str) -> bool:
    stripped = text.rstrip()
    return stripped == "```" or (stripped.endswith("```") and stripped.count("```") % 2 == 1)


def split_table(path: Path, lines: Sequence[Line], start: int) -> list[RawRow]:
    """Read the table whose header line (``Fields``, ``Parameters`` or ``Enums``) is
    ``lines[start]`` and which runs to the end of ``lines`` (the pages end a table only
    with the next heading): its rows, each with its continuation lines."""
    header = lines[start]
    if header.text.strip() not in _TABLE_HEADERS:
        raise PageError(path, header.number, f"expected a table header, got {header.text!r}")
    if start + 1 >= len(lines) or lines[start + 1].text.strip() != "---":
        raise PageError(path, header.number, "a table header must be followed by a '---' line")
    rows: list[RawRow] = []
    i = start + 2
    while i < len(lines):
        text = lines[i].text
        match = _ROW.match(text)
        if match:
            rows.append(RawRow(match.group("name"), False, (match.group("rest"),), lines[i].number))
        elif _ROW_DEPRECATED_HEAD.match(text) and i + 1 < len(lines) and _ROW_DEPRECATED_TAIL.match(lines[i + 1].text):
            head = _ROW_DEPRECATED_HEAD.match(text)
            tail = _ROW_DEPRECATED_TAIL.match(lines[i + 1].text)
            assert head is not None and tail is not None
            rows.append(RawRow(head.group("name"), True, (tail.group("rest"),), lines[i].number))
            i += 1
        elif _UNION.match(text):
            pass  # a oneof's heading: discovery documents do not describe oneofs
        elif text.startswith("`") and "|" in text:
            raise PageError(path, lines[i].number, f"a table row this parser cannot read: {text[:80]!r}")
        elif _FEEDBACK.match(text):
            pass  # the site's feedback widget after the last row
        elif rows:
            last = rows[-1]
            rows[-1] = RawRow(last.name, last.deprecated, (*last.text, text), last.line)
        elif not is_boilerplate(text):
            raise PageError(path, lines[i].number, f"text between a table header and its first row: {text[:80]!r}")
        i += 1
    if not rows:
        raise PageError(path, header.number, "a table without rows")
    return rows
