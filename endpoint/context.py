"""Per-process state of the app: settings, the read-only store, the dataset version, the query pool.

Views reach it with `get_kg()`, the way the Flask tutorial's views reach the database with
`get_db()`. Nothing here is module-level: each app (and each test) gets its own.

The build is resolved and pinned once, here (graph.store.pin_current_build): the build swaps the
`store` symlink atomically, and a process keeps serving the build it pinned (its ETags carry that
build's version) until it is restarted (`kill -HUP` the gunicorn master after `kg build`). The pin
keeps `kg build` from pruning the directory under a running server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app
from pyoxigraph import Store

from endpoint.http.caching import ResponseCache, init_caching
from graph.config import Settings

FEDERATION_PROCESSES = 2  # federated queries are rare and wait on remote endpoints

if TYPE_CHECKING:
    from endpoint.sparql.lanes import Lanes
    from endpoint.sparql.pool import QueryPool


@dataclass
class KGContext:
    settings: Settings
    store: Store | None
    version: str
    store_dir: str = ""
    prefixes: dict[str, str] = field(default_factory=dict)
    pool: Lanes | QueryPool | None = None  # created in init_context
    federation: QueryPool | None = None  # allow-listed SERVICE queries (KG_SERVICE_ALLOWLIST)
    pinned: object | None = None  # graph.store.PinnedBuild held for the process's lifetime
    # finished GET answers by ETag, for /sparql and the pages alike (endpoint/http/caching.py)
    response_cache: ResponseCache = None  # type: ignore[assignment]  # made from the settings
    _named_graphs: list | None = None

    def __post_init__(self) -> None:
        if self.response_cache is None:
            self.response_cache = ResponseCache.from_settings(self.settings)

    def named_graphs(self) -> list:
        """The store's named graphs, listed once per process (the store never changes under us)."""
        if self._named_graphs is None:
            from endpoint.sparql.service_description import named_graphs

            self._named_graphs = named_graphs(self.store) if self.store is not None else []
        return self._named_graphs


def init_context(app: Flask, settings: Settings) -> KGContext:
    """Open the built store read-only once for this process and set up the query workers."""
    from endpoint.sparql.lanes import Lanes
    from graph.errors import StoreMissing
    from graph.queries import query_prefixes
    from graph.store import pin_current_build

    if settings.backend_url:  # a remote SPARQL endpoint answers instead
        return _init_remote(app, settings)
    pinned = pin_current_build(settings)
    store_dir = str(pinned.store_dir)
    try:
        store = Store.read_only(store_dir)
    except OSError as err:
        raise StoreMissing(f"cannot open the store at {store_dir}: {err}") from err
    ctx = KGContext(
        settings=settings,
        store=store,
        version=pinned.version,
        store_dir=store_dir,
        prefixes=query_prefixes(settings.base_iri),
        pool=Lanes(store_dir, settings),  # fast and heavy lanes of query processes
        federation=_federation_pool(store_dir, settings),
        pinned=pinned,
    )
    app.extensions["kg"] = ctx
    init_caching(app, ctx)
    return ctx


def _federation_pool(store_dir: str, settings: Settings) -> QueryPool | None:
    """Processes that may reach the allow-listed ports only (endpoint/sparql/sandbox.py), so
    the lanes' processes stay fully offline; none when nothing is allow-listed."""
    from endpoint.sparql import sandbox
    from endpoint.sparql.pool import QueryPool

    if not settings.service_allowlist:
        return None
    ports, names = sandbox.allowance(settings.service_allowlist)
    return QueryPool(store_dir, size=FEDERATION_PROCESSES, timeout=settings.query_timeout,
                     profile=sandbox.profile_for(settings.sandbox, federation=True),
                     allowed_ports=ports, resolve_names=names)


def _init_remote(app: Flask, settings: Settings) -> KGContext:
    """The same context over a remote endpoint (graph/remote/store.py): the pages query it through
    the store's interface, /sparql through a pool that runs jobs in the request's thread."""
    from endpoint.sparql.remote_pool import RemotePool
    from graph.backend import remote_store
    from graph.queries import query_prefixes

    store = remote_store(settings)
    ctx = KGContext(
        settings=settings,
        store=store,  # type: ignore[arg-type]  # RemoteStore: the part of Store the app uses
        version=store.version(),
        prefixes=query_prefixes(settings.base_iri),
        pool=RemotePool(store),
    )
    app.extensions["kg"] = ctx
    init_caching(app, ctx)
    return ctx


def get_kg() -> KGContext:
    return current_app.extensions["kg"]
