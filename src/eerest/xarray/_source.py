"""What a source is, from its metadata alone: its images (in time order), bands, types,
start times and properties. Opening costs one ``assets.get`` for an asset name (or one
1x1-pixel request for a computed image without ``band_dtypes``) plus the ``computeImages``
pages of a collection, never a request per image."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from eerest import limits
from eerest._ee import is_ee_object, to_expression
from eerest.errors import InvalidRequestError, ResponseDecodeError
from eerest.tiling import PixelGrid, Window

from ._expressions import collection_image, load

__all__ = [
    "ImageRef",
    "SourceInfo",
    "describe_source",
    "expression_dict",
    "is_asset_name",
    "looks_like_collection",
    "scalar_properties",
]

#: Functions whose result is an ImageCollection (the others give an Image); ``ee`` objects
#: say what they are, and ``collection=`` overrides the guess.
_COLLECTION_FUNCTIONS = frozenset(
    {
        "ImageCollection.load",
        "ImageCollection.fromImages",
        "ImageCollection.merge",
        "Collection.filter",
        "Collection.limit",
        "Collection.map",
        "Collection.sort",
        "Collection.randomColumn",
    }
)
#: computeImages page size: the most the service returns in one page.
_PAGE_SIZE = 1000
#: Listed images whose metadata is kept for the first read of each (a page's worth: the
#: metadata of a larger collection would cost more memory than the requests it saves).
_LISTED_MAX = 1000


@dataclass(frozen=True)
class ImageRef:
    """One image to read: a stored ``asset`` (read with getPixels) or an ``expression``
    (an Image, read with computePixels); ``bands`` maps its band ids to their types as served."""

    asset: str | None
    expression: dict[str, Any] | None
    bands: Mapping[str, np.dtype[Any]]
    start_time: dt.datetime | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    label: str = "the image"


@dataclass(frozen=True)
class SourceInfo:
    """A source's images (in time order) and bands; ``dtypes`` are the variables' types
    (the images' own, widened without loss where images of a collection differ)."""

    is_collection: bool
    band_ids: tuple[str, ...]
    dtypes: tuple[np.dtype[Any], ...]
    images: tuple[ImageRef, ...]
    native_grid: PixelGrid | None
    properties: Mapping[str, Any]
    #: the stored images' metadata as listed (``EarthEngineAsset`` by name), what their
    #: ``assets.get`` would answer: see :meth:`WindowReader.read`
    listed: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def is_asset_name(source: Any) -> bool:
    return isinstance(source, str) and source.startswith("projects/") and "/assets/" in source


def describe_source(
    client: Any,
    source: Any,
    *,
    grid: PixelGrid | None,
    band_ids: Sequence[str] | None,
    band_dtypes: Sequence[DTypeLike] | None,
    collection: bool | None,
) -> SourceInfo:
    """Fetch ``source``'s metadata (see the module's docstring for what that costs)."""
    if isinstance(source, str):
        if not is_asset_name(source):
            raise InvalidRequestError(
                f"source {source!r} is not an asset name: use 'projects/<project>/assets/<path>' "
                "(public data: 'projects/earthengine-public/assets/<ID>') or pass an expression"
            )
        asset = client.projects.assets.get(name=source)
        kind = _enum(asset.type)
        if kind == "IMAGE":
            image = _image_ref(asset, source, None)
            return _info(False, [image], band_ids, asset.properties or {}, _native_grid(asset))
        if kind == "IMAGE_COLLECTION":
            listed: dict[str, Any] = {}
            images, native = _list_images(client, load("ImageCollection.load", source), stored=True, listed=listed)
            return _info(True, images, band_ids, asset.properties or {}, native, listed)
        raise InvalidRequestError(f"asset {source!r} is a {kind}, not an IMAGE or IMAGE_COLLECTION")

    expression = expression_dict(source)
    if collection is None:
        collection = looks_like_collection(source, expression)
    if collection:
        images, native = _list_images(client, expression, stored=False)
        return _info(True, images, band_ids, {}, native)
    if grid is None:
        raise InvalidRequestError("a computed image has no native grid: pass grid= (e.g. PixelGrid.from_bbox(...))")
    bands = _computed_bands(client, expression, grid, band_ids, band_dtypes)
    return _info(False, [ImageRef(None, expression, bands, label="the computed image")], band_ids, {}, None)


def expression_dict(source: Any) -> dict[str, Any]:
    value = to_expression(source)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, Mapping):
        value = to_dict()
    if not isinstance(value, Mapping) or "result" not in value or "values" not in value:
        raise InvalidRequestError(
            f"source must be an asset name, an Expression (dict with 'result' and 'values'), or an ee.Image / "
            f"ee.ImageCollection, not {type(source).__name__}"
        )
    return {"result": value["result"], "values": dict(value["values"])}


def looks_like_collection(source: Any, expression: Mapping[str, Any]) -> bool:
    if is_ee_object(source):
        return any(cls.__name__ == "ImageCollection" for cls in type(source).__mro__)
    if not expression:
        return False
    node = expression["values"].get(expression["result"]) or {}
    name = (node.get("functionInvocationValue") or {}).get("functionName")
    return name in _COLLECTION_FUNCTIONS


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value))


def _dtype(band: Any, where: str) -> np.dtype[Any]:
    data_type = band.data_type
    dtype = None
    if data_type is not None and data_type.precision is not None:
        rng = data_type.range
        dtype = limits.dtype_for_pixel_type(
            _enum(data_type.precision), getattr(rng, "min", None), getattr(rng, "max", None)
        )
    if dtype is None:
        raise InvalidRequestError(
            f"the type of band {band.id!r} of {where} is unknown (dataType {data_type!r}); "
            "cast it on the server (e.g. Image.toFloat) first"
        )
    return dtype


