"""The site around the graph: home, query UI, ontology docs, VoID, dumps, sources compared.

/                     the story, the sources, counts, dumps, pictures, example queries
/query                YASGUI (served from endpoint/static/vendor), one tab per example query
/ontology             pyLODE documentation (HTML) or the ontology itself (RDF), negotiated
/void, /.well-known/void   the VoID/DCAT description written at build time, negotiated
/dumps/<file>         the build's dumps (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML)
/sources-compared     every source's figure for each thing counted, with quote and date
/sources, /places, /timeline   the listings, a page at a time (?page=N; KG_PAGE_SIZE rows)
/pictures/<name>.svg  the map, the timeline and the chart as standalone SVG
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
)
from markupsafe import Markup
from pyoxigraph import NamedNode, RdfFormat, serialize

from endpoint.context import get_kg
from endpoint.http.negotiation import best_format, vary_accept
from endpoint.pages import pictures
from endpoint.pages.entities import DATA_FORMATS, render_entity
from endpoint.pages.site_data import Page, SiteData
from endpoint.pages.terms import Linker
from graph.build import ontology_docs
from graph.build.export import dump_name, ensure_dump
from graph.errors import StoreMissing
from graph.formats import DUMP_FORMATS
from graph.namespaces import all_prefixes, graph_iri, prefix_lines
from graph.queries import examples, query_prefixes
from graph.store import DUMPS_DIR, dumps_dir

bp = Blueprint("site", __name__)

HTML = "text/html"
RDF_OFFERED = (HTML, *DATA_FORMATS.values())


@bp.app_context_processor
def _template_context() -> dict[str, object]:
    """The base IRI for every template (the 404 page names the IRI a path stands for)."""
    kg = current_app.extensions.get("kg")
    return {"kg_base_iri": kg.settings.base_iri if kg else None}


def _site_data() -> SiteData:
    kg = get_kg()
    languages = tuple(lang for lang, _ in request.accept_languages) or ("en",)
    return SiteData(
        kg.store,
        kg.settings.base_iri,
        Linker(kg.settings.base_iri, request.script_root),
        languages,
        page_size=kg.settings.page_size,
    )


def _page_number() -> int:
    """?page=N (1-based); anything else is the first page."""
    return max(1, request.args.get("page", default=1, type=int))


def _not_past_the_end(items: list, page: Page) -> None:
    if not items and page.number > 1:
        abort(404)


@bp.get("/")
def home() -> str:
    """The first page of each listing, and counts the build wrote (never a count of the store:
    the home page costs the same at 10k and at 10M triples)."""
    data = _site_data()
    dataset = data.dataset()
    items, recurring, timeline_page = data.timeline()
    counted, figures_page = data.sources_compared()
    killed = [c for c in counted if c.counts.value.endswith("outcome-killed")]
    sources, sources_page = data.sources()
    places, places_page = data.places()
    counts = data.class_counts()
    if "SourceDocument" not in counts and not sources_page.has_next:
        counts["SourceDocument"] = len(sources)
    if "FigureClaim" not in counts and not figures_page.has_next:
        counts["FigureClaim"] = sum(len(c.figures) for c in counted)
    return render_template(
        "home.html",
        dataset=dataset,
        statistics=data.statistics(dataset),
        sources=sources,
        sources_page=sources_page,
        source_count=counts.get("SourceDocument"),
        dumps=_dump_files(),
        examples=examples(get_kg().settings.base_iri),
        map_svg=pictures.map_svg(places),
        places_page=places_page,
        timeline_svg=pictures.timeline_svg(items, recurring),
        timeline_page=timeline_page,
        chart_svg=pictures.bar_chart_svg(data.chart_groups(killed[:2])),
        figure_claims=counts.get("FigureClaim"),
        page_size=data.page_size,
    )


@bp.get("/sources-compared")
def sources_compared() -> str:
    data = _site_data()
    counted, page = data.sources_compared(_page_number())
    _not_past_the_end(counted, page)
    return render_template(
        "sources.html",
        counted=counted,
        page=page,
        chart_svg=pictures.bar_chart_svg(data.chart_groups(counted)),
    )


@bp.get("/sources")
def sources() -> str:
    """Every source document, a page at a time."""
    rows, page = _site_data().sources(_page_number())
    _not_past_the_end(rows, page)
    return render_template("listing.html", what="sources", title="Sources", rows=rows, page=page)


@bp.get("/places")
def places() -> str:
    """Every place with coordinates, a page at a time, with the page's map."""
    rows, page = _site_data().places(_page_number())
    _not_past_the_end(rows, page)
    return render_template("listing.html", what="places", title="Places", rows=rows, page=page,
                           svg=pictures.map_svg(rows), picture="map")


