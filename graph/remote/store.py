"""A remote SPARQL 1.1 endpoint that answers like the embedded store.

`RemoteStore` offers the part of `pyoxigraph.Store` the site and the CLI use (`query` with the same
keyword arguments, `named_graphs`, `quads_for_pattern`, `contains_named_graph`), over the one HTTP
client (graph/remote/http.py). Results come back as pyoxigraph objects (`QuerySolutions`,
`QueryBoolean`, a list of `Triple`s that can `serialize`), so `graph.queries.run`, the pages and
`kg query` run unchanged.

What the embedded store does through options, the remote one does through the protocol
(https://www.w3.org/TR/sparql11-protocol/):
- `prefixes` / `base_iri` become PREFIX / BASE lines. Every prefix is declared, because servers
  predefine their own (Virtuoso's `geo:` is WGS84, ours is GeoSPARQL).
- `substitutions` become a VALUES block at the start of the top-level WHERE group (terms written
  by pyoxigraph's N-Triples serialization, never by formatting user text into the query).
- the union default graph becomes one `default-graph-uri` and one `named-graph-uri` per graph of
  our dataset: a shared server holds other graphs (Virtuoso's own system graphs, at the least)
  that must not leak into our answers.

Virtuoso quirks handled here (documented in docs/deployment.md): it hangs on a direct
`application/sparql-query` POST, so queries go as a form POST; its JSON results use the obsolete
`typed-literal` type, blank nodes named `nodeID://b1` and booleans in numeric form
("1"^^xsd:boolean for the "true" we loaded; its N-Triples say "true"), which are all normalised
before pyoxigraph parses them; and when its own time limit cuts a query short it answers 200
with partial results and an `X-SQL-State` header, which is turned into an error instead of a
wrong answer.
"""

from __future__ import annotations

import json
import logging
import re
import struct
from collections.abc import Iterable, Iterator
from decimal import Decimal

from pyoxigraph import (
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    Variable,
    parse,
    parse_query_results,
    serialize,
)

from graph.errors import (
    QuerySyntaxError,
    QueryTimeout,
    RemoteError,
    RemoteUnavailable,
    StoreMissing,
)
from graph.namespaces import STANDARD_PREFIXES, graph_iri
from graph.queries import load_query
from graph.remote.http import HttpClient, RetryPolicy
from graph.sparql.reader import read
from graph.sparql.rewrite import prepare, with_dataset

log = logging.getLogger(__name__)

RESULTS_JSON = "application/sparql-results+json"
VIRTRDF_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"
WKT_LITERAL = STANDARD_PREFIXES["geo"] + "wktLiteral"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
#: the boolean forms of Virtuoso's JSON results, back to the canonical ones the store loaded
BOOLEANS = {"1": "true", "0": "false"}
N_TRIPLES = "application/n-triples"
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
#: A page waits for its queries: retry a refused connection or a 502/503/504 twice, quickly,
#: and never a query that ran out of time (the server is busy with it already).
BACKEND_RETRIES = RetryPolicy(retries=2, backoff=0.25, max_wait=2.0, timeouts=False)


class RemoteTriples(list):
    """The triples of a remote CONSTRUCT/DESCRIBE; `serialize` as pyoxigraph's QueryTriples."""

    def serialize(self, output=None, format=RdfFormat.N_TRIPLES, *, prefixes=None, base_iri=None):
        return serialize(self, output, format, prefixes=prefixes, base_iri=base_iri)


