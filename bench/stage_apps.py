"""The do-nothing apps the stage breakdown (bench/stages.py) runs under our HTTP server.

Each answers GET /sparql with a fixed small SPARQL JSON body, so what a server spends on them is
the server's own work (and, for the Flask one, Flask's): subtracted from our endpoint's cost, it
tells where the rest goes. Factories, so gunicorn (`bench.stage_apps:noop_wsgi()`) and granian
(`--factory bench.stage_apps:noop_wsgi`, or `noop_asgi` through the same a2wsgi adapter the
endpoint uses) load them the way they load the endpoint.
"""

from __future__ import annotations

BODY = b'{"head":{"vars":["label"]},"results":{"bindings":[]}}'
HEADERS = [("Content-Type", "application/sparql-results+json"),
           ("Content-Length", str(len(BODY)))]


def noop_wsgi():
    def app(environ, start_response):
        start_response("200 OK", list(HEADERS))
        return [BODY]

    return app


def flask_wsgi():
    from flask import Flask, Response

    app = Flask(__name__)

    @app.get("/sparql")
    def sparql() -> Response:
        return Response(BODY, mimetype="application/sparql-results+json")

    return app


def _asgi(wsgi):
    from a2wsgi import WSGIMiddleware

    from graph.config import Settings

    return WSGIMiddleware(wsgi, workers=Settings.from_env().threads)


def noop_asgi():
    return _asgi(noop_wsgi())


def flask_asgi():
    return _asgi(flask_wsgi())


def endpoint_without_asgi_cache():
    """The endpoint as `kg serve` runs it under ASGI, minus the event-loop cache layer
    (endpoint.http.caching.ConditionalCacheASGI, swapped for a pass-through while the app is
    made, wherever it sits in the stack): what that layer earns, measured."""
    import endpoint.http.caching as caching
    from endpoint.server import granian_worker

    real = caching.ConditionalCacheASGI
    caching.ConditionalCacheASGI = lambda app, ctx: app  # type: ignore[assignment,misc]
    try:
        return granian_worker()
    finally:
        caching.ConditionalCacheASGI = real


def raw_asgi():
    """A do-nothing ASGI app with no adapter: the HTTP server's share alone (ASGI servers)."""
    start = {"type": "http.response.start", "status": 200,
             "headers": [(k.lower().encode(), v.encode()) for k, v in HEADERS]}
    body = {"type": "http.response.body", "body": BODY}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send(start)
        await send(body)

    return app
