"""Pagers for list methods: iterate items across pages, fetching a page only when needed.

A list response with one list of items (or one list of messages beside lists of strings,
such as ``unreachable``) is iterated item by item; one without (a map of items, or
several lists of messages) is iterated page by page, ``ItemT`` then being the page type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["SyncPager", "AsyncPager"]


def _field(page: object, wire_name: str) -> Any:
    """A response field by its wire name (attribute names are snake_case)."""
    for name, info in type(page).model_fields.items():  # type: ignore[attr-defined]
        if (info.alias or name) == wire_name:
            return getattr(page, name)
    return None


def _items(page: object, items_field: str | None) -> Any:
    return (page,) if items_field is None else (_field(page, items_field) or ())

PageT = TypeVar("PageT")
ItemT = TypeVar("ItemT")


class SyncPager(Generic[PageT, ItemT]):
    """``for item in pager`` walks every item; ``pager.pages`` yields each page's response."""

    def __init__(self, fetch: Callable[[str | None], PageT], items_field: str | None, first_token: str | None = None) -> None:
        self._fetch = fetch
        self._items_field = items_field
        self._first_token = first_token

    @property
    def pages(self) -> Iterator[PageT]:
        token = self._first_token
        while True:
            page = self._fetch(token)
            yield page
            token = _field(page, "nextPageToken")
            del page  # hold one page at a time, not two, while the next one arrives
            if not token:
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
    """``async for item in pager`` walks every item; ``pager.pages`` is an async iterator of pages."""

    def __init__(
        self, fetch: Callable[[str | None], Awaitable[PageT]], items_field: str | None, first_token: str | None = None
    ) -> None:
        self._fetch = fetch
        self._items_field = items_field
        self._first_token = first_token

    @property
    async def pages(self) -> AsyncIterator[PageT]:
        token = self._first_token
        while True:
            page = await self._fetch(token)
            yield page
            token = _field(page, "nextPageToken")
            del page  # hold one page at a time, not two, while the next one arrives
            if not token:
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


