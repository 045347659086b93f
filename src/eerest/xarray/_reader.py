"""Reading one band of one image over a window of the dataset's grid: one request, or a
few when the window would break a request limit. Picklable: it carries a client
configuration, and finds this process's client when it first reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from eerest import limits
from eerest._core.overlay import Fetch
from eerest._core.port import ClientPort
from eerest.errors import ResponseDecodeError
from eerest.tiling import PixelGrid, Tile, Window, plan_tiles

from ._config import ClientConfig, client_for
from ._expressions import load, unmask
from ._fill import DEFAULT_FILL_VALUE, FillValue
from ._source import ImageRef

__all__ = ["WindowReader"]


class WindowReader:
    """Reads windows of ``images`` on ``grid``; masked pixels become ``fills[band]``.

    ``client`` is used in this process when given; a copy of the reader in another
    process (a dask worker) uses that process's client for ``config`` instead.
    """

    def __init__(
        self,
        config: ClientConfig,
        grid: PixelGrid,
        images: tuple[ImageRef, ...],
        fills: Mapping[str, FillValue],
        *,
        max_request_bytes: int = limits.MAX_REQUEST_BYTES,
        client: Any = None,
        listed: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.grid = grid
        self.images = images
        self.fills = dict(fills)
        self.max_request_bytes = max_request_bytes
        self._client = client
        #: images' metadata from the listing at open, not yet given to this process's client
        self._listed = dict(listed or {})

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_client"] = None  # a live client (sockets, credentials) never leaves its process
        state["_listed"] = {}  # nor the listing (another process's client fetches what it needs)
        return state

    def __repr__(self) -> str:
        return f"WindowReader({len(self.images)} image(s), {self.grid.width}x{self.grid.height} grid)"

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else client_for(self.config)

    def read(self, index: int, band: str, window: Window, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
        """``band`` of image ``index`` over ``window`` as a (height, width) array of ``dtype``:
        the response's own buffer when one request covers it (no copy), else assembled."""
        tiles = self._plan(index, band, window)
        if len(tiles) == 1:
            values = self._checked(index, band, tiles[0], dtype)
            return values.astype(dtype, copy=False)
        out = np.empty((window.height, window.width), dtype=dtype)
        self._fill(index, band, window, tiles, out)
        return out

    def read_into(self, index: int, band: str, window: Window, out: np.ndarray[Any, Any]) -> None:
        """Write ``band`` of image ``index`` over ``window`` into ``out`` (shape (height, width))."""
        self._fill(index, band, window, self._plan(index, band, window), out)

    def _plan(self, index: int, band: str, window: Window) -> tuple[Tile, ...]:
        served = self.images[index].bands[band]
        return plan_tiles(self.grid, [served], max_tile_bytes=self.max_request_bytes, window=window).tiles

    def _fill(self, index: int, band: str, window: Window, tiles: tuple[Tile, ...], out: np.ndarray[Any, Any]) -> None:
        for tile in tiles:
            out[tile.window.relative_to(window).slices] = self._checked(index, band, tile, out.dtype)

    def _checked(self, index: int, band: str, tile: Tile, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
        image = self.images[index]
        values = self._request(image, band, tile.grid)
        if values.shape != (tile.window.height, tile.window.width):
            raise ResponseDecodeError(
                f"{image.label}: the server sent {values.shape[1]}x{values.shape[0]} pixels of band {band!r} "
                f"for a request of {tile.window.width}x{tile.window.height}"
            )
        if not np.can_cast(values.dtype, dtype, "safe"):
            raise ResponseDecodeError(
                f"{image.label}: band {band!r} arrived as {values.dtype}, which does not fit the dataset's "
                f"{dtype} without loss (the metadata said {image.bands[band]})"
            )
        return values

    def _seed(self, client: Any, name: str) -> None:
        """Give ``client`` the image's metadata as listed at open, once: getPixels checks its
        answer against the asset's bands, and would otherwise fetch them (one ``assets.get``
        per image) the same way the listing already did."""
        asset = self._listed.pop(name, None)
        if asset is not None:
            ClientPort(client).remember(Fetch("projects.assets.get", {"name": name}), asset)

    def _request(self, image: ImageRef, band: str, grid: PixelGrid) -> np.ndarray[Any, Any]:
        served = image.bands[band]
        fill = self.fills.get(band, DEFAULT_FILL_VALUE)
        client = self.client
        pixels_api = client.projects
        if fill == DEFAULT_FILL_VALUE and image.asset is not None:
            self._seed(client, image.asset)
            pixels = pixels_api.assets.get_pixels(
                name=image.asset, file_format="NPY", band_ids=[band], grid=grid.to_api()
            )
        else:
            expression = image.expression if image.expression is not None else load("Image.load", str(image.asset))
            if fill != DEFAULT_FILL_VALUE:
                expression = unmask(expression, [fill])
            pixels = pixels_api.image.compute_pixels(
                expression=expression, file_format="NPY", band_ids=[band], grid=grid.to_api(), band_dtypes=[served]
            )
        array = pixels.to_numpy()
        if array.dtype.names is None or band not in array.dtype.names:
            raise ResponseDecodeError(f"{image.label}: the response has no band {band!r} (it has {array.dtype.names})")
        return array[band]  # type: ignore[no-any-return]
