"""What a dask worker needs to build its own client: a picklable configuration, never a
live client, socket or token, and one client per process made from it on first use."""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import google.auth.credentials
import httpx

from eerest._core.limiter import DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_REQUESTS_PER_SECOND
from eerest.errors import InvalidRequestError

__all__ = ["ApiVersion", "ClientConfig", "CredentialsFactory", "client_for"]

ApiVersion = Literal["v1alpha", "v1beta", "v1"]
#: A picklable callable returning fresh credentials on whichever process calls it: a
#: module-level function (pickled by reference, so no token travels), for example
#: ``lambda``-free ``google.auth.default`` wrappers or ``eerest_emulator.testing.emulator_credentials``.
CredentialsFactory = Callable[[], google.auth.credentials.Credentials]

_VERSIONS = ("v1alpha", "v1beta", "v1")


@dataclass(frozen=True)
class ClientConfig:
    """How to build an eerest client anywhere: project, endpoint, API version, retry,
    timeout and concurrency settings, and where credentials come from.

    ``credentials`` is a :data:`CredentialsFactory` called on each process that builds a
    client, or ``None`` for Application Default Credentials resolved there. The limits
    (``max_concurrency``, ``max_requests_per_second``; ``None``: no cap) apply per process:
    with dask, ``workers x max_concurrency`` requests can be in flight in total.
    ``cluster_max_concurrency`` (opt-in) caps the requests in flight across a whole
    dask.distributed cluster, with a ``distributed.Semaphore`` every worker's client takes a
    lease of for each request (one scheduler round trip each; an ``AsyncClient`` from
    :meth:`create_async` takes it off the event loop); without a distributed client it lowers
    this process's own limit to it.
    """

    project: str | None = None
    base_url: str | None = None
    api_version: ApiVersion = "v1"
    credentials: CredentialsFactory | None = None
    timeout: float | None = None
    max_retries: int | None = None
    max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY
    max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND
    quota_project: str | None = None
    cluster_max_concurrency: int | None = None
    _portable: bool = field(default=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.cluster_max_concurrency
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise InvalidRequestError(f"cluster_max_concurrency must be a positive integer or None, not {n!r}")
        if self.api_version not in _VERSIONS:
            raise InvalidRequestError(f"api_version must be one of {', '.join(_VERSIONS)}, not {self.api_version!r}")
        if self.credentials is not None and not callable(self.credentials):
            raise InvalidRequestError(
                "ClientConfig.credentials must be a callable that returns credentials (a credentials factory), "
                f"not {type(self.credentials).__name__}: credentials objects hold tokens and are never pickled"
            )

    @classmethod
    def from_client(cls, client: Any, credentials: CredentialsFactory | None = None) -> ClientConfig:
        """The configuration of a live ``client``; its credentials are re-created on other
        processes by ``credentials``, or by Application Default Credentials when the client
        itself resolves them lazily. A client built with explicit credentials and no factory
        still works in this process, but refuses to be shipped to another one."""
        api = getattr(type(client), "_api", None)
        version: ApiVersion = getattr(api, "version", "v1")
        timeout = getattr(client, "timeout", None)
        if isinstance(timeout, httpx.Timeout):
            timeout = timeout.read
        explicit = getattr(getattr(client, "_auth", None), "_credentials", None) is not None
        return cls(
            project=client.project,
            base_url=client.base_url,
            api_version=version,
            credentials=credentials,
            timeout=timeout,
            max_retries=getattr(client, "max_retries", None),
            max_concurrency=client.limiter.max_concurrency,
            max_requests_per_second=client.limiter.max_requests_per_second,
            _portable=credentials is not None or not explicit,
        )

    def create(self) -> Any:
        """A new client of this configuration (its own connections and limiter)."""
        return self._build("Client")

    def create_async(self) -> Any:
        """A new ``AsyncClient`` of this configuration: the same limits, including
        ``cluster_max_concurrency`` (its semaphore's blocking calls run in the event loop's
        default executor, never in the loop)."""
        return self._build("AsyncClient")

    def _build(self, kind: str) -> Any:
        module = importlib.import_module(f"eerest.{self.api_version}")
        kwargs: dict[str, Any] = {"project": self.project, "base_url": self.base_url}
        if self.credentials is not None:
            kwargs["credentials"] = self.credentials()
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        if self.max_retries is not None:
            kwargs["max_retries"] = self.max_retries
        gate = self._cluster_gate()
        local = self.max_concurrency
        if self.cluster_max_concurrency is not None and gate is None:
            local = min(local or self.cluster_max_concurrency, self.cluster_max_concurrency)
        client = getattr(module, kind)(
            **kwargs,
            quota_project=self.quota_project,
            max_concurrency=local,
            max_requests_per_second=self.max_requests_per_second,
        )
        client.limiter.gate = gate
        return client

    def _cluster_gate(self) -> Any:
        """The cluster-wide semaphore for ``cluster_max_concurrency``, when this process is
        part of (or drives) a dask.distributed cluster; ``None`` otherwise."""
        if self.cluster_max_concurrency is None:
            return None
        try:
            from distributed import Semaphore, get_client

            get_client()
        except (ImportError, ValueError):  # no distributed, or no cluster here
            return None
        name = f"eerest:{self.project}:{self.base_url}:{self.cluster_max_concurrency}"
        return _ClusterGate(Semaphore(max_leases=self.cluster_max_concurrency, name=name))  # type: ignore[no-untyped-call]

    def __reduce__(self) -> Any:
        if not self._portable:
            raise InvalidRequestError(
                "this dataset was opened with a client whose credentials cannot be re-created on another process "
                "(they were passed as an object, and credentials are never pickled); pass "
                "credentials_factory=<a module-level function returning credentials> to eerest.xarray.open_dataset, "
                "or omit credentials so that each worker uses Application Default Credentials"
            )
        values = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "_portable"}
        return (_rebuild, (values,))


