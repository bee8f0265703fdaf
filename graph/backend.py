"""Which store answers queries: the embedded Oxigraph build, or a remote SPARQL 1.1 endpoint.

Chosen from `settings.backend_url` (KG_BACKEND_URL, `--backend URL`): empty means the embedded
store. Both offer the same `query(...)` (pyoxigraph's signature and result types), so
`graph.queries.run`, the pages and `kg query` do not know which one they talk to. The one thing
that differs is where the dataset version comes from: the embedded build's build.json, or the
VoID graph the publisher wrote to the server.
"""

from __future__ import annotations

from pyoxigraph import Store

from graph.config import Settings
from graph.errors import KGError
from graph.remote.store import RemoteStore

BACKEND_GRAPHS = ("server", "listed")


def remote_store(settings: Settings) -> RemoteStore:
    """The remote backend the settings name (KG_BACKEND_URL, KG_BACKEND_GRAPHS)."""
    if settings.backend_graphs not in BACKEND_GRAPHS:
        raise KGError(
            f"KG_BACKEND_GRAPHS is {settings.backend_graphs!r}; expected one of "
            + ", ".join(BACKEND_GRAPHS)
        )
    return RemoteStore(
        settings.backend_url,
        base_iri=settings.base_iri,
        timeout=settings.query_timeout,
        user_agent=settings.user_agent,
        server_dataset=settings.backend_graphs == "server",
    )


def open_backend(settings: Settings) -> Store | RemoteStore:
    """The remote store when a backend URL is set, else the current build, read-only."""
    if settings.backend_url:
        return remote_store(settings)
    from graph.store import open_store

    return open_store(settings, read_only=True)