@bp.get("/timeline")
def timeline() -> str:
    """Every dated thing, a page at a time, with the page's timeline."""
    items, recurring, page = _site_data().timeline(_page_number())
    _not_past_the_end(items, page)
    return render_template("listing.html", what="timeline", title="Timeline", rows=items,
                           page=page, svg=pictures.timeline_svg(items, recurring),
                           picture="timeline")


@bp.get("/pictures/<name>.svg")
def picture(name: str) -> Response:
    """The drawings of a listing's page (?page=N, the first by default) as standalone SVG."""
    drawings = {
        "map": lambda data, n: pictures.map_svg(data.places(n)[0]),
        "timeline": lambda data, n: pictures.timeline_svg(*data.timeline(n)[:2]),
        "figures": lambda data, n: pictures.bar_chart_svg(
            data.chart_groups(data.sources_compared(n)[0])
        ),
    }
    if name == "basemap":  # the query UI's map view draws its points over this
        return Response(str(_basemap_view()), mimetype="image/svg+xml")
    if name not in drawings:
        abort(404)
    svg = str(drawings[name](_site_data(), _page_number()))
    return Response(svg, mimetype="image/svg+xml")


def _basemap_view():
    """?west=&south=&east=&north=&width= (degrees, pixels), bounded to the earth and to a
    sensible size: a 400 for a view that is no rectangle."""
    box = [request.args.get(k, type=float) for k in ("west", "south", "east", "north")]
    width = min(2000, max(50, request.args.get("width", default=760, type=int)))
    if None in box:
        abort(400, "west, south, east and north (degrees) are required")
    west, south, east, north = box
    west, east = max(-180.0, west), min(180.0, east)
    south, north = max(-85.0, south), min(85.0, north)
    if not (west < east and south < north):
        abort(400, "the view must have west < east and south < north")
    return pictures.basemap_svg(west, south, east, north, width)


@bp.get("/query")
def query() -> str:
    """The query UI: a tab per example, titled by its `# title:` and listed by its `# group:`.

    A federated example (it calls SERVICE) is marked as needing KG_SERVICE_ALLOWLIST when the
    allow-list is empty: out of the box it would answer 403. A shared query arrives in the
    fragment (`#query=…&endpoint=…`, read by query.js: it never reaches the server's logs)."""
    settings = get_kg().settings
    base = settings.base_iri
    tabs = [
        {
            "name": q.name.removeprefix("examples/"),
            "title": q.title or q.name.removeprefix("examples/"),
            "group": q.group or "Other",
            "query": with_prefixes(q.text, base),
            "needs": _needs(q.text, settings),
        }
        for q in examples(base)
    ]
    tabs.sort(key=lambda t: (t["group"] == "Other", t["needs"] is not None))  # stable: in group
    selected = request.args.get("example")
    linked = request.args.get("query", "").strip()
    if linked:  # a page's "every claim / every link as a query": a tab of its own, opened first
        title = linked.splitlines()[0].lstrip("# ").strip() if linked.startswith("#") else ""
        tabs.insert(0, {"name": "linked", "title": title or "Query", "group": "Linked",
                        "query": linked, "needs": None})
        selected = "linked"
    return render_template("query.html", tabs=tabs, selected=selected,
                           prefixes=all_prefixes(base), endpoint_iri=base + "sparql")


