"""The Flask app over the built store: SPARQL protocol, Linked Data pages, the site.

`create_app(settings)` follows the Flask tutorial's factory: defaults, then `Settings.from_env()`,
then an explicit `settings` argument wins (what tests pass). The store is opened once per process,
read-only, and kept in `app.extensions["kg"]`.
"""

from __future__ import annotations

from flask import Flask

from graph.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["KG_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes

    from endpoint.context import init_context

    init_context(app, settings)

    from endpoint.http.cors import init_cors
    from endpoint.http.errors import register_error_handlers
    from endpoint.pages import accounts, citations, entities, site
    from endpoint.search import bp as search_bp
    from endpoint.search import reconcile
    from endpoint.sparql import views as sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(reconcile.bp)
    app.register_blueprint(citations.bp)
    app.register_blueprint(entities.bp)
    app.register_blueprint(site.bp)
    app.register_blueprint(accounts.bp)
    register_error_handlers(app)
    init_cors(app)
    return app
