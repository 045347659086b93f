"""Pictures of whole image collections: filmstrips (every image in one PNG or JPEG, side by side
or top to bottom) and video thumbnails (an animated GIF, one frame per image), as
``getFilmstripThumbURL`` and ``getVideoThumbURL`` fetch them."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from ._encode import encode_picture, visualize
from ._errors import invalid_argument, unimplemented
from ._grid import resolve_grid
from ._image import Image, ImageCollection
from ._limits import check_request

__all__ = ["filmstrip", "video_thumbnail"]

_DEFAULT_FPS = 5.0
_DEFAULT_MAX_FRAMES = 1000
_DEFAULT_MAX_PIXELS_PER_FRAME = 1e8


def _frames(collection: ImageCollection, body: dict[str, Any], max_pixels: float) -> list[np.ndarray]:
    """Each image of the collection as 8-bit RGBA on its grid, all the same size."""
    if not collection.images:
        raise invalid_argument("The image collection is empty: there is nothing to draw.")
    frames = []
    for i, image in enumerate(collection.images):
        frames.append(_rgba(image, body, max_pixels, i))
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        sizes = ", ".join(sorted(f"{w}x{h}" for h, w, _ in shapes))
        raise invalid_argument(
            f"The images of the collection have different sizes ({sizes}): give them one grid "
            "(dimensions and region, or clipToBoundsAndScale) so that they can be drawn together."
        )
    return frames


def _rgba(image: Image, body: dict[str, Any], max_pixels: float, index: int) -> np.ndarray:
    bands = image.bands
    if not bands:
        raise invalid_argument(f"Image {index} of the collection has no bands to draw.")
    native = next((b.grid for b in bands if b.grid is not None and b.grid.width is not None), None)
    grid = resolve_grid(body.get("grid"), native)
    dtypes = [b.ptype.dtype for b in bands]
    check_request(grid.width, grid.height, dtypes)  # type: ignore[arg-type]
    if grid.width * grid.height > max_pixels:  # type: ignore[operator]
        raise invalid_argument(
            f"Image {index} of the collection is {grid.width}x{grid.height} pixels, more than "
            f"maxPixelsPerFrame ({int(max_pixels)})."
        )
    rendered = [b.render(grid) for b in bands]
    return visualize(
        [b.name for b in bands], [v for v, _ in rendered], [ok for _, ok in rendered], dtypes,
        body.get("visualizationOptions"),
    )


def filmstrip(collection: ImageCollection, body: dict[str, Any]) -> tuple[bytes, str]:
    """(PNG or JPEG bytes, content type) of a FilmstripThumbnail request."""
    fmt = body.get("fileFormat") or "PNG"
    if fmt == "IMAGE_FILE_FORMAT_UNSPECIFIED":
        fmt = "PNG"
    if fmt not in ("PNG", "JPEG", "AUTO_JPEG_PNG"):
        raise invalid_argument(f"Filmstrip thumbnails are PNG or JPEG, not {fmt}.")
    frames = _frames(collection, body, _DEFAULT_MAX_PIXELS_PER_FRAME)
    horizontal = body.get("orientation") == "HORIZONTAL"
    strip = np.concatenate(frames, axis=1 if horizontal else 0)
    return encode_picture(fmt, strip)


def video_thumbnail(collection: ImageCollection, body: dict[str, Any]) -> tuple[bytes, str]:
    """(GIF bytes, content type) of a VideoThumbnail request: one frame per image."""
    fmt = body.get("fileFormat") or "GIF"
    if fmt == "VIDEO_FILE_FORMAT_UNSPECIFIED":
        fmt = "GIF"
    if fmt != "GIF":
        raise unimplemented(f"A video thumbnail as {fmt} (GIF is served)")
    options = body.get("videoOptions") or {}
    fps = float(options.get("framesPerSecond") or _DEFAULT_FPS)
    if not 0.1 <= fps <= 120:
        raise invalid_argument(f"framesPerSecond must be between 0.1 and 120, got {fps}.")
    max_frames = int(options.get("maxFrames") or _DEFAULT_MAX_FRAMES)
    if len(collection.images) > max_frames:
        raise invalid_argument(
            f"The collection has {len(collection.images)} images, more than maxFrames ({max_frames})."
        )
    max_pixels = float(options.get("maxPixelsPerFrame") or _DEFAULT_MAX_PIXELS_PER_FRAME)
    frames = _frames(collection, body, max_pixels)
    from PIL import Image as PILImage

    pictures = [PILImage.fromarray(np.ascontiguousarray(f[..., :3]), "RGB") for f in frames]
    buf = io.BytesIO()
    pictures[0].save(buf, "GIF", save_all=True, append_images=pictures[1:], duration=round(1000 / fps), loop=0)
    return buf.getvalue(), "image/gif"
