"""Linked Data: every thing we name dereferences, per "Cool URIs for the Semantic Web" (303 style).

    /id/<kind>/<slug>             the thing itself: 303 See Other to a document about it
    /page/<kind>/<slug>           that document as HTML, for people
    /data/<kind>/<slug>.<ext>     that document as RDF (ttl, jsonld, nt, rdf), for machines
    /data/<kind>/<slug>           the same, negotiated by Accept (Vary: Accept)

The canonical base IRI is mapped onto the serving host: a request to http://127.0.0.1:8000/id/x
describes {settings.base_iri}id/x, and the data documents speak the canonical IRIs.
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from pyoxigraph import NamedNode, RdfFormat, serialize

from endpoint.context import get_kg
from endpoint.http.negotiation import best_format, vary_accept
from endpoint.pages import citations, describe, term_html
from endpoint.pages.entity_model import CLAIMS_COUNT_CAP, PageBuilder
from endpoint.pages.shared import for_version as shared_data
from endpoint.pages.terms import Linker
from graph.namespaces import KINDS, all_prefixes, entity_iri

bp = Blueprint("entities", __name__)
# the one way every template prints a term and a property table (term_html.py)
bp.add_app_template_global(term_html.term, "term")
bp.add_app_template_global(term_html.node_table, "node_table")

#: extension -> format of a data document (pyoxigraph knows the media types).
DATA_FORMATS: dict[str, RdfFormat] = {
    "ttl": RdfFormat.TURTLE,
    "jsonld": RdfFormat.JSON_LD,
    "nt": RdfFormat.N_TRIPLES,
    "rdf": RdfFormat.RDF_XML,
}
HTML = "text/html"
OFFERED = (HTML, *DATA_FORMATS.values())


def requested_iri(kind: str, slug: str) -> str:
    """The canonical IRI a request names, or a 404 for a kind we never mint."""
    if kind not in KINDS:
        abort(404)
    return entity_iri(get_kg().settings.base_iri, kind, slug)


def _require(iri: str) -> None:
    kg = get_kg()
    _iri_or_404(iri)
    if not describe.exists(kg.store, kg.settings.base_iri, iri):
        abort(404)


def _iri_or_404(iri: str) -> None:
    try:
        NamedNode(iri)
    except ValueError:  # not an IRI at all (a `"` or a space in the path): none of ours
        abort(404)


@bp.get("/id/<kind>/<path:slug>")
def thing(kind: str, slug: str) -> Response:
    """303 See Other to the HTML page or the data document, whichever the client accepts."""
    _require(requested_iri(kind, slug))
    if kind in citations.CITABLE and citations.preferred(request):  # a reference manager
        target = url_for("citations.cite", kind=kind, slug=slug)
        return vary_accept(redirect(target, code=303))
    fmt = best_format(request, OFFERED)
    if fmt == HTML:
        target = url_for("entities.page", kind=kind, slug=slug)
    else:
        target = url_for("entities.data", kind=kind, slug=f"{slug}.{fmt.file_extension}")
    return vary_accept(redirect(target, code=303))


@bp.get("/page/<kind>/<path:slug>")
def page(kind: str, slug: str) -> str | Response:
    iri = requested_iri(kind, slug)
    triples = _described(iri)
    wanted = citations.preferred(request) if kind in citations.CITABLE else None
    if wanted:
        thing = citations.citable(iri)
        if thing is not None:
            return vary_accept(citations.render(thing, wanted))
    links = {ext: url_for("entities.data", kind=kind, slug=f"{slug}.{ext}") for ext in DATA_FORMATS}
    if kind in citations.CITABLE:  # negotiated with the citation formats
        return vary_accept(Response(render_entity(iri, links, triples), mimetype=HTML))
    return render_entity(iri, links, triples)


def _described(iri: str) -> list:
    """The description of `iri` (read once: the page and its JSON-LD print it), or a 404 when
    the graph does not use `iri` at all (a thing only linked to has a page with no triples)."""
    _iri_or_404(iri)
    kg = get_kg()
    triples = describe.description(kg.store, kg.settings.base_iri, iri)
    if not triples:
        _require(iri)
    return triples


def render_entity(iri: str, data_links: dict[str, str], triples: list | None = None) -> str:
    """The HTML page about one of our IRIs (also used for the dataset on /void).

    Rendered for every request. What does not depend on the request (labels, the datasets we
    link to) comes from the build's shared page data (pages/shared.py);
    the description is read once and feeds both the page and its JSON-LD.
    """
    kg = get_kg()
    base = kg.settings.base_iri
    offset = max(0, request.args.get("incoming", default=0, type=int))
    languages = tuple(lang for lang, _ in request.accept_languages) or ("en",)
    shared = shared_data(current_app.extensions, kg.version)
    labeller = describe.Labeller(kg.store, base, languages, shared)
    linker = Linker(base, request.script_root)
    if triples is None:
        triples = describe.description(kg.store, base, iri)
    model = PageBuilder(kg.store, linker, labeller, base, shared).build(iri, offset, triples)
    jsonld = json.loads(_serialize_triples(triples, RdfFormat.JSON_LD, base))
    return render_template(
        "entity.html",
        page=model,
        jsonld=jsonld,
        data_links=data_links,
        claims_cap=CLAIMS_COUNT_CAP,
        incoming_cap=describe.COUNT_CAP,
        page_lang=labeller.best_language(iri) or "en",
        minimap=_minimap(iri, model.title),
    )


def _minimap(iri: str, title: str):
    """The small map of a thing with coordinates (a place, the memorial), else None.

    Its costly part, the basemap of the frame, is drawn once per frame (basemap.draw)."""
    from endpoint.pages.pictures import MapPlace, mini_map_svg

    kg = get_kg()
    rows = describe.run(kg.store, "entity_point", kg.settings.base_iri, entity=NamedNode(iri))
    for row in rows:
        try:
            lat, long = float(row["lat"].value), float(row["long"].value)
        except ValueError:
            return None
        if -90 <= lat <= 90 and -180 <= long <= 180:
            return mini_map_svg(MapPlace(title, lat, long))
    return None


@bp.get("/data/<kind>/<path:slug>")
def data(kind: str, slug: str) -> Response:
    """The RDF document about a thing: by extension, else by Accept (Turtle by default)."""
    stem, dot, ext = slug.rpartition(".")
    negotiated = not (dot and ext in DATA_FORMATS)
    if not negotiated:
        slug = stem
    iri = requested_iri(kind, slug)
    _require(iri)  # a 404 for an unknown thing, before any 406
    # a browser (text/html preferred, not merely */*): the page, not RDF/XML; RDF wins ties
    if negotiated and best_format(request, (*DATA_FORMATS.values(), HTML)) == HTML:
        return vary_accept(redirect(url_for("entities.page", kind=kind, slug=slug), code=303))
    fmt = best_format(request, tuple(DATA_FORMATS.values())) if negotiated else DATA_FORMATS[ext]
    response = _data_response(iri, fmt)
    if negotiated:
        vary_accept(response)
        response.headers["Content-Location"] = url_for(
            "entities.data", kind=kind, slug=f"{slug}.{fmt.file_extension}"
        )
    return response


@bp.get("/<path:rest>")
def other(rest: str) -> Response:
    """Any other IRI of ours that the graph describes ({base}dataset, its linksets...).

    These name documents and datasets rather than things in the world, so the same URL answers
    with the page or the data, negotiated (Vary: Accept), instead of a 303.
    """
    iri = get_kg().settings.base_iri + rest
    _require(iri)
    fmt = best_format(request, OFFERED)
    if fmt == HTML:
        links = {ext: f"{request.path}?format={ext}" for ext in DATA_FORMATS}
        return vary_accept(Response(render_entity(iri, links), mimetype=HTML))
    return vary_accept(_data_response(iri, fmt))


def _data_response(iri: str, fmt: RdfFormat) -> Response:
    response = Response(_serialize(iri, fmt), mimetype=fmt.media_type)
    response.headers["Link"] = f'<{iri}>; rel="describes"'
    return response


def _serialize(iri: str, fmt: RdfFormat) -> bytes:
    kg = get_kg()
    triples = describe.description(kg.store, kg.settings.base_iri, iri)
    return _serialize_triples(triples, fmt, kg.settings.base_iri)


def _serialize_triples(triples: list, fmt: RdfFormat, base_iri: str) -> bytes:
    prefixes = all_prefixes(base_iri) if fmt == RdfFormat.TURTLE else None
    return serialize(triples, format=fmt, prefixes=prefixes)
