"""A reconciliation service (W3C Entity Reconciliation CG, API version 0.2, as OpenRefine speaks it)
over the search index, so a spreadsheet of place or organisation names can be matched to our
things: https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/

    GET  /reconcile                         the service manifest
    GET|POST /reconcile?queries={...}       a batch of queries (OpenRefine POSTs a form field)
    GET  /reconcile/suggest/entity?prefix=  entity, type and property suggest services
    GET  /reconcile/preview?id=             an HTML card for one candidate

Identifiers are relative to the identifier space `{base}id/` ("place/khojaly"), so the manifest's
view template opens our own page for each. Candidates are scored 0-100 by the best of their names
(graph/search/lookup.py); `match` is set only for one clear winner. Properties in a query are
checked for shape but do not change the scores: the index holds names and types only.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from endpoint.context import get_kg
from endpoint.http.errors import render_error
from endpoint.search import get_index, query_text
from graph.errors import BadSearch
from graph.search.lookup import Hit

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")

MAX_BATCH = 100  # queries in one request (OpenRefine sends 10)
MAX_LIMIT = 25
DEFAULT_LIMIT = 5
#: The types a historian reconciles against, offered first (those the data holds).
DEFAULT_TYPES = (
    "https://schema.org/Place",
    "https://schema.org/Organization",
    "https://schema.org/Event",
    "https://schema.org/Person",
    "{base}ontology#Memorial",
    "{base}ontology#SourceDocument",
)
PROPERTIES = (("kind", "kind of thing (data/<kind>/: place, organisation, ...)"),)


def _space() -> str:
    return get_kg().settings.base_iri + "id/"


def _short_id(iri: str) -> str:
    space = _space()
    return iri[len(space) :] if iri.startswith(space) else iri


def _type_json(iri: str, name: str) -> dict[str, str]:
    return {"id": iri, "name": name}


def _default_types() -> list[dict[str, str]]:
    base = get_kg().settings.base_iri
    known = dict(get_index().types(limit=1000))
    wanted = [t.format(base=base) for t in DEFAULT_TYPES]
    return [_type_json(t, known[t]) for t in wanted if t in known]


def manifest() -> dict[str, object]:
    host = request.host_url.rstrip("/") + request.script_root
    return {
        "versions": ["0.2"],
        "name": "Khojaly Knowledge Graph",
        "identifierSpace": _space(),
        "schemaSpace": "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        "documentation": host + "/search",
        "view": {"url": host + "/id/{{id}}"},
        "preview": {"url": host + "/reconcile/preview?id={{id}}", "width": 420, "height": 140},
        "defaultTypes": _default_types(),
        "suggest": {
            "entity": {"service_url": host + "/reconcile", "service_path": "/suggest/entity"},
            "type": {"service_url": host + "/reconcile", "service_path": "/suggest/type"},
            "property": {"service_url": host + "/reconcile", "service_path": "/suggest/property"},
        },
    }


def _candidate(hit: Hit, match: bool) -> dict[str, object]:
    out: dict[str, object] = {
        "id": _short_id(hit.iri),
        "name": hit.label,
        "score": hit.score,
        "match": match,
        "type": [_type_json(t, n) for t, n in hit.types],
        "features": [{"id": "name_similarity", "value": round(hit.score / 100, 3)}],
    }
    if hit.description:
        out["description"] = hit.description
    return out


def _is_match(hits: list[Hit]) -> bool:
    """One clear winner: an exact name nobody else has, or a near one far ahead of the next."""
    if not hits:
        return False
    top = hits[0].score
    second = hits[1].score if len(hits) > 1 else 0.0
    return (top >= 100 and second < 100) or (top >= 95 and second < top - 10)


def _one(key: str, q: object) -> dict[str, object]:
    if not isinstance(q, dict):
        raise BadSearch(f"query {key!r} must be an object with a 'query' string")
    text = query_text(q.get("query") if isinstance(q.get("query"), str) else None, "query")
    type_iri = q.get("type")
    if isinstance(type_iri, list):  # older clients send a list of types; the first one counts
        type_iri = type_iri[0] if type_iri else None
    if type_iri is not None and not isinstance(type_iri, str):
        raise BadSearch(f"query {key!r}: 'type' must be a type identifier (a string)")
    limit = q.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise BadSearch(f"query {key!r}: 'limit' must be a positive whole number")
    props = q.get("properties", [])
    if not isinstance(props, list) or not all(isinstance(p, dict) and "pid" in p for p in props):
        raise BadSearch(f"query {key!r}: 'properties' must be a list of {{pid, v}} objects")
    hits = get_index().candidates(text, type_iri or None, min(limit, MAX_LIMIT))
    match = _is_match(hits)
    return {"result": [_candidate(h, match and n == 0) for n, h in enumerate(hits)]}


def _batch(raw: str) -> dict[str, object]:
    try:
        batch = json.loads(raw)
    except ValueError as err:
        raise BadSearch(f"'queries' is not valid JSON: {err.msg} at character {err.pos}") from None
    if not isinstance(batch, dict) or not batch:
        raise BadSearch("'queries' must be a JSON object of queries, e.g. "
                        '{"q0": {"query": "Khojaly"}}')
    if len(batch) > MAX_BATCH:
        raise BadSearch(f"at most {MAX_BATCH} queries in one batch, not {len(batch)}")
    return {str(key): _one(str(key), q) for key, q in batch.items()}


@bp.route("", methods=["GET", "POST"])
def service() -> Response:
    """The manifest, or the answers to a batch of queries (a form field or a URL parameter)."""
    raw = request.values.get("queries")
    if raw is None:
        if request.values.get("extend") is not None:
            return _json_error("data extension is not offered by this service")
        return jsonify(manifest())
    try:
        return jsonify(_batch(raw))
    except BadSearch as err:
        return _json_error(str(err))


@bp.get("/suggest/entity")
def suggest_entity() -> Response:
    try:
        prefix = query_text(request.args.get("prefix"), "prefix")
    except BadSearch as err:
        return _json_error(str(err))
    hits = get_index().search(prefix, page=1, size=10).hits
    return jsonify(result=[
        {"id": _short_id(h.iri), "name": h.label, "description": h.description or h.kind,
         "notable": [h.kind]} for h in hits])


@bp.get("/suggest/type")
def suggest_type() -> Response:
    prefix = (request.args.get("prefix") or "").strip()[:200]
    return jsonify(result=[_type_json(t, n) for t, n in get_index().types(prefix)])


@bp.get("/suggest/property")
def suggest_property() -> Response:
    prefix = (request.args.get("prefix") or "").strip().casefold()[:200]
    return jsonify(result=[{"id": pid, "name": pid, "description": desc}
                           for pid, desc in PROPERTIES if pid.startswith(prefix)])


@bp.get("/preview")
def preview() -> Response:
    ident = (request.args.get("id") or "").strip()
    hit = get_index().entity(_space() + ident) if ident and len(ident) < 500 else None
    if hit is None:
        return render_error(404, "no such identifier in this service", "NotFound")
    link = url_for("entities.thing", kind=hit.kind, slug=ident.partition("/")[2])
    return Response(render_template("reconcile_preview.html", hit=hit, link=link),
                    mimetype="text/html")


def _json_error(message: str, status: int = 400) -> Response:
    response = jsonify(ok=False, status=status, error=BadSearch.__name__,
                       title="Bad Request", message=message)
    response.status_code = status
    return response