def _image_ref(asset: Any, name: str | None, expression: dict[str, Any] | None) -> ImageRef:
    label = name or str(asset.name or asset.id or "an image")
    bands = {b.id: _dtype(b, label) for b in asset.bands or []}
    return ImageRef(name, expression, bands, asset.start_time, dict(asset.properties or {}), label)


def _native_grid(asset: Any) -> PixelGrid | None:
    for band in asset.bands or []:
        if band.grid is not None:
            try:
                return PixelGrid.from_api(band.grid)
            except InvalidRequestError:
                return None
    return None


def _list_images(
    client: Any, expression: dict[str, Any], *, stored: bool, listed: dict[str, Any] | None = None
) -> tuple[list[ImageRef], PixelGrid | None]:
    """Every image of the collection (all computeImages pages) and the first one's native
    grid; ``listed`` receives each stored image's listed metadata by name."""
    images: list[ImageRef] = []
    native: PixelGrid | None = None
    for asset in client.projects.image_collection.compute_images(expression=expression, page_size=_PAGE_SIZE):
        name = asset.name or (f"projects/earthengine-public/assets/{asset.id}" if asset.id else None)
        if stored:
            if not name:
                raise ResponseDecodeError(f"computeImages listed image {len(images)} without a name")
            images.append(_image_ref(asset, name, None))
            if listed is not None and len(listed) < _LISTED_MAX:
                listed[name] = asset
        else:
            index = (asset.id or asset.name or "").rsplit("/", 1)[-1]
            if not index:
                raise InvalidRequestError(
                    f"image {len(images)} of the computed collection has no id, so it cannot be read alone; "
                    "build the collection from stored images (their system:index identifies them)"
                )
            images.append(_image_ref(asset, None, collection_image(expression, index)))
        if native is None:
            native = _native_grid(asset)
    if not images:
        raise InvalidRequestError("the image collection is empty: there is nothing to open")
    return images, native


def _computed_bands(
    client: Any,
    expression: dict[str, Any],
    grid: PixelGrid,
    band_ids: Sequence[str] | None,
    band_dtypes: Sequence[DTypeLike] | None,
) -> dict[str, np.dtype[Any]]:
    """The bands of a computed image: ``band_ids`` with ``band_dtypes``, or what the header
    of one 1x1-pixel NPY request says."""
    if band_dtypes is not None:
        if band_ids is None or len(band_ids) != len(band_dtypes):
            raise InvalidRequestError("band_dtypes needs band_ids of the same length (one type per band)")
        return {b: limits.pixel_dtype(d) for b, d in zip(band_ids, band_dtypes, strict=True)}
    probe = client.projects.image.compute_pixels(
        expression=expression,
        file_format="NPY",
        grid=grid.window(Window(0, 0, 1, 1)).to_api(),
        band_ids=list(band_ids) if band_ids else None,
    ).to_numpy()
    if probe.dtype.names is None:
        raise ResponseDecodeError("computePixels answered NPY without band names")
    return {name: probe.dtype.fields[name][0] for name in probe.dtype.names}


def _widen(dtypes: Sequence[np.dtype[Any]], band: str) -> np.dtype[Any]:
    result = dtypes[0]
    for d in dtypes[1:]:
        result = np.promote_types(result, d)
    if result.kind == "f" and any(d.kind != "f" for d in dtypes):
        raise InvalidRequestError(
            f"band {band!r} has types {sorted({str(d) for d in dtypes})} in different images, and no integer type "
            "holds them all; cast it on the server (e.g. Image.toInt32 or toFloat) or select fewer images"
        )
    return result


def _time_key(image: ImageRef) -> tuple[bool, float]:
    return (image.start_time is None, image.start_time.timestamp() if image.start_time else 0.0)


def _info(
    is_collection: bool,
    images: list[ImageRef],
    band_ids: Sequence[str] | None,
    properties: Mapping[str, Any],
    native: PixelGrid | None,
    listed: Mapping[str, Any] | None = None,
) -> SourceInfo:
    ids = tuple(band_ids) if band_ids else tuple(images[0].bands)
    if not ids:
        raise InvalidRequestError(f"{images[0].label} has no bands to read")
    if len(set(ids)) != len(ids):
        raise InvalidRequestError(f"band_ids repeats a band: {list(ids)}")
    for image in images:
        missing = [b for b in ids if b not in image.bands]
        if missing:
            raise InvalidRequestError(
                f"{image.label} has no band {missing[0]!r} (it has {list(image.bands)}); pass band_ids= to choose "
                "bands that every image has"
            )
    dtypes = tuple(_widen([image.bands[b] for image in images], b) for b in ids)
    ordered = sorted(images, key=_time_key) if is_collection else images
    return SourceInfo(is_collection, ids, dtypes, tuple(ordered), native, dict(properties), dict(listed or {}))


def scalar_properties(images: Sequence[ImageRef]) -> dict[str, list[Any]]:
    """Image properties that every image has, as a scalar (number, string or bool)."""
    if not images:
        return {}
    out: dict[str, list[Any]] = {}
    for key in images[0].properties:
        values = [image.properties.get(key) for image in images]
        if all(isinstance(v, (bool, int, float, str)) for v in values):
            out[key] = values
    return out
