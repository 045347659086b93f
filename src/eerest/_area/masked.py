"""``mask=True``: each tile carries one validity band per band (1: data, 0: masked, see
:func:`eerest._fill.masked_expression`); :class:`MaskedSink` sends the values to the output's
sink and the masks, turned into numpy.ma's convention (True: masked), to a mask sink."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eerest._area.receive import TileWriter
from eerest._area.sinks import Sink, _RowsWriter
from eerest.tiling import Window

__all__ = ["MaskedSink", "mask_dtype"]


def mask_dtype(names: Sequence[str]) -> np.dtype[Any]:
    """The structured mask of bands ``names``: one bool field each, True where masked."""
    return np.dtype([(n, np.bool_) for n in names])


def _packed(dtype: np.dtype[Any], names: Sequence[str]) -> np.dtype[Any]:
    return np.dtype([(n, dtype.fields[n][0]) for n in names])  # type: ignore[index]


class MaskedSink(Sink):
    """Splits tiles of ``dtype`` (the bands, then as many validity bands) between ``data``
    (a sink of the bands) and ``masks`` (a sink of :func:`mask_dtype`)."""

    def __init__(self, dtype: np.dtype[Any], data: Sink, masks: Sink, result: str = "masked_array") -> None:
        super().__init__(dtype, data.height, data.width)
        self.data = data
        self.masks = masks
        self.count = len(data.names)
        self._result = result

    def writer(self, window: Window, tile_dtype: np.dtype[Any], bands: Sequence[int]) -> TileWriter:
        n = self.count
        data_bands = [b for b in bands if b < n]
        mask_bands = [b - n for b in bands if b >= n]
        data_names = [self.names[b] for b in data_bands]
        valid_names = [self.names[b + n] for b in mask_bands]
        mask_names = [self.data.names[b] for b in mask_bands]
        data_dtype = _packed(tile_dtype, data_names) if data_bands else None
        masks_dtype = mask_dtype(mask_names) if mask_bands else None
        data_writer = self.data.writer(window, data_dtype, data_bands) if data_dtype is not None else None
        mask_writer = self.masks.writer(window, masks_dtype, mask_bands) if masks_dtype is not None else None
        width = window.width

        def put_rows(row: int, rows: np.ndarray) -> None:
            if data_writer is not None and data_dtype is not None:
                values = np.empty(rows.shape, data_dtype)
                for name in data_names:
                    values[name] = rows[name]
                data_writer.write(row * width * data_dtype.itemsize, memoryview(values.reshape(-1).view(np.uint8).data))
            if mask_writer is not None and masks_dtype is not None:
                masked = np.empty(rows.shape, masks_dtype)
                for name, valid in zip(mask_names, valid_names, strict=True):
                    masked[name] = rows[valid] == 0
                mask_writer.write(
                    row * width * masks_dtype.itemsize, memoryview(masked.reshape(-1).view(np.uint8).data)
                )

        def close() -> None:
            for writer in (data_writer, mask_writer):
                if writer is not None:
                    writer.close()

        return _RowsWriter(tile_dtype, width, put_rows, close)

    def prepare(self, window: Window) -> None:
        self.data.prepare(window)
        self.masks.prepare(window)

    def finish(self) -> Any:
        values = self.data.finish()
        masks = self.masks.finish()
        if self._result == "masked_array":
            return np.ma.MaskedArray(values, mask=masks)
        return values

    def abort(self) -> None:
        self.data.abort()
        self.masks.abort()
