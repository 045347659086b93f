"""Earth Engine images and image collections as lazy xarray datasets, read with dask,
locally or on a dask.distributed cluster (``pip install 'eerest[xarray]'``)::

    import eerest.xarray

    ds = eerest.xarray.open_dataset("projects/eerest/assets/sample/scenes", client=client)
    ds = xr.open_dataset("projects/eerest/assets/sample/scenes", engine="eerest", client=client, chunks={})

Each dask chunk is one getPixels (stored images) or computePixels (computed ones) request.
Dask workers build one client per process from a picklable :class:`ClientConfig`; the
client's concurrency limit applies per process.
"""

from ._backend import EeRestBackendArray, EeRestBackendEntrypoint, open_dataset
from ._config import ClientConfig, CredentialsFactory, client_for
from ._fill import DEFAULT_FILL_VALUE

__all__ = [
    "open_dataset",
    "ClientConfig",
    "CredentialsFactory",
    "client_for",
    "EeRestBackendEntrypoint",
    "EeRestBackendArray",
    "DEFAULT_FILL_VALUE",
]
