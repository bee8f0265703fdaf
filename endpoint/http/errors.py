"""One error taxonomy (graph.errors), three renderings, chosen per request.

- The SPARQL protocol (`/sparql`) answers in plain text, as Oxigraph and the SPARQL 1.1
  Protocol's examples do: SPARQL clients print the body as is. A syntax error is the reader's
  located sentence with the line and a caret under the column
  (graph.sparql.syntax_errors); a program sending `Accept: application/json` (and no SPARQL
  results type) gets the JSON shape below.
- JSON callers (Accept prefers JSON to HTML) get one canonical shape, pinned by a test:
  `{"ok": false, "status": 400, "error": "QuerySyntaxError", "title": "Bad Request",
  "message": "..."}`.
- Browsers get `error.html` (or `<status>.html` when the site has one, e.g. 404.html),
  autoescaped by Jinja. Other clients (RDF, curl without Accept JSON/HTML) get plain text.

Werkzeug's HTTP errors (404, 405, 413...) take the same path, keeping their headers (Allow).
Only the outermost handler catches bare `Exception`, and it logs the traceback.

Internal details (addresses, OS errors, a backend's own error text) never reach a client: an
error whose message carries them has a `public_message` (graph.remote.store.RemoteError), which is
what the client gets; the full message goes to the log.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from jinja2 import TemplateNotFound
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import BuildError

from graph.errors import KGError, QuerySyntaxError

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(KGError, _handle_kg_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)


# A 503 is always "busy or a process died, try again": say when, so clients back off by the
# clock rather than retry at once (RFC 9110 §10.2.3).
RETRY_AFTER_SECONDS = 5


def _handle_kg_error(error: KGError) -> Response:
    message = getattr(error, "public_message", None)
    if message is None:
        message = str(error)
    else:
        log.warning("%s on %s %s: %s", type(error).__name__, request.method, request.path, error)
    details = error.details() if isinstance(error, QuerySyntaxError) else {}
    response = render_error(error.status, message, type(error).__name__, details)
    if error.status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    response = render_error(status, error.description or "", type(error).__name__)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(500, "internal error; it has been logged", "InternalServerError")


def render_error(
    status: int, message: str, error_type: str, details: dict[str, object] | None = None
) -> Response:
    """The error in the rendering this request calls for (see the module docstring).

    `details` (a syntax error's line, column, expected, source_line and excerpt) go into the
    JSON as they are; the text and HTML renderings show the excerpt (the line with a caret)."""
    title = HTTP_STATUS_CODES.get(status, "Error")
    details = details or {}
    kind = _rendering()
    if kind == "json":
        response = jsonify(
            ok=False, status=status, error=error_type, title=title, message=message, **details
        )
    elif kind == "html":
        response = Response(
            _html(status, title, message, error_type, details.get("excerpt")),
            mimetype="text/html",
        )
    else:
        excerpt = f"{details['excerpt']}\n" if details.get("excerpt") else ""
        response = Response(f"{title}: {message}\n{excerpt}", mimetype="text/plain")
    response.status_code = status
    response.vary.add("Accept")
    return response


def _rendering() -> str:
    if request.blueprint == "sparql":  # SPARQL clients print the body: text, unless a program
        accept = request.headers.get("Accept", "")  # asks for plain JSON and no results type
        wants_json = "application/json" in accept and "sparql-results" not in accept
        return "json" if wants_json else "text"
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/json", "application/sparql-results+json", "application/ld+json"]
    )
    if best is None:
        return "text"
    return "html" if best == "text/html" else "json"


def _html(status: int, title: str, message: str, error_type: str,
          excerpt: object = None) -> str:
    context = {"status": status, "title": title, "message": message, "error": error_type,
               "path": request.path, "iri": None, "excerpt": excerpt}
    try:
        return render_template([f"{status}.html", "error.html"], **context)
    except (TemplateNotFound, BuildError):  # the site's templates or routes are not in this app
        from markupsafe import escape

        return f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>" \
            f"<p>{escape(message)}</p>"
