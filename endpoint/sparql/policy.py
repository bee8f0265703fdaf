"""The policy of a public, anonymous endpoint: read-only, no outgoing requests, bounded input.

Enforced on the scan of `endpoint.sparql.query_scan` before anything executes, because
pyoxigraph would otherwise contact any `SERVICE` address itself. Updates could not run anyway (the
executor only ever calls `Store.query` on a read-only store); refusing them here gives the
caller a clear 403 instead of a parser message.
"""

from __future__ import annotations

from endpoint.http.errors import ProtocolError
from endpoint.sparql.query_scan import QueryShape, scan
from graph.config import Settings
from graph.errors import QueryRefused

# Oxigraph parses nested groups recursively: about 2100 nested `{` overflow the query process's
# stack and kill it (issue 6, found by the fuzzer). Real queries nest a few levels.
MAX_NESTING = 256


def inspect(text: str, settings: Settings, prefixes: dict[str, str]) -> QueryShape:
    """Scan a query and refuse what the policy forbids; return the shape for the executor."""
    shape = scan(text, base_iri=settings.base_iri, prefixes=prefixes)
    if shape.is_update:
        raise QueryRefused("SPARQL Update is not allowed: this endpoint is read-only")
    if shape.depth > MAX_NESTING:
        raise ProtocolError(
            f"the query nests brackets {shape.depth} levels deep; at most {MAX_NESTING} are "
            "accepted"
        )
    for service in shape.services:
        if service.iri is None or service.iri not in settings.service_allowlist:
            allowed = " ".join(f"<{iri}>" for iri in settings.service_allowlist) or "none"
            raise QueryRefused(
                f"SERVICE refused at character {service.offset} ({service.text!r}): federated "
                f"queries may only call an allow-listed endpoint by its IRI (allowed: {allowed})"
            )
    return shape