class _ClusterGate:
    """A client's ``distributed.Semaphore`` as its limiter's gate, which the client's close
    stops: the semaphore refreshes its leases every few seconds (a callback on the dask
    client's event loop, which also keeps it alive), for as long as nothing stops it. Its
    other attributes (``get_value``, ``name``, ...) are the semaphore's."""

    def __init__(self, semaphore: Any) -> None:
        self.semaphore = semaphore
        self._lock = threading.Lock()
        self._stopped = False

    def acquire(self, timeout: float | None = None) -> bool:
        with self._lock:
            if self._stopped:  # the client is used again after its close
                self._stopped = False
                self._call_on_loop("start")
        return bool(self.semaphore.acquire(timeout))

    def release(self) -> Any:
        return self.semaphore.release()

    def stop(self) -> None:
        """Stop refreshing leases (those still held then end with the scheduler's lease
        timeout); the semaphore itself stays, shared by the cluster's other clients."""
        with self._lock:
            if not self._stopped:
                self._stopped = True
                self._call_on_loop("stop")

    def _call_on_loop(self, method: str) -> None:
        callback = getattr(self.semaphore, "refresh_callback", None)  # none with an infinite lease timeout
        loop = getattr(self.semaphore, "_loop", None)
        if callback is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed (the cluster is gone): nothing runs
            loop.add_callback(getattr(callback, method))

    def __getattr__(self, name: str) -> Any:
        if name == "semaphore":  # not set yet (a copy in the making)
            raise AttributeError(name)
        return getattr(self.semaphore, name)

    def __repr__(self) -> str:
        return f"<cluster gate {self.semaphore!r}>"


def _rebuild(values: dict[str, Any]) -> ClientConfig:
    return ClientConfig(**values)


class _ProcessClients:
    """One client per configuration in this process, built on first use and reused by
    every task (and thread) that reads with it, so that they share one limiter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[ClientConfig, Any] = {}

    def get(self, config: ClientConfig) -> Any:
        with self._lock:
            client = self._clients.get(config)
            if client is None:
                client = self._clients[config] = config.create()
            return client

    def forget(self) -> None:
        """After a fork: the parent's connections and limiter are not this process's."""
        self._lock = threading.Lock()
        self._clients = {}


_PROCESS_CLIENTS = _ProcessClients()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_PROCESS_CLIENTS.forget)


def client_for(config: ClientConfig) -> Any:
    """This process's client for ``config`` (created on first use)."""
    return _PROCESS_CLIENTS.get(config)
