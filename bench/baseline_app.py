"""The minimal Flask + gunicorn + pyoxigraph app our endpoint is measured against.

Why it exists: a ratio against "the least anyone would write" shows what our guards, negotiation
and caching cost or save. No guards, no negotiation, no caching, no time limit: one read-only
store per worker, GET /sparql?query=... answered as SPARQL JSON (SELECT/ASK) or N-Triples.

    BENCH_STORE=<oxigraph dir> gunicorn -w 2 'bench.baseline_app:create_app()'
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store


def create_app(store_path: str | None = None) -> Flask:
    store = Store.read_only(store_path or os.environ["BENCH_STORE"])
    app = Flask(__name__)

    @app.get("/sparql")
    def sparql() -> Response:
        result = store.query(request.args["query"], use_default_graph_as_union=True)
        if isinstance(result, QuerySolutions | QueryBoolean):
            body = result.serialize(format=QueryResultsFormat.JSON)
            return Response(body, mimetype="application/sparql-results+json")
        body = result.serialize(format=RdfFormat.N_TRIPLES)
        return Response(body, mimetype="application/n-triples")

    return app