class RemoteStore:
    """A read-only stand-in for `pyoxigraph.Store` over a SPARQL 1.1 query endpoint."""

    def __init__(
        self,
        endpoint: str,
        *,
        base_iri: str,
        timeout: float = 10.0,
        user_agent: str = "khojaly-kg",
        graphs: Iterable[str] | None = None,
        server_dataset: bool = False,
    ):
        self.endpoint = endpoint
        self.base_iri = base_iri
        self.timeout = timeout
        self._http = HttpClient(user_agent=user_agent, timeout=timeout, policy=BACKEND_RETRIES)
        self._graphs = sorted(graphs) if graphs is not None else None
        self.server_dataset = server_dataset

    # -- the dataset -------------------------------------------------------------------------
    def graphs(self) -> list[str]:
        """Our named graphs on the server: the VoID graph's subsets, else every {base}graph/..."""
        if self._graphs is None:
            void = graph_iri(self.base_iri, "void")
            rows = self.query(
                load_query("remote/void_subsets").text,
                prefixes=STANDARD_PREFIXES,
                substitutions={
                    Variable("void"): NamedNode(void),
                    Variable("dataset"): NamedNode(self.base_iri + "dataset"),
                },
            )
            found = {r["graph"].value for r in rows}
            if found:
                found.add(void)
            else:
                rows = self.query(
                    load_query("remote/graphs_under").text,
                    substitutions={Variable("prefix"): Literal(graph_iri(self.base_iri, ""))},
                )
                found = {r["graph"].value for r in rows}
            self._graphs = sorted(found)
        return self._graphs

    def version(self) -> str:
        """The dataset version the publisher wrote into the VoID graph (owl:versionInfo)."""
        rows = list(
            self.query(
                load_query("remote/version").text,
                prefixes=STANDARD_PREFIXES,
                substitutions={
                    Variable("void"): NamedNode(graph_iri(self.base_iri, "void")),
                    Variable("dataset"): NamedNode(self.base_iri + "dataset"),
                },
            )
        )
        if not rows:
            raise StoreMissing(
                f"{self.endpoint} holds no dataset version in <{graph_iri(self.base_iri, 'void')}>:"
                " publish the dataset there first (`kg publish --to ...`)"
            )
        return rows[0]["version"].value

    def named_graphs(self) -> Iterator[NamedNode]:
        return iter([NamedNode(g) for g in self.graphs()])

    def contains_named_graph(self, graph: NamedNode) -> bool:
        return graph.value in self.graphs()

    def quads_for_pattern(self, subject, predicate, obj, graph_name=None) -> Iterator[Quad]:
        """Quads matching a pattern (None is a wildcard), over our graphs only."""
        bound = {"s": subject, "p": predicate, "o": obj, "g": graph_name}
        subs = {Variable(k): v for k, v in bound.items() if v is not None}
        named = None if graph_name is not None or self.server_dataset else self._named()
        rows = self.query(
            load_query("remote/quads").text, named_graphs=named, substitutions=subs or None
        )
        return iter([Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows])

    def _named(self) -> list[NamedNode]:
        return [NamedNode(g) for g in self.graphs()]

    # -- queries -----------------------------------------------------------------------------
    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        prefixes: dict[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph=None,
        named_graphs=None,
        substitutions: dict | None = None,
    ):
        """Run a query remotely with `Store.query`'s options; pyoxigraph results back.

        Raises SyntaxError (as pyoxigraph does) when our reader or the server rejects the query
        as malformed, QueryTimeout when it overruns, RemoteError for any other failure of the
        server.
        """
        try:
            text = prepare(query, base_iri=base_iri, prefixes=prefixes, substitutions=substitutions)
        except QuerySyntaxError as err:
            raise SyntaxError(str(err)) from None
        defaults: list[str] = []
        named: list[str] = [g.value for g in named_graphs or ()]
        if default_graph is not None:
            items = default_graph if isinstance(default_graph, list) else [default_graph]
            defaults = [g.value for g in items if isinstance(g, NamedNode)]
        elif use_default_graph_as_union:
            defaults = self.graphs()
            named = named or self.graphs()
        if self.server_dataset and use_default_graph_as_union and default_graph is None:
            defaults, named = [], [g.value for g in named_graphs or ()]
        if defaults or named:
            # FROM clauses in the text, not protocol parameters: Virtuoso echoes each
            # default-graph-uri as a response header, and past 100 headers http.client (under
            # urllib3) refuses the response.
            try:
                placed = with_dataset(text, defaults, named)
            except QuerySyntaxError as err:
                raise SyntaxError(str(err)) from None
            if placed is not None:
                text, defaults, named = placed, [], []
        return self._send(text, defaults, named)

    def _send(self, text: str, defaults: list[str], named: list[str]):
        # The form as our reader reads it, never guessed from the text with a regular expression
        # (a word such as "describes" in a comment is not a DESCRIBE).
        graph_form = read(text).form in GRAPH_FORMS
        fields = [("query", text), *(("default-graph-uri", g) for g in defaults),
                  *(("named-graph-uri", g) for g in named)]
        accept = N_TRIPLES if graph_form else RESULTS_JSON
        try:
            # A form POST: Virtuoso hangs on a direct application/sparql-query POST.
            reply = self._http.request("POST", self.endpoint, fields=fields,
                                       headers={"Accept": accept})
        except RemoteUnavailable as err:
            if err.timed_out:
                raise self._timeout() from err
            raise
        if reply.status == 400:
            raise SyntaxError(_message(reply.text(100_000)))
        if not reply.ok:
            raise RemoteError(
                f"{self.endpoint}: HTTP {reply.status} {reply.reason}: "
                f"{_message(reply.text(100_000))}"
            )
        partial = reply.headers.get("X-SQL-State")
        if partial:
            log.warning("%s cut a query short (X-SQL-State %s)", self.endpoint, partial)
            raise QueryTimeout(
                f"the query backend cut the query short (X-SQL-State {partial}): a partial "
                "answer was refused; simplify the query or add a LIMIT"
            )
        if graph_form:
            return RemoteTriples(_triple(t) for t in parse(reply.body, RdfFormat.N_TRIPLES))
        return _solutions(reply.body)

    def _timeout(self) -> QueryTimeout:
        """A client sees this message (503): the backend's address goes to the log only."""
        log.warning("%s did not answer within %g s", self.endpoint, self.timeout)
        return QueryTimeout(
            f"query stopped: the query backend did not answer within {self.timeout:g} s "
            "(KG_QUERY_TIMEOUT)"
        )