def _needs(text: str, settings) -> str | None:
    """Why an example cannot run here (a SERVICE off the allow-list), or None."""
    from graph.errors import KGError
    from graph.sparql.reader import read

    try:
        services = read(text, base_iri=settings.base_iri,
                        prefixes=query_prefixes(settings.base_iri)).services
    except KGError:
        return None
    if any(s.iri not in settings.service_allowlist for s in services):
        return "needs KG_SERVICE_ALLOWLIST"
    return None


def with_prefixes(text: str, base_iri: str) -> str:
    """The query with PREFIX lines for our prefixes it uses without declaring (YASGUI shows it
    as is, and a reader copying it elsewhere needs them)."""
    known = all_prefixes(base_iri)
    return prefix_lines({p: known[p] for p in sorted(known)}, text) + text


@bp.get("/ontology")
def ontology() -> Response:
    kg = get_kg()
    fmt = best_format(request, RDF_OFFERED)
    if fmt == HTML:
        html = ontology_docs.render_html(kg.store, kg.settings.base_iri)
        styles, body = ontology_docs.html_parts(html)
        page = render_template("ontology.html", styles=Markup(styles), body=Markup(body))
        return vary_accept(Response(page, mimetype=HTML))
    graph = NamedNode(graph_iri(kg.settings.base_iri, ontology_docs.ONTOLOGY_GRAPH))
    return vary_accept(_graph_response([graph], fmt))


@bp.get("/void")
@bp.get("/.well-known/void")
def void() -> Response:
    """The dataset description: the build's VoID graph plus the hand-written dataset graph."""
    kg = get_kg()
    base = kg.settings.base_iri
    fmt = best_format(request, RDF_OFFERED)
    if fmt == HTML:
        links = {ext: f"{request.script_root}/void?format={ext}" for ext in DATA_FORMATS}
        return vary_accept(Response(render_entity(base + "dataset", links), mimetype=HTML))
    graphs = [NamedNode(graph_iri(base, "void")), NamedNode(graph_iri(base, "dataset"))]
    return vary_accept(_graph_response(graphs, fmt))


def _graph_response(graphs: list[NamedNode], fmt: RdfFormat) -> Response:
    store = get_kg().store
    triples = sorted(
        {q.triple for g in graphs for q in store.quads_for_pattern(None, None, None, g)}, key=str
    )
    prefixes = all_prefixes(get_kg().settings.base_iri) if fmt == RdfFormat.TURTLE else None
    return Response(serialize(triples, format=fmt, prefixes=prefixes), mimetype=fmt.media_type)


@bp.get("/dumps/<path:filename>")
def dump(filename: str) -> Response:
    """A dump of the served build; one the build did not write is made now, once."""
    folder = _dumps_folder()
    fmt = next((f for f in DUMP_FORMATS if dump_name(f) == filename), None)
    if fmt is not None:
        ensure_dump(folder.parent, fmt, get_kg().settings.base_iri)
    return send_from_directory(folder, filename)


def _dumps_folder():
    """The dumps of the build this process serves (its pinned build), not of a newer one."""
    kg = get_kg()
    if kg.pinned is not None:
        return kg.pinned.directory / DUMPS_DIR
    return dumps_dir(kg.settings)


def _dump_files() -> list[dict[str, object]]:
    try:
        folder = _dumps_folder()
    except StoreMissing:  # a remote backend with no local build: no dumps to list
        return []
    if not folder.is_dir():
        return []
    files = []
    for fmt in DUMP_FORMATS:  # every format: one the build did not write is made on request
        path = folder / dump_name(fmt)
        size = path.stat().st_size if path.is_file() else None
        files.append({"name": path.name, "size": size, "format": fmt.name})
    return files
