"""best_format: Accept with q-values and specificity, aliases, the `format` override, 406."""

from __future__ import annotations

import pytest
from flask import Flask, Response
from pyoxigraph import QueryResultsFormat, RdfFormat

from endpoint.http.negotiation import best_format, vary_accept
from graph.errors import UnknownFormat
from graph.formats import GRAPH_FORMATS, RESULTS_FORMATS, format_by_name


def choose(offered, accept=None, path="/", method="GET", data=None):
    """best_format inside a request context of a throwaway app."""
    headers = {"Accept": accept} if accept is not None else {}
    context = Flask(__name__).test_request_context
    with context(path, headers=headers, method=method, data=data) as ctx:
        return best_format(ctx.request, offered)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, QueryResultsFormat.JSON),
        ("*/*", QueryResultsFormat.JSON),
        ("application/sparql-results+xml", QueryResultsFormat.XML),
        ("application/json", QueryResultsFormat.JSON),
        ("text/csv;q=0.4, text/tab-separated-values;q=0.8", QueryResultsFormat.TSV),
        ("text/*;q=0.9, text/csv", QueryResultsFormat.CSV),
        ("application/xml;q=1.0, application/sparql-results+json;q=0.2", QueryResultsFormat.XML),
        ("text/html, */*;q=0.1", QueryResultsFormat.JSON),
    ],
)
def test_results_formats_by_accept(accept, expected):
    assert choose(RESULTS_FORMATS, accept) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, RdfFormat.TURTLE),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("application/rdf+xml;q=0.9, text/turtle;q=0.3", RdfFormat.RDF_XML),
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("text/plain", RdfFormat.N_TRIPLES),
        ("application/n-quads", RdfFormat.N_QUADS),
        ("application/trig", RdfFormat.TRIG),
    ],
)
def test_graph_formats_by_accept(accept, expected):
    assert choose(GRAPH_FORMATS, accept) == expected


def test_nothing_acceptable_is_406():
    with pytest.raises(UnknownFormat) as info:
        choose(RESULTS_FORMATS, "image/png, text/turtle")
    assert info.value.status == 406
    assert "image/png" in str(info.value)


def test_format_parameter_beats_accept():
    assert choose(RESULTS_FORMATS, "text/csv", path="/?format=xml") == QueryResultsFormat.XML


def test_format_parameter_in_a_form_post():
    fmt = choose(GRAPH_FORMATS, "text/turtle", method="POST", data={"format": "nt"})
    assert fmt == RdfFormat.N_TRIPLES


@pytest.mark.parametrize(
    ("name", "offered", "expected"),
    [
        ("csv", RESULTS_FORMATS, QueryResultsFormat.CSV),
        ("TSV", RESULTS_FORMATS, QueryResultsFormat.TSV),
        ("srj", RESULTS_FORMATS, QueryResultsFormat.JSON),
        ("json", RESULTS_FORMATS, QueryResultsFormat.JSON),
        ("json", GRAPH_FORMATS, RdfFormat.JSON_LD),
        ("xml", GRAPH_FORMATS, RdfFormat.RDF_XML),
        ("turtle", GRAPH_FORMATS, RdfFormat.TURTLE),
        ("application/n-quads", GRAPH_FORMATS, RdfFormat.N_QUADS),
        ("html", ["text/html", RdfFormat.TURTLE], "text/html"),
    ],
)
def test_format_names(name, offered, expected):
    assert format_by_name(name, offered) == expected


def test_a_format_of_the_other_kind_is_unavailable():
    with pytest.raises(UnknownFormat):
        format_by_name("ttl", RESULTS_FORMATS)


def test_plain_media_types_can_be_offered():
    offered = [RdfFormat.TURTLE, "text/html"]
    assert choose(offered, "text/html,application/xml;q=0.9,*/*;q=0.8") == "text/html"
    assert choose(offered, "*/*") == RdfFormat.TURTLE


def test_vary_accept_keeps_other_vary_values():
    response = Response()
    response.vary.add("Origin")
    vary_accept(response)
    assert set(response.vary) == {"Origin", "Accept"}


@pytest.mark.parametrize(
    ("name", "rdf", "results"),
    [
        ("xml", RdfFormat.RDF_XML, QueryResultsFormat.XML),
        ("json", RdfFormat.JSON_LD, QueryResultsFormat.JSON),
        ("application/json", RdfFormat.JSON_LD, QueryResultsFormat.JSON),
        (".tsv", None, QueryResultsFormat.TSV),
        ("Turtle", RdfFormat.TURTLE, None),
        ("n-quads", RdfFormat.N_QUADS, None),
    ],
)
def test_the_cli_and_the_endpoint_read_a_format_name_by_one_rule(name, rdf, results):
    """`kg query -f`/`kg export -f` and `?format=` share graph/formats.py: the same name means
    the same format on both (json/xml mean results or RDF by what is asked for)."""
    from graph.formats import rdf_format, results_format

    for kind, expected, by_cli, offered in (("rdf", rdf, rdf_format, GRAPH_FORMATS),
                                            ("results", results, results_format, RESULTS_FORMATS)):
        if expected is None:
            with pytest.raises(UnknownFormat):
                by_cli(name)
            with pytest.raises(UnknownFormat):
                format_by_name(name, offered)
        else:
            assert by_cli(name) == expected, kind
            assert format_by_name(name, offered) == expected, kind
