"""One size, one datatype: every place that reports the graph's size reports the same
figure, and the six dumps of a build give isomorphic graphs.

"Triples" counts a triple once per named graph that states it, the VoID graph included (graph/
metadata.py): the build report, VoID, `kg stats`, the home page, the N-Quads dump's lines and
COUNT(*) over the endpoint. The triple formats merge the graphs (`kg stats --distinct`).
"""

from __future__ import annotations

import re
import warnings

import pytest
import rdflib
from helpers_graph import edit
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from graph.build import canonical
from graph.build.pipeline import build
from graph.cli.main import main
from graph.store import dumps_dir, open_store

FORMATS = {"ttl": "turtle", "nt": "nt", "rdf": "xml", "jsonld": "json-ld", "trig": "trig",
           "nq": "nquads"}
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"


def dump_graphs(settings) -> dict[str, rdflib.Graph]:
    """Each dump parsed by rdflib; the dataset formats flattened to the union of their graphs."""
    graphs = {}
    for ext, fmt in FORMATS.items():
        data = (dumps_dir(settings) / f"khojaly.{ext}").read_bytes()
        with warnings.catch_warnings():  # rdflib's JSON-LD and TriG parsers use its old classes
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
            if ext in ("trig", "nq", "jsonld"):  # JSON-LD: named graphs too (@graph)
                ds = rdflib.Dataset()
                ds.parse(data=data, format=fmt)
                union = rdflib.Graph()
                for s, p, o, _ in ds.quads((None, None, None, None)):
                    union.add((s, p, o))
                graphs[ext] = union
            else:
                graphs[ext] = rdflib.Graph().parse(data=data, format=fmt)
    return graphs


def _assert_all_isomorphic(graphs: dict[str, rdflib.Graph]) -> None:
    reference = graphs["nt"]
    for ext, g in graphs.items():
        if not isomorphic(reference, g):
            _, only_nt, only_other = graph_diff(to_isomorphic(reference), to_isomorphic(g))
            raise AssertionError(f"khojaly.{ext} differs from khojaly.nt: only in nt "
                                 f"{sorted(only_nt)[:3]}, only in {ext} {sorted(only_other)[:3]}")


def test_issue_12_the_six_dumps_are_isomorphic(built_settings):
    graphs = dump_graphs(built_settings)
    assert len(graphs["nt"]) > 2000
    _assert_all_isomorphic(graphs)
    datatypes = {ext: {o.datatype for o in g.objects() if isinstance(o, rdflib.Literal)}
                 for ext, g in graphs.items()}
    assert all(d == datatypes["nt"] for d in datatypes.values())
    assert rdflib.XSD.positiveInteger not in datatypes["nq"]


def test_issue_12_every_report_of_the_size_agrees(built_settings, runner):
    store = open_store(built_settings)
    base = built_settings.base_iri
    [row] = store.query(f"SELECT ?n WHERE {{ GRAPH ?g {{ <{base}dataset> <{VOID_TRIPLES}> ?n }} }}")
    void = int(row["n"].value)
    count = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                  use_default_graph_as_union=True)))
    lines = (dumps_dir(built_settings) / "khojaly.nq").read_bytes().count(b"\n")
    stats = runner.invoke(main, ["stats", "--distinct"], obj=built_settings)
    assert stats.exit_code == 0, stats.output
    figures = dict(line.split("\t") for line in stats.output.splitlines()[:3])
    assert int(figures["triples"]) == void == int(count["n"].value) == lines
    # the triple formats hold each triple once: the distinct count, a few fewer at most
    assert int(figures["distinct triples"]) == len(dump_graphs(built_settings)["nt"]) <= void


def test_issue_12_the_home_page_and_the_build_report_say_the_same(built_settings, client, runner):
    [row] = open_store(built_settings).query(
        f"SELECT ?n WHERE {{ GRAPH ?g {{ ?d <{VOID_TRIPLES}> ?n FILTER(?d = "
        f"<{built_settings.base_iri}dataset>) }} }}")
    html = client.get("/").data.decode()
    shown = re.search(r"<strong>([0-9,]+)</strong> triples", html)
    assert shown is not None and int(shown.group(1).replace(",", "")) == int(row["n"].value)


