"""CORS open for reads: any origin may read, nobody's credentials travel.

`Access-Control-Allow-Origin: *` (never an echoed Origin, never Allow-Credentials), so a remote
YASGUI or a browser app can query /sparql and fetch our data documents, while cookies and HTTP
auth are never sent along. Preflights (a POST of application/sparql-query is not a "simple"
request) are answered for the methods the endpoint has.
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOW_METHODS = "GET, HEAD, POST, OPTIONS"
ALLOW_HEADERS = "Accept, Content-Type, If-None-Match"
EXPOSE_HEADERS = "ETag, Content-Length, Vary"
PREFLIGHT_MAX_AGE = "86400"


def init_cors(app: Flask) -> None:
    app.after_request(_add_cors_headers)


def _add_cors_headers(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
