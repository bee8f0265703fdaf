"""The policy of a public, anonymous endpoint: read-only, no outgoing requests, bounded input.

Checked on the parse of `graph.sparql.reader` before anything executes. None of it is the
barrier: the query processes run read-only on a read-only store and cannot open a network
connection (endpoint/sparql/sandbox.py). What the policy adds is a clear answer, given early:
- an update is a 403 ("read-only") rather than the parser message of a query engine;
- a SERVICE off the allow-list (`KG_SERVICE_ALLOWLIST`), or one whose endpoint is a variable or
  cannot be resolved, is a 403 naming it, rather than a failed connection;
- a query past a limit (`KG_MAX_NESTING`, `KG_MAX_PATH_LENGTH`, `KG_MAX_PATTERNS`) is a 400
  naming the limit and its setting, rather than an engine that overflows its stack; so is one
  whose parse alone would take longer than `KG_MAX_PARSE_SECONDS`.
"""

from __future__ import annotations

from graph.config import Settings
from graph.errors import QueryRefused
from graph.sparql.reader import Limits, QueryInfo, Service, check_limits, read


def inspect(text: str, settings: Settings, prefixes: dict[str, str]) -> QueryInfo:
    """Read a query and refuse what the policy forbids; return what the reader found.

    Raises QuerySyntaxError (400), QueryLimitExceeded (400) or QueryRefused (403).
    """
    info = read(
        text, base_iri=settings.base_iri, prefixes=prefixes, budget=settings.max_parse_seconds
    )
    if info.is_update:
        raise QueryRefused("SPARQL Update is not allowed: this endpoint is read-only")
    check_limits(info, Limits.from_settings(settings))
    for service in info.services:
        if service.iri is None or service.iri not in settings.service_allowlist:
            raise QueryRefused(_refusal(service, settings.service_allowlist))
    return info


def _refusal(service: Service, allowlist: tuple[str, ...]) -> str:
    allowed = " ".join(f"<{iri}>" for iri in allowlist) or "none"
    return (
        f"SERVICE refused at line {service.line}, column {service.column} ({service.text}): "
        f"federated queries may only call an allow-listed endpoint by its IRI (allowed: "
        f"{allowed})"
    )
