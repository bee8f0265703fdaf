"""Settings: the one place that reads the environment (KG_* variables).

Defaults first, then `Settings.from_env()`, then explicit keyword arguments win (what tests pass).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_BASE_IRI = "https://w3id.org/khojaly/"


def _project_root() -> Path:
    """The checkout this package sits in (graph/ is one level below the root)."""
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where things are and how the graph is published.

    base_iri     canonical IRI base: things are {base}id/{kind}/{slug}, graphs {base}graph/{name},
                 the ontology {base}ontology#
    data_dir     instance data, one entity or one source document per Turtle file
    ontology_dir ontology, concept schemes, SHACL shapes
    texts_dir    full texts of source documents, for the verbatim-quote check
    store_path   the live store: a symlink swapped atomically to a fresh build directory
    """

    base_iri: str = DEFAULT_BASE_IRI
    root: Path = field(default_factory=_project_root)
    data_dir: Path | None = None
    ontology_dir: Path | None = None
    texts_dir: Path | None = None
    store_path: Path | None = None
    dumps_dir: Path | None = None
    keep_builds: int = 2
    # validation (issue 5): data up to this many triples is validated with pySHACL; above it
    # with the shapes compiled to SPARQL inside the store (graph/validate.py, shacl_sparql.py)
    pyshacl_max_triples: int = 200_000
    # dumps `kg build` writes (KG_DUMP_FORMATS, e.g. "nq,ttl"); the others are made on first
    # request (graph.export.ensure_dump)
    dump_formats: tuple[str, ...] = ("ttl", "trig", "nt", "nq", "jsonld", "rdf")
    # test hook for the fault tests (issue 6): "load" or "swap" makes `kg build` pause there
    # for a minute so a test can kill -9 it inside that window; empty (never set) in use
    build_pause_at: str = ""
    # endpoint
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 32  # request threads per server worker: more than heavy_slots
    # the HTTP server (docs/decisions/0007-http-server.md): granian, or gunicorn (gthread)
    server: str = "granian"
    header_timeout: float = 10.0  # s for the request line and headers; then the server closes
    body_timeout: float = 10.0  # s for a request body; then 408 and the connection is closed
    # lanes (endpoint/sparql/lanes.py): every query starts in the fast lane, one of
    # query_processes per server worker, for fast_budget s; one still running is moved to the
    # heavy lane: heavy_slots at once for the whole server, niced, up to query_timeout
    query_processes: int = 4
    fast_budget: float = 0.25
    heavy_slots: int = 2
    cache_max_age: int = 300  # seconds, Cache-Control max-age on read responses
    # the response cache (endpoint/http/caching.py), per server worker: total bytes (0 turns
    # it off) and the biggest answer it keeps
    result_cache_bytes: int = 64 * 1024 * 1024
    result_cache_entry_bytes: int = 1024 * 1024
    # one line per request from the HTTP server; off by default, as on Oxigraph's server: it costs
    # more CPU than a cached answer (bench/results/2026-12-04-query-core.md)
    access_log: bool = False
    query_timeout: float = 10.0
    max_query_length: int = 20_000
    max_request_bytes: int = 1_000_000
    html_row_limit: int = 1_000
    page_size: int = 50  # rows of a listing page of the site (sources, places, timeline, figures)
    service_allowlist: tuple[str, ...] = ()
    # the query processes' network sandbox (endpoint/sparql/sandbox.py): off only to show
    # that the tests of the guard fail without it, never for a public endpoint
    sandbox: bool = True
    # what a query may ask of the engine, measured on its parse (graph/query_reader.py): far
    # above any real query, well below what overflows the engine; past one, a 400 names it
    max_nesting: int = 128  # nested groups, subqueries, expressions, path groups
    max_path_length: int = 1_000  # steps of one property path
    max_patterns: int = 2_000  # triple patterns of one query, templates included
    max_parse_seconds: float = 1.0  # the reader's time for one text (a 20 kB path: ~3 s)
    # linking
    link_endpoint: str = "https://query.wikidata.org/sparql"
    link_timeout: float = 30.0
    user_agent: str = "khojaly-kg/0.1 (linked-data knowledge graph; contact: maintainers)"
    # beyond one machine (issue 7): a remote SPARQL 1.1 endpoint instead of the embedded store,
    # and the Graph Store Protocol credentials `kg publish` uses (never logged: repr=False)
    backend_url: str = ""  # empty: the embedded store; else the remote endpoint's query URL
    backend_graphs: str = "server"  # server: its default graph is the union; listed: FROM ours
    publish_user: str = ""
    publish_password: str = field(default="", repr=False)
    publish_batch_triples: int = 50_000  # triples per request; a graph above it is PUT + POSTs

    def __post_init__(self) -> None:
        root = Path(self.root)
        object.__setattr__(self, "root", root)
        defaults = {
            "data_dir": root / "data",
            "ontology_dir": root / "ontology",
            "texts_dir": root / "data" / "texts",
            "store_path": root / "var" / "store",
            "dumps_dir": root / "var" / "dumps",
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            object.__setattr__(self, name, Path(value) if value is not None else default)
        if not self.base_iri.endswith(("/", "#")):
            object.__setattr__(self, "base_iri", self.base_iri + "/")
        if isinstance(self.service_allowlist, str):
            items = tuple(s for s in self.service_allowlist.split() if s)
            object.__setattr__(self, "service_allowlist", items)

    @property
    def ontology_ns(self) -> str:
        return self.base_iri + "ontology#"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read KG_<FIELD> variables (e.g. KG_BASE_IRI, KG_STORE_PATH); overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get("KG_" + f.name.upper())
            if raw is None:
                continue
            try:
                values[f.name] = _coerce(f, raw)
            except ValueError:
                raise ValueError(f"KG_{f.name.upper()}={raw!r}: expected {f.type}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


_BOOLS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False, "": False}


def _coerce(f: dataclasses.Field, raw: str) -> object:
    kind = str(f.type)
    if kind == "bool":
        if raw.strip().lower() not in _BOOLS:
            raise ValueError(raw)
        return _BOOLS[raw.strip().lower()]
    if "int" in kind and "Path" not in kind:
        return int(raw)
    if "float" in kind:
        return float(raw)
    if "tuple" in kind:
        return tuple(s for s in raw.replace(",", " ").split() if s)
    if "Path" in kind:
        return Path(raw)
    return raw