def test_issue_12_build_report_counts_the_void_graph(mini_settings):
    report = build(mini_settings)
    store = open_store(mini_settings)
    quads = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))
    assert report.triples == int(quads["n"].value) == sum(report.graphs.values())
    assert mini_settings.base_iri + "graph/void" in report.graphs


def _add_non_canonical_literals(settings) -> None:
    edit(settings.data_dir / "place" / "khojaly.ttl", "<> a ",
         '<> <https://schema.org/elevation> "0750"^^xsd:positiveInteger ;\n'
         '    <https://schema.org/longitude> "46.78910"^^xsd:decimal .\n<> a ')


def test_issue_12_literals_are_written_as_the_store_keeps_them(mini_settings):
    """"0750"^^xsd:positiveInteger is served as "750"^^xsd:integer (Oxigraph keeps no derived
    integer type and no non-canonical form): the N-Quads dump says so too."""
    _add_non_canonical_literals(mini_settings)
    build(mini_settings)
    nq = (dumps_dir(mini_settings) / "khojaly.nq").read_text(encoding="utf-8")
    assert '"750"^^<http://www.w3.org/2001/XMLSchema#integer>' in nq
    assert '"46.7891"^^<http://www.w3.org/2001/XMLSchema#decimal>' in nq
    assert "positiveInteger" not in nq and "0750" not in nq
    _assert_all_isomorphic(dump_graphs(mini_settings))


def test_issue_12_without_the_canonical_form_the_dumps_differ(mini_settings, monkeypatch):
    """Switch the guard off: the N-Quads dump (the parser's text) and the dumps written from
    the store no longer agree."""
    monkeypatch.setattr(canonical, "canonicalise", lambda text: text)
    _add_non_canonical_literals(mini_settings)
    build(mini_settings)
    with pytest.raises(AssertionError, match="khojaly.nq differs"):
        _assert_all_isomorphic(dump_graphs(mini_settings))


LITERALS = {
    "integer": ["0", "-0", "00", "+5", "5", "-12", "007", "10"],
    "decimal": ["0", "0.0", "1.50", "-0.5", ".5", "5.", "40.12340", "40.1234", "-1.0", "+1.5",
                "10", "-.5", "0.5"],
    "date": ["2026-02-26", "2026-02-26Z", "2026-02-26+00:00", "2026-02-26-05:00", "2026-2-26"],
    "positiveInteger": ["34", "034", "0"],
    "boolean": ["1", "true", "0"],
    "double": ["1e0", "1.0E1", "INF"],
    "dateTime": ["2026-02-26T00:00:00.000Z", "2026-02-26T00:00:00Z"],
    "gYear": ["1992"],
    "string": ["034", "+1 0"],
}


def test_issue_12_canonical_text_is_what_the_store_keeps():
    """The fast path (regexes for the common forms) agrees with the store on every form."""
    from pyoxigraph import RdfFormat, Store, parse

    xsd = "http://www.w3.org/2001/XMLSchema#"
    lines = [f'<http://s/{i}> <http://p> "{lex}"^^<{xsd}{dt}> <http://g> .\n'
             for i, (dt, lex) in enumerate((dt, lex) for dt, ls in LITERALS.items() for lex in ls)]
    lines.insert(3, '<http://s/x> <http://p> "say \\"0\\" 1.50"@en <http://g> .\n')
    text = "".join(lines).encode()
    store = Store()
    store.load(text, format=RdfFormat.N_QUADS)
    kept = {str(q) for q in store}
    written = {str(q) for q in parse(canonical.canonicalise(text), format=RdfFormat.N_QUADS)}
    assert written == kept
    assert canonical.canonicalise(text) != text  # some forms were rewritten
