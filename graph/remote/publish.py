"""`kg publish --to URL`: push every named graph to a SPARQL 1.1 Graph Store.

https://www.w3.org/TR/sparql11-http-rdf-update/ — one PUT per named graph (`?graph=<iri>`), so a
re-publish replaces a graph and never duplicates it. A graph larger than the batch size goes as a
PUT of its first chunk and POSTs (merge) of the rest; triples that share a blank node always
travel in the same request, because each request is its own blank node scope.

Resumable: a state file records the dataset version, the target and each graph once all its
chunks are in. A re-run of the same version skips those graphs; an interrupted graph is sent
again from its PUT, which replaces whatever half of it arrived. The VoID graph (which holds the
version the remote site reads) goes last, so readers see the new version only once all is in.

Verification: every graph's size and checksum (graph/queries/publish/checksums.rq, one query on
each side), and its geometry literals, must match; graphs of ours on the server that the dataset no
longer has are deleted. Any mismatch raises `PublishMismatch` (exit 1).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store, Triple, Variable, serialize

from graph.config import Settings
from graph.errors import KGError, PublishMismatch, RemoteError, RemoteUnavailable
from graph.namespaces import graph_iri
from graph.queries import load_query, run
from graph.remote.http import IDEMPOTENT_WRITES, HttpClient, RetryPolicy
from graph.remote.store import RemoteStore

Step = Callable[[str], None]
CONTENT_TYPE = "text/turtle; charset=utf-8"  # N-Triples bodies: every Graph Store reads Turtle
#: PUT and DELETE are retried (sending one twice does what once does); a POST merges, so it is
#: sent again only when its connection failed before anything was sent.
WRITE_RETRIES = RetryPolicy(methods=IDEMPOTENT_WRITES)


@dataclass
class GraphPlan:
    iri: str
    triples: int
    chunks: int
    done: bool = False  # already published at this version (from the state file)


@dataclass
class PublishReport:
    version: str
    graphs: list[GraphPlan]
    sent: list[str] = field(default_factory=list)
    requests: int = 0
    deleted: list[str] = field(default_factory=list)
    verified: bool = False


# -- the state file ---------------------------------------------------------------------------
def default_state_path(settings: Settings) -> Path:
    return settings.store_path.parent / "publish-state.json"


def read_state(path: Path, target: str, version: str) -> set[str]:
    """Graphs already published to `target` at `version` (nothing when either differs)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except ValueError as err:
        raise KGError(f"{path}: not a publish state file ({err}); delete it to start over") from err
    if state.get("target") != target or state.get("version") != version:
        return set()
    return set(state.get("graphs", []))