def _message(text: str) -> str:
    """The server's own message, without the copy of the whole query Virtuoso appends to it."""
    return text.split("\n\nSPARQL query:", 1)[0].strip()[:1000]


def _solutions(body: bytes) -> QuerySolutions | QueryBoolean:
    """SPARQL JSON results as pyoxigraph objects, after undoing Virtuoso's deviations."""
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise RemoteError(f"the endpoint's answer is not SPARQL JSON: {err}") from err
    for row in doc.get("results", {}).get("bindings", []):
        for value in row.values():
            if value.get("type") == "typed-literal":
                value["type"] = "literal"
            if value.get("type") == "bnode":
                value["value"] = _bnode_id(value["value"])
            if value.get("datatype") == VIRTRDF_GEOMETRY:
                value["datatype"], value["value"] = WKT_LITERAL, wkt(value["value"])
            elif value.get("datatype") == XSD_BOOLEAN:
                value["value"] = BOOLEANS.get(value["value"], value["value"])
    return parse_query_results(json.dumps(doc).encode(), format=QueryResultsFormat.JSON)


def _triple(t: Triple) -> Triple:
    o = t.object
    if isinstance(o, Literal) and o.datatype.value == VIRTRDF_GEOMETRY:
        fixed = Literal(wkt(o.value), datatype=NamedNode(WKT_LITERAL))
        return Triple(t.subject, t.predicate, fixed)
    return t


def wkt(value: str) -> str:
    """Undo Virtuoso's geometry rewriting: it stores WKT coordinates as 32-bit floats and prints
    them with 12 decimals ("49.88222" comes back as "49.882221221924"). The shortest decimal
    that is the same 32-bit float gives back what was loaded, for up to 7 significant digits;
    more than that was lost on the server, and `kg publish` verification reports it."""
    return re.sub(r"-?\d+\.\d{12}(?!\d)", lambda m: _shortest_float32(m.group(0)), value)


def _shortest_float32(number: str) -> str:
    target = _f32(float(number))
    for digits in range(1, 10):
        candidate = f"{float(number):.{digits}g}"
        if _f32(float(candidate)) == target:
            return format(Decimal(candidate), "f")
    return number


def _f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def _bnode_id(value: str) -> str:
    """`nodeID://b10001` (Virtuoso) -> `b10001`; any other label made a valid blank node id."""
    value = value.removeprefix("nodeID://").removeprefix("_:")
    return re.sub(r"[^A-Za-z0-9_]", "_", value) or "b"
