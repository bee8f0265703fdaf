"""Search: `GET /search?q=` over the build's search index (graph/search), HTML or JSON.

The answer is negotiated like the rest of the site (`format=json` or `Accept`), with
`Vary: Accept`. Bad input (no query, one longer than MAX_QUERY_CHARS, one with no letter or
digit, a page past MAX_DEPTH) is a 400 that says what to change; the query is only ever
shown through the template's autoescape or inside JSON.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from endpoint.context import get_kg
from endpoint.http.errors import render_error
from endpoint.http.negotiation import best_format, vary_accept
from graph.errors import BadSearch, SearchUnavailable
from graph.search import INDEX_FILE
from graph.search.lookup import MAX_DEPTH, Hit, SearchIndex
from graph.search.text import MAX_QUERY_CHARS, normalise

bp = Blueprint("search", __name__)

HTML, JSON = "text/html", "application/json"
DEFAULT_SIZE, MAX_SIZE = 20, 100


def get_index() -> SearchIndex:
    """The index of the build this process serves, opened once per app."""
    index = current_app.extensions.get("kg-search")
    if index is None:
        kg = get_kg()
        if not kg.store_dir:
            raise SearchUnavailable("search needs the embedded store's index (`kg build`); "
                                    "it is not available with a remote backend")
        try:
            index = SearchIndex(Path(kg.store_dir).parent / INDEX_FILE)
        except FileNotFoundError:
            raise SearchUnavailable("this build has no search index: run `kg build`") from None
        current_app.extensions["kg-search"] = index
    return index


def query_text(raw: str | None, name: str = "q") -> str:
    """The query as given, checked: 400 for none, too long, or nothing to search for."""
    text = (raw or "").strip()
    if not text:
        raise BadSearch(f"give something to search for: ?{name}=Khojaly")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a JSON "\\ud800" escape
        raise BadSearch("the query is not valid Unicode text") from None
    if len(text) > MAX_QUERY_CHARS:
        raise BadSearch(f"the query is {len(text)} characters long; "
                        f"at most {MAX_QUERY_CHARS} are searched")
    if not normalise(text):
        raise BadSearch("the query holds no letter or digit to search for")
    return text


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadSearch(f"{name} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise BadSearch(f"{name} must be a whole number from {low} to {high}")
    return value


def page_url(iri: str) -> str | None:
    """The site's page for one of our things, on the host that serves it."""
    prefix = get_kg().settings.base_iri + "id/"
    if not iri.startswith(prefix):
        return None
    kind, _, slug = iri[len(prefix) :].partition("/")
    return url_for("entities.page", kind=kind, slug=slug)


def hit_json(hit: Hit) -> dict[str, object]:
    return {"iri": hit.iri, "kind": hit.kind, "label": hit.label,
            "description": hit.description, "matched": hit.matched, "field": hit.field,
            "tier": hit.tier, "page": page_url(hit.iri)}


@bp.get("/search")
def search() -> Response:
    short = {"json": JSON, "html": HTML}.get((request.args.get("format") or "").lower())
    wants = short or best_format(request, (HTML, JSON))
    try:
        q = query_text(request.args.get("q"))
        size = _int_arg("size", DEFAULT_SIZE, 1, MAX_SIZE)
        page = _int_arg("page", 1, 1, MAX_DEPTH // size)
    except BadSearch as err:
        if wants == JSON:  # `format=json` wins over a browser's Accept
            return vary_accept(_json_error(str(err)))
        raise
    results = get_index().search(q, page=page, size=size)
    def link(n: int) -> str:
        return url_for("search.search", q=q, page=n, size=size if size != DEFAULT_SIZE else None,
                       format="json" if wants == JSON and "format" in request.args else None)
    next_url = link(page + 1) if results.more else None
    prev_url = link(page - 1) if page > 1 else None
    if wants == JSON:
        body = {"query": q, "page": page, "size": size, "next": next_url, "previous": prev_url,
                "hits": [hit_json(h) for h in results.hits]}
        return vary_accept(jsonify(body))
    html = render_template("search.html", q=q, results=results, next_url=next_url,
                           prev_url=prev_url, page_url=page_url)
    return vary_accept(Response(html, mimetype=HTML))


def _json_error(message: str) -> Response:
    response = render_error(400, message, BadSearch.__name__)
    if response.mimetype != JSON:
        response = jsonify(ok=False, status=400, error=BadSearch.__name__,
                           title="Bad Request", message=message)
        response.status_code = 400
    return response
