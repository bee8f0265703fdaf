"""A small built store for the endpoint tests, laid out the way `kg build` lays out a build.

`<tmp>/builds/test/oxigraph` (the store), `<tmp>/builds/test/build.json` (the version) and the
`<tmp>/store` symlink, so the app opens it through graph.store exactly as in production. Its
data are a few named graphs under our base IRI; building it takes milliseconds.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

from pyoxigraph import RdfFormat, Store, parse

from graph.config import DEFAULT_BASE_IRI, Settings

BASE = DEFAULT_BASE_IRI
EVENT = BASE + "id/event/khojaly-massacre"
PLACE = BASE + "id/place/khojaly"
CLAIM = BASE + "id/claim/s1-killed"
G_EVENT = BASE + "graph/event/khojaly-massacre"
G_PLACE = BASE + "graph/place/khojaly"
G_SOURCE = BASE + "graph/source/s1"
VERSION = "test-version-1"

TRIG = f"""
@prefix schema: <https://schema.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix kgo: <{BASE}ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{G_EVENT}> {{
  <{EVENT}> a schema:Event ; rdfs:label "Khojaly massacre"@en , "Xocalı soyqırımı"@az ;
    schema:location <{PLACE}> ; schema:startDate "1992-02-25"^^xsd:date .
}}
<{G_PLACE}> {{
  <{PLACE}> a schema:Place ; rdfs:label "Khojaly"@en , "Xocalı"@az .
}}
<{G_SOURCE}> {{
  <{CLAIM}> a kgo:FigureClaim ; kgo:about <{EVENT}> ; schema:value 613 ;
    rdfs:comment "a <b>bold</b> & \\"quoted\\" comment" .
}}
"""

# 50**5 = 312M solutions counted inside one native call: tens of seconds of work on any store,
# all of it in the first next(), which no Python thread can interrupt.
HEAVY_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
    f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(50))} }}" for i in range(5)
) + " }"


def build_store(root: Path) -> Path:
    """Write the store and build.json under `root`; return the store symlink path."""
    build = root / "builds" / "test"
    build.mkdir(parents=True)
    store = Store(str(build / "oxigraph"))
    store.extend(parse(TRIG.encode("utf-8"), format=RdfFormat.TRIG))
    store.flush()
    del store
    (build / "build.json").write_text(json.dumps({"version": VERSION}), encoding="utf-8")
    link = root / "store"
    os.symlink(build, link)
    return link


def make_settings(root: Path, **overrides: object) -> Settings:
    link = build_store(root)
    values: dict[str, object] = {"root": root, "store_path": link, "threads": 2,
                                 "query_timeout": 5.0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it gets (and drops them).

    Stands where an attacker's SERVICE target would be: a guard works if the count stays 0.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        # a connection the kernel completed but the thread had no time to accept counts too
        self.sock.setblocking(False)
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                break
            self.connections += 1
            conn.close()
        self.sock.close()


def run_coroutine(coro):
    """Run an ASGI call to the end on a thread of its own and return its result.

    asyncio.run on the main thread would unset that thread's event loop (one that pylode's
    dominate made for the ontology page), leaving it to be collected open: a ResourceWarning,
    which the suite turns into an error in whatever test collects it.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as one:
        return one.submit(asyncio.run, coro).result()
