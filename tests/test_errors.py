"""Errors: graph.errors → status; one canonical JSON shape (pinned here), escaped HTML for
browsers, plain text for the SPARQL protocol and other clients; 500s log and hide details."""

from __future__ import annotations

import json
import logging

import pytest
from sparql_support import make_settings

from endpoint import create_app
from graph import errors

JSON_KEYS = {"ok", "status", "error", "title", "message"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(make_settings(tmp_path_factory.mktemp("errors")))

    def raise_error(name: str):
        if name == "crash":
            raise RuntimeError("secret internal detail")
        raise getattr(errors, name)("bad <b>input</b> & more")

    app.add_url_rule("/test-error/<name>", "raise_error", raise_error)
    yield app
    app.extensions["kg"].pool.close()


@pytest.fixture
def client(app):
    return app.test_client()


def test_canonical_json_shape(client):
    r = client.get("/test-error/QuerySyntaxError", headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.mimetype == "application/json"
    assert json.loads(r.data) == {
        "ok": False,
        "status": 400,
        "error": "QuerySyntaxError",
        "title": "Bad Request",
        "message": "bad <b>input</b> & more",
    }


def test_werkzeug_errors_have_the_same_json_shape(client):
    r = client.get("/no/such/page", headers={"Accept": "application/json"})
    body = json.loads(r.data)
    assert r.status_code == 404
    assert set(body) == JSON_KEYS
    assert (body["ok"], body["status"], body["error"]) == (False, 404, "NotFound")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("QuerySyntaxError", 400),
        ("QueryRefused", 403),
        ("UnknownFormat", 406),
        ("QueryTimeout", 503),
        ("StoreMissing", 503),
        ("KGError", 500),
    ],
)
def test_domain_errors_map_to_statuses(client, name, status):
    r = client.get(f"/test-error/{name}", headers={"Accept": "application/json"})
    assert r.status_code == status
    assert json.loads(r.data)["error"] == name
    # a 503 tells the client when to come back; nothing else does
    assert (r.headers.get("Retry-After") == "5") == (status == 503)


def test_browsers_get_an_escaped_html_page(client):
    r = client.get("/test-error/QueryRefused", headers={"Accept": "text/html"})
    assert r.status_code == 403
    assert r.mimetype == "text/html"
    page = r.data.decode()
    assert "bad &lt;b&gt;input&lt;/b&gt; &amp; more" in page
    assert "<b>input</b>" not in page


def test_nothing_from_the_url_is_reflected_unescaped(client):
    # quotes and ampersands are legal in a path (and an IRI), and break out of HTML attributes
    r = client.get("/no/x'onmouseover='alert(1)&amp", headers={"Accept": "text/html"})
    assert r.status_code == 404
    page = r.data.decode()
    assert "x'onmouseover='alert(1)" not in page
    assert "x&#39;onmouseover=&#39;alert(1)&amp;amp" in page  # reflected, but escaped


def test_rdf_clients_get_plain_text(client):
    r = client.get("/test-error/UnknownFormat", headers={"Accept": "text/turtle"})
    assert r.status_code == 406
    assert r.mimetype == "text/plain"
    assert "bad <b>input</b>" in r.data.decode()
    assert "Accept" in r.headers["Vary"]


def test_sparql_protocol_errors_are_plain_text_whatever_the_accept(client):
    r = client.get("/sparql", query_string={"query": "SELEC"},
                   headers={"Accept": "application/sparql-results+json, text/html"})
    assert r.status_code == 400
    assert r.mimetype == "text/plain"
    assert "line 1, column " in r.data.decode()


def test_method_not_allowed_keeps_the_allow_header(client):
    r = client.put("/sparql", data="x")
    assert r.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["Allow"].split(",")}


def test_unexpected_errors_are_logged_and_hidden(client, caplog):
    with caplog.at_level(logging.ERROR, logger="endpoint.http.errors"):
        r = client.get("/test-error/crash", headers={"Accept": "application/json"})
    assert r.status_code == 500
    assert "secret internal detail" not in r.data.decode()
    assert json.loads(r.data)["error"] == "InternalServerError"
    assert any("secret internal detail" in (rec.exc_text or "") or rec.exc_info
               for rec in caplog.records)


def test_script_in_a_path_is_not_reflected(client):
    r = client.get("/no/<script>alert(1)</script>", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "<script>alert(1)" not in r.data.decode()


def test_every_error_class_lives_in_graph_errors_and_is_raised_somewhere():
    """One error module: no KGError subclass defined elsewhere, and none that nothing uses."""
    import ast
    import inspect
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    ours = {name for name, obj in vars(errors).items()
            if inspect.isclass(obj) and obj.__module__ == errors.__name__}
    elsewhere, used = [], set()
    for path in [*root.joinpath("graph").rglob("*.py"), *root.joinpath("endpoint").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        if path.name == "errors.py" and path.parent.name == "graph":
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if bases & ours:
                    elsewhere.append(f"{path.relative_to(root)}: {node.name}")
        used |= {n for n in ours if re.search(rf"\b{n}\b", text)}
    assert elsewhere == []
    # Problem and the bases are used through their subclasses' raises, the rest by name
    assert ours - used - {"Logged"} == set()