def write_state(path: Path, target: str, version: str, graphs: Iterable[str]) -> None:
    """Write atomically (tmp + rename): a kill leaves the old state or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    doc = {"target": target, "version": version, "graphs": sorted(graphs)}
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# -- chunks -----------------------------------------------------------------------------------
def chunks(triples: Iterable[Triple], size: int) -> Iterator[list[Triple]]:
    """Groups of about `size` triples; triples linked through blank nodes are never split."""
    parent: dict[str, str] = {}

    def find(b: str) -> str:
        while parent.setdefault(b, b) != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    plain: list[Triple] = []
    linked: list[tuple[Triple, str]] = []
    for t in triples:
        blanks = [x.value for x in (t.subject, t.object) if isinstance(x, BlankNode)]
        if not blanks:
            plain.append(t)
            continue
        for b in blanks[1:]:
            parent[find(b)] = find(blanks[0])
        linked.append((t, blanks[0]))
    groups: dict[str, list[Triple]] = {}
    for t, b in linked:
        groups.setdefault(find(b), []).append(t)
    batch: list[Triple] = []
    for group in [*groups.values(), *([t] for t in plain)]:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def graph_triples(store: Store, iri: str) -> list[Triple]:
    """The triples of one named graph, in a stable order (deterministic requests)."""
    quads = store.quads_for_pattern(None, None, None, NamedNode(iri))
    return sorted((q.triple for q in quads), key=str)


# -- the Graph Store client ---------------------------------------------------------------------
class GraphStore:
    """PUT / POST / DELETE of named graphs at a Graph Store Protocol endpoint, with credentials
    sent when the server asks (Digest for Virtuoso's -auth endpoint; Basic for Fuseki,
    GraphDB...)."""

    def __init__(self, url: str, user: str = "", password: str = "", timeout: float = 300.0,
                 user_agent: str = "khojaly-kg"):
        self.url = url
        self.timeout = timeout
        self._http = HttpClient(user_agent=user_agent, timeout=timeout, policy=WRITE_RETRIES,
                                credentials=(user, password) if user else None)

    def send(self, method: str, graph: str, body: bytes | None = None) -> int:
        sep = "&" if "?" in self.url else "?"
        url = f"{self.url}{sep}{urllib.parse.urlencode({'graph': graph})}"
        headers = {"Content-Type": CONTENT_TYPE} if body is not None else {}
        try:
            reply = self._http.request(method, url, body=body, headers=headers)
        except RemoteUnavailable as err:
            raise RemoteError(f"{method} <{graph}> at {self.url}: {err.reason}") from err
        if method == "DELETE" and reply.status == 404:
            return 404
        if not reply.ok:
            raise RemoteError(
                f"{method} <{graph}> at {self.url}: HTTP {reply.status} {reply.text(500)}"
            )
        return reply.status


# -- publishing --------------------------------------------------------------------------------
def plan(store: Store, base_iri: str, batch: int, done: set[str]) -> list[GraphPlan]:
    """Every named graph with its size; the VoID graph (it carries the version) last."""
    void = graph_iri(base_iri, "void")
    plans = []
    for g in store.named_graphs():
        if not isinstance(g, NamedNode):
            continue
        n = sum(1 for _ in store.quads_for_pattern(None, None, None, g))
        plans.append(GraphPlan(g.value, n, max(1, -(-n // batch)), g.value in done))
    return sorted(plans, key=lambda p: (p.iri == void, p.iri))


def publish_graph(gsp: GraphStore, store: Store, plan_: GraphPlan, batch: int) -> int:
    """Send one graph: PUT (replace) the first chunk, POST (merge) the others; return requests."""
    requests = 0
    for i, chunk in enumerate(chunks(graph_triples(store, plan_.iri), batch)):
        body = serialize(chunk, format=RdfFormat.N_TRIPLES) or b""
        gsp.send("PUT" if i == 0 else "POST", plan_.iri, body)
        requests += 1
    if requests == 0:  # an empty graph: PUT nothing, so the server's copy is emptied too
        gsp.send("PUT", plan_.iri, b"")
        requests = 1
    return requests


def publish(
    settings: Settings,
    store: Store,
    version: str,
    gsp: GraphStore,
    remote: RemoteStore | None,
    state_path: Path,
    *,
    dry_run: bool = False,
    on_step: Step = lambda _: None,
) -> PublishReport:
    """Publish what the state file does not record as done, then verify everything."""
    batch = max(1, settings.publish_batch_triples)
    done = read_state(state_path, gsp.url, version)
    report = PublishReport(version, plan(store, settings.base_iri, batch, done))
    if dry_run:
        return report
    for p in report.graphs:
        if p.done:
            continue
        on_step(f"{p.iri} ({p.triples} triples)")
        report.requests += publish_graph(gsp, store, p, batch)
        report.sent.append(p.iri)
        done.add(p.iri)
        write_state(state_path, gsp.url, version, done)
    if remote is not None:
        on_step("verifying")
        report.deleted = delete_stale(gsp, remote, settings.base_iri, report.graphs)
        verify(store, remote, settings.base_iri, report.graphs)
        report.verified = True
    return report


def delete_stale(
    gsp: GraphStore, remote: RemoteStore, base_iri: str, plans: list[GraphPlan]
) -> list[str]:
    """Delete graphs of ours on the server that the dataset no longer has (a renamed source)."""
    ours = {p.iri for p in plans}
    rows = remote.query(
        load_query("remote/graphs_under").text,
        substitutions={Variable("prefix"): Literal(graph_iri(base_iri, ""))},
    )
    stale = sorted(r["graph"].value for r in rows if r["graph"].value not in ours)
    for g in stale:
        gsp.send("DELETE", g)
    return stale


CHECKSUM_FIELDS = ("triples", "predicates", "subjectChars", "predicateChars", "iriChars",
                   "literalChars", "geometries", "blankSubjects", "blankObjects")


def checksums(store, base_iri: str) -> dict[str, dict[str, int]]:
    """publish/checksums.rq: the numbers of every graph of ours, in one query."""
    prefix = Literal(graph_iri(base_iri, ""))
    rows = run(store, "publish/checksums", base_iri=base_iri, union=False, prefix=prefix)
    return {
        r["graph"].value: {n: int(r[n].value) if r[n] is not None else 0 for n in CHECKSUM_FIELDS}
        for r in rows
    }


def geometries(store, base_iri: str) -> set[str]:
    """Every geometry literal of ours as a `graph subject predicate literal` line (blank nodes
    as [], their labels being each store's own)."""
    prefix = Literal(graph_iri(base_iri, ""))
    rows = run(store, "publish/geometries", base_iri=base_iri, union=False, prefix=prefix)
    return {
        f"{r['graph']} {'[]' if isinstance(r['s'], BlankNode) else r['s']} {r['p']} {r['o']}"
        for r in rows
    }


def verify(store: Store, remote: RemoteStore, base_iri: str, plans: list[GraphPlan]) -> None:
    """Compare every graph's size and checksum (one query on each side, whatever the number of
    graphs), then the geometry literals; raise PublishMismatch listing each difference."""
    zeros = dict.fromkeys(CHECKSUM_FIELDS, 0)
    ours, theirs = checksums(store, base_iri), checksums(remote, base_iri)
    problems = []
    for p in plans:
        local, there = ours.get(p.iri, zeros), theirs.get(p.iri, zeros)
        diffs = [f"{k} {local[k]} here, {there[k]} there" for k in local if local[k] != there[k]]
        if diffs:
            problems.append(f"<{p.iri}>: " + "; ".join(diffs))
    if any(c["geometries"] for c in ours.values()):
        here, there_ = geometries(store, base_iri), geometries(remote, base_iri)
        problems += [f"geometry here, not there: {g}" for g in sorted(here - there_)]
        problems += [f"geometry there, not here: {g}" for g in sorted(there_ - here)]
    if problems:
        raise PublishMismatch(
            "the server does not hold what was published:\n  " + "\n  ".join(problems)
        )

