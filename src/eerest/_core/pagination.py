"""Pagers for list methods: iterate items across pages, fetching a page only when needed.

A list response with one list of items (or one list of messages beside lists of strings,
such as ``unreachable``) is iterated item by item; one without (a map of items, or
several lists of messages) is iterated page by page, ``ItemT`` then being the page type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from eerest.errors import PaginationError

__all__ = ["SyncPager", "AsyncPager", "PageTokens"]


def _field(page: object, wire_name: str) -> Any:
    """A response field by its wire name (attribute names are snake_case)."""
    for name, info in type(page).model_fields.items():  # type: ignore[attr-defined]
        if (name if info.alias is None else info.alias) == wire_name:
            return getattr(page, name)
    return None


def _items(page: object, items_field: str | None) -> Any:
    return (page,) if items_field is None else (_field(page, items_field) or ())

class PageTokens:
    """Which page tokens a pager has followed: a server that sends one twice would loop
    forever, so that is a :class:`PaginationError`, as is going past ``max_pages``. Pure."""

    def __init__(self, first: str | None, items_field: str | None, max_pages: int | None) -> None:
        self._seen = {_digest(first)} if first else set()
        self._what = items_field or "pages"
        self._max_pages = max_pages
        self.pages = 0

    def next(self, page: object) -> str | None:
        """The token of the page after ``page`` (``None``: it was the last one)."""
        self.pages += 1
        token = _field(page, "nextPageToken")
        if not token:
            return None
        if not isinstance(token, str):
            raise PaginationError(f"the server sent a nextPageToken that is not a string ({type(token).__name__})")
        digest = _digest(token)
        if digest in self._seen:
            raise PaginationError(
                f"the server sent the page token {token[:40]!r} a second time after {self.pages} pages of "
                f"{self._what}; stopping instead of looping forever"
            )
        if self._max_pages is not None and self.pages >= self._max_pages:
            raise PaginationError(
                f"more than max_pages={self._max_pages} pages of {self._what}; raise max_pages or narrow the request"
            )
        self._seen.add(digest)
        return token


def _digest(token: str) -> bytes:
    import hashlib  # with the second page, not with every client (3 ms of import)

    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


PageT = TypeVar("PageT")
ItemT = TypeVar("ItemT")


class SyncPager(Generic[PageT, ItemT]):
    """``for item in pager`` walks every item; ``pager.pages`` yields each page's response.

    A repeated page token, or more than ``max_pages`` pages (``None``: no limit; set it on
    the pager before iterating), raises :class:`~eerest.PaginationError`."""

    def __init__(
        self,
        fetch: Callable[[str | None], PageT],
        items_field: str | None,
        first_token: str | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._items_field = items_field
        self._first_token = first_token
        self.max_pages = max_pages

    @property
    def pages(self) -> Iterator[PageT]:
        tokens = PageTokens(self._first_token, self._items_field, self.max_pages)
        token = self._first_token
        while True:
            page = self._fetch(token)
            yield page
            token = tokens.next(page)
            del page  # hold one page at a time, not two, while the next one arrives
            if token is None:
                return

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.pages:
            items = _items(page, self._items_field)
            del page  # hold one page at a time
            yield from items
            del items

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._items_field or 'pages'}>"


class AsyncPager(Generic[PageT, ItemT]):
    """``async for item in pager`` walks every item; ``pager.pages`` is an async iterator of
    pages; ``max_pages`` and repeated tokens as :class:`SyncPager`."""

    def __init__(
        self,
        fetch: Callable[[str | None], Awaitable[PageT]],
        items_field: str | None,
        first_token: str | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._items_field = items_field
        self._first_token = first_token
        self.max_pages = max_pages

    @property
    async def pages(self) -> AsyncIterator[PageT]:
        tokens = PageTokens(self._first_token, self._items_field, self.max_pages)
        token = self._first_token
        while True:
            page = await self._fetch(token)
            yield page
            token = tokens.next(page)
            del page  # hold one page at a time, not two, while the next one arrives
            if token is None:
                return

    async def _items(self) -> AsyncIterator[ItemT]:
        async for page in self.pages:
            items = _items(page, self._items_field)
            del page  # hold one page at a time
            for item in items:
                yield item
            del items

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self._items()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._items_field or 'pages'}>"


