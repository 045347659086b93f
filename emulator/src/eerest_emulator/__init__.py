"""A local Earth Engine REST emulator: the methods eerest covers, served from local data.

Run it with ``python -m eerest_emulator [--data DIR] [--host H] [--port P]`` (prints its
base URL first), in-process with ``with Emulator() as emu: ... emu.url``, or in pytest
through its plugin ``eerest_emulator.testing`` (fixtures ``ee_emulator_session``,
``ee_emulator``, ``ee_client``, ``ee_async_client``).

Served paths, for v1alpha, v1beta and v1:

- ``POST /{v}/projects/{p}/image:computePixels``
- ``POST /{v}/projects/{p}/assets/{asset}:getPixels``
- ``POST /{v}/projects/{p}/imageCollection:computeImages``
- ``GET  /{v}/projects/{p}/assets/{asset}`` (assets.get)
- ``GET  /{v}/projects/{p}:listAssets``, ``/{v}/projects/{p}/assets/{asset}:listAssets``,
  ``/{v}/projects/{p}/assets/{asset}:listImages`` (listing, with filters and pages)
- ``POST /{v}/projects/{p}/value:compute`` (what ``getInfo()`` calls)
- ``POST /{v}/projects/{p}/thumbnails``, ``GET /{v}/projects/{p}/thumbnails/{id}:getPixels``
  (``getThumbURL``, ``getDownloadURL``); ``POST /{v}/projects/{p}/maps``,
  ``GET /{v}/projects/{p}/maps/{id}/tiles/{z}/{x}/{y}`` (``getMapId``)
- ``GET  /{v}/projects/{p}/algorithms`` (algorithms.list: all of Earth Engine's algorithms
  with their real signatures; those not implemented say so, and a call of one is a 400)
- ``GET  /$discovery/rest?version={v}``
- admin (no auth): ``GET|POST|DELETE /_emulator/faults``, ``GET|DELETE /_emulator/requests``,
  ``GET|POST|DELETE /_emulator/limits`` (``{"maxConcurrent": N, "memoryLimitPixels": N}``),
  ``POST /_emulator/reset``, ``GET /_emulator/health``, ``GET|POST /_emulator/operations``
  (``{"runSeconds", "maxRunning", "maxQueued", "manualClock"}``),
  ``POST /_emulator/operations:advance`` (``{"seconds": N}``),
  ``POST|DELETE /_emulator/operations/failures`` (``{"count", "code", "message"}``)

Requests are checked against the discovery documents shipped in ``discovery/`` (copies of
the repository's ``schema/``), strictly, as the service checks them.

Data layout (asset ``projects/P/assets/a/b`` lives at ``DATA/P/a/b``):

- image: ``b.json`` (EarthEngineAsset, type IMAGE: bands with id, dataType, grid;
  properties, startTime, endTime, geometry) plus pixels ``b.npy`` (structured array
  with band-named fields, or a plain (H, W) / (bands, H, W) array) or ``b.tif``;
- image collection: ``c.json`` (type IMAGE_COLLECTION) plus a folder ``c/`` of images;
- a folder without a ``.json`` (or with one of type FOLDER) is a FOLDER asset;
- table: ``t.json`` (type TABLE) plus ``t.geojson`` (written by exports and imports).

Batch tasks (``image:export``, ``table:export``, ``map:export``, ``image:import``, ``table:import``) are
operations (``/{v}/projects/{p}/operations``: get, list, cancel, delete, wait) whose exports
write files under ``gcs/BUCKET/`` and ``drive/FOLDER/`` of the storage directory (see
`_exports`, `_operations`); assets can be created, copied, moved, patched and deleted, with
IAM policies, and project configs read and updated (`_asset_writes`). The other REST methods
of the served discovery documents answer 501 UNIMPLEMENTED naming the method.

Grids may be in any CRS pyproj knows, with any affine transform; pixels are computed at
their centres, nearest neighbour unless ``resample`` asks for bilinear. Limitations: no
pyramids (a coarse grid samples, it does not average); composites (mosaic, reducers) take
the grid of their first image.
"""

from ._algorithms import REGISTRY as ALGORITHMS
from ._app import App
from ._errors import ApiError
from ._faults import Fault, FaultInjector, ServerLimits
from ._http import RecordedRequest
from ._limits import MAX_BANDS, MAX_GRID_DIMENSION, MAX_REQUEST_BYTES
from ._operations import OperationQueue
from ._server import Emulator
from ._store import BUNDLED_DATA, AssetStore
from ._version import __version__

__all__ = [
    "ALGORITHMS",
    "App",
    "ApiError",
    "AssetStore",
    "BUNDLED_DATA",
    "Emulator",
    "Fault",
    "FaultInjector",
    "MAX_BANDS",
    "MAX_GRID_DIMENSION",
    "MAX_REQUEST_BYTES",
    "OperationQueue",
    "RecordedRequest",
    "SAMPLE_COLLECTION",
    "ServerLimits",
    "__version__",
]

#: The bundled sample image collection.
SAMPLE_COLLECTION = "projects/eerest/assets/sample/scenes"
