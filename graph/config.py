"""Settings: one table of every KG_* variable, and the one place that reads the environment.

Each setting is declared once below, with its type, default, help and where it applies
(`kg settings` prints the table; docs/settings.md is generated from it). pydantic-settings
parses the environment by each field's declared type (docs/decisions/0016-settings-table.md).
Defaults first, then `Settings.from_env()`, then explicit keyword arguments win (what tests
pass); `Settings(...)` alone never looks at the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_BASE_IRI = "https://w3id.org/khojaly/"
ENV_PREFIX = "KG_"


def _project_root() -> Path:
    """The checkout this package sits in (graph/ is one level below the root)."""
    return Path(__file__).resolve().parent.parent


def _words(value: object) -> object:
    """A list given as one string (an environment variable): split on commas and whitespace."""
    if isinstance(value, str):
        return tuple(s for s in value.replace(",", " ").split() if s)
    return value


def _flag(value: object) -> object:
    """An empty variable is off, as it always was; pydantic reads the other spellings."""
    if isinstance(value, str) and not value.strip():
        return False
    return value.strip() if isinstance(value, str) else value


Words = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_words)]
Flag = Annotated[bool, BeforeValidator(_flag)]


def setting(default: Any = None, help: str = "", applies: str = "", **kw: Any) -> Any:
    """One row of the table: the default, what it does, and which commands read it."""
    return Field(default, description=help, json_schema_extra={"applies": applies}, **kw)


class Settings(BaseSettings):
    """Where things are and how the graph is published (one field per KG_<NAME> variable)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid",
                                      validate_default=False)

    # -- where things are --------------------------------------------------------------------
    base_iri: str = setting(
        DEFAULT_BASE_IRI,
        "base of our IRIs; the server maps it onto whatever host it runs on: things are "
        "{base}id/{kind}/{slug}, graphs {base}graph/{name}, the ontology {base}ontology#",
        "build, serve, link, publish")
    root: Path | None = setting(
        None,
        "The checkout: the other paths default to places under it (default: the folder graph/ "
        "sits in)",
        "all")
    data_dir: Path | None = setting(
        None,
        "Instance data, one entity or one source document per Turtle file (default: "
        "{root}/data)",
        "build, validate, link")
    ontology_dir: Path | None = setting(
        None,
        "Ontology, concept schemes, SHACL shapes (default: {root}/ontology)",
        "build, validate")
    texts_dir: Path | None = setting(
        None,
        "Full texts of source documents, for the verbatim-quote check (default: "
        "{root}/data/texts)",
        "build, validate")
    store_path: Path | None = setting(
        None,
        "the store symlink `kg build` maintains: a symlink swapped atomically to a fresh "
        "build directory (default: {root}/var/store)",
        "build, serve")
    # -- the build ---------------------------------------------------------------------------
    keep_builds: int = setting(
        2,
        "Complete builds kept beside the live one's",
        "build")
    pyshacl_max_triples: int = setting(
        200_000,
        "above this many data triples, SHACL runs as compiled SPARQL inside the store instead "
        "of pySHACL",
        "build, validate")
    dump_formats: Words = setting(
        ("ttl", "trig", "nt", "nq", "jsonld", "rdf"),
        "dumps `kg build` writes (`--dumps`); the others are made on first download",
        "build, serve")
    # -- the server --------------------------------------------------------------------------
    host: str = setting(
        "127.0.0.1",
        "interface to bind (`0.0.0.0` to serve beyond this machine)",
        "serve")
    port: int = setting(
        8000,
        "port",
        "serve")
    workers: int = setting(
        2,
        "server worker processes",
        "serve")
    threads: int = setting(
        32,
        "request threads per worker (complete requests only: slow clients hold none); more "
        "than a worker's heavy queries, so a light query always finds one",
        "serve")
    server: str = setting(
        "granian",
        "the HTTP server `kg serve` runs: `granian`, or `gunicorn` (gthread; needs a "
        "buffering proxy against slow clients; ADR 0007)",
        "serve")
    event_loop: str = setting(
        "uvloop",
        "granian's event loop in each worker: `uvloop`, `asyncio`, or `rloop` where installed "
        "(not a dependency; ADR 0007 measures all three)",
        "serve")
    worker_class: str = setting(
        "gthread",
        "with `KG_SERVER=gunicorn`: its worker class (`gthread` or `sync`; ADR 0005)",
        "serve (KG_SERVER=gunicorn)")
    header_timeout: float = setting(
        10.0,
        "seconds a client has to send its request line and headers; then the connection is "
        "closed (granian allows 0.001 to 60)",
        "serve")
    body_timeout: float = setting(
        10.0,
        "seconds a client has to send its request body; then 408 and the connection is closed",
        "serve")
    access_log: Flag = setting(
        False,
        "`1` logs one line per request (the HTTP server's access log); off, as on Oxigraph's "
        "server, because it costs more CPU than a cached answer",
        "serve")
    # -- queries -----------------------------------------------------------------------------
    query_processes: int = setting(
        4,
        "fast-lane query processes per worker",
        "serve")
    fast_budget: float = setting(
        0.25,
        "seconds a query runs in the fast lane before it is moved to the heavy lane",
        "serve")
    heavy_slots: int = setting(
        2,
        "heavy queries running at once in the whole server (all workers)",
        "serve")
    query_timeout: float = setting(
        10.0,
        "seconds a query may run before it is stopped (503)",
        "serve")
    max_query_length: int = setting(
        20_000,
        "longest query accepted, in characters (413)",
        "serve")
    max_request_bytes: int = setting(
        1_000_000,
        "largest request body accepted (413)",
        "serve")
    max_nesting: int = setting(
        128,
        "deepest nesting of groups, subqueries, expressions and path groups (400); the parser "
        "reads at most 160",
        "serve")
    max_path_length: int = setting(
        1_000,
        "most steps in one property path (400)",
        "serve")
    max_patterns: int = setting(
        2_000,
        "most triple patterns in one query, templates included (400)",
        "serve")
    max_parse_seconds: float = setting(
        1.0,
        "longest the query reader spends on one text (400): ordinary queries take "
        "milliseconds, a 20 kB property path about 3 s",
        "serve")
    service_allowlist: Words = setting(
        (),
        "endpoint IRIs `SERVICE` may call, space- or comma-separated, matched exactly (e.g. "
        "`https://query.wikidata.org/sparql`)",
        "serve")
    sandbox: Flag = setting(
        True,
        "query processes run in their network sandbox (seccomp + Landlock: no connection at "
        "all, or only to the allow-listed ports); `off` only to demonstrate the guard, logged "
        "loudly (ADR 0006)",
        "serve")
    # -- responses ---------------------------------------------------------------------------
    cache_max_age: int = setting(
        300,
        "`Cache-Control: max-age` of read responses, in seconds",
        "serve")
    result_cache_bytes: int = setting(
        64 * 1024 * 1024,
        "bytes of whole answers each worker keeps in memory for repeats (0: off)",
        "serve")
    result_cache_entry_bytes: int = setting(
        1024 * 1024,
        "largest answer kept",
        "serve")
    page_size: int = setting(
        50,
        "items on a page of the site's listings",
        "serve")
    # -- linking -----------------------------------------------------------------------------
    link_endpoint: str = setting(
        "https://query.wikidata.org/sparql",
        "endpoint of the `wikidata` profile (`--endpoint` overrides any profile's)",
        "link")
    link_timeout: float = setting(
        30.0,
        "seconds per request",
        "link")
    user_agent: str = setting(
        "khojaly-kg/0.1 (linked-data knowledge graph; contact: "
                              "maintainers)",
        "User-Agent sent to external endpoints: put a contact address in it",
        "link, publish, serve")
    # -- beyond one machine ------------------------------------------------------------------
    backend_url: str = setting(
        "",
        "a remote SPARQL 1.1 query endpoint to serve and query from instead of the built "
        "store (`--backend`; docs/deployment.md)",
        "serve, publish")
    backend_graphs: str = setting(
        "server",
        "`server`: the remote's default graph is the union of its graphs; `listed`: send "
        "`FROM`/`FROM NAMED` for each of ours (a shared server)",
        "serve")
    publish_user: str = setting(
        "",
        "user `kg publish` sends to the Graph Store (HTTP Digest or Basic)",
        "publish")
    publish_password: str = setting(
        "",
        "password `kg publish` sends to the Graph Store (HTTP Digest or Basic); never logged",
        "publish", repr=False)
    publish_batch_triples: int = setting(
        50_000,
        "triples per `kg publish` request; a larger graph goes as a PUT and POSTs",
        "publish")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   **_others: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment only through from_env

    @model_validator(mode="before")
    @classmethod
    def _places(cls, data: Any) -> Any:
        """Paths left unset default to places under `root`."""
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None}
        root = Path(data.get("root") or _project_root())
        data["root"] = root
        defaults = {"data_dir": root / "data", "ontology_dir": root / "ontology",
                    "texts_dir": root / "data" / "texts", "store_path": root / "var" / "store"}
        for name, default in defaults.items():
            data.setdefault(name, default)
        return data

    @field_validator("base_iri")
    @classmethod
    def _slash(cls, value: str) -> str:
        return value if value.endswith(("/", "#")) else value + "/"

    @property
    def ontology_ns(self) -> str:
        return self.base_iri + "ontology#"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read KG_<FIELD> variables (e.g. KG_BASE_IRI, KG_STORE_PATH); overrides win."""
        source = _Environment(cls, os.environ if environ is None else environ)
        values = {**source(), **{k: v for k, v in overrides.items() if v is not None}}
        try:
            return cls(**values)
        except ValidationError as e:
            first = e.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "?"
            raise ValueError(f"{env_name(name)}={first.get('input')!r}: "
                             f"{first['msg']}") from None

    def replace(self, **changes: object) -> Settings:
        return type(self)(**{**dict(self), **changes})


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (os.environ or a test's)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items()
                if k.upper().startswith(ENV_PREFIX)}


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def table() -> Iterator[tuple[str, str, str, str, str]]:
    """(variable, type, default, applies, help) for every setting, in declaration order."""
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra or {}
        default = info.default
        if isinstance(default, tuple):
            default = " ".join(default)
        kind = info.annotation
        shown = {Path | None: "path", Path: "path", bool: "bool", int: "int", float: "float",
                 str: "str"}.get(kind, "list" if "tuple" in str(kind) else str(kind))
        if "bool" in str(kind):
            shown = "bool"
        yield (env_name(name), shown, "" if default is None else str(default),
               str(extra.get("applies", "")), info.description or "")


def as_env(settings: Settings) -> dict[str, str]:
    """KG_* variables that make a child process's `Settings.from_env()` equal `settings`."""
    env = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        env[env_name(name)] = " ".join(value) if isinstance(value, tuple) else str(value)
    return env
