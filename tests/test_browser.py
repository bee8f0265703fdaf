"""The site in a real browser: Debian's chromium driven by Playwright, against a real server.

The server is werkzeug's, on 127.0.0.1 port 0, in a thread, over the REAL data built once. Every
test watches the network: a request that fails, answers >= 400, or leaves 127.0.0.1 fails the
test (the site must work offline: no CDN, no third-party autocompleter).

In CI (CI set) these always run and a missing browser is a failure (`make browsers` installs it);
on a laptop without /usr/bin/chromium they are skipped.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from endpoint import create_app

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.browser

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(
        "no /usr/bin/chromium (run `make browsers`); browser tests always run in CI",
        allow_module_level=True,
    )


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture(scope="module")
def live_server(built_settings):
    app = create_app(built_settings)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    app.extensions["kg"].pool.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "no /usr/bin/chromium: run `make browsers` (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh page that records every network problem; the test fails if there was any."""
    base, _ = live_server
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"),
    )
    page.on(
        "request",
        lambda r: (
            urlsplit(r.url).hostname not in ("127.0.0.1", None)
            and not r.url.startswith("data:")
            and problems.append(f"left the machine: {r.url}")
        ),
    )
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    yield page
    context.close()
    assert problems == []


def test_home_page(page, live_server):
    base, _ = live_server
    page.goto(base + "/")
    assert page.locator("h1").first.inner_text().strip()
    assert page.locator("svg.map").is_visible()
    assert page.locator("svg.timeline").is_visible()
    assert page.locator("section.examples li a").count() >= 5
    page.locator("a", has_text="the event").first.click()
    page.wait_for_url("**/page/event/khojaly-massacre")


def test_entity_page_through_its_iri(page, live_server):
    base, app = live_server
    response = page.goto(base + "/id/place/khojaly")
    assert response is not None and response.ok
    assert page.url == base + "/page/place/khojaly"  # followed the 303
    assert page.locator("h1").inner_text() == "Khojaly"
    labels = page.locator("table.labels tbody tr")
    assert labels.count() >= 4
    assert page.locator('script[type="application/ld+json"]').count() == 1
    external = page.locator("section.external-links a.external")
    assert external.count() >= 1
    # follow a link to another entity of ours, on this host: its page is titled by the link text
    link = page.locator("table.props a[href^='/page/']:not([href*='#'])").first
    href, text = link.get_attribute("href"), link.inner_text()
    link.click()
    page.wait_for_url(base + href)
    assert page.locator("h1").inner_text() == text


def test_running_an_example_query_in_the_ui_shows_its_results(page, live_server):
    base, app = live_server
    from graph.queries import load_query

    query = load_query("examples/sources")
    expected = len(
        list(app.extensions["kg"].store.query(query.text, use_default_graph_as_union=True))
    )
    assert expected > 0
    page.goto(base + "/query?example=sources")
    page.wait_for_selector(".yasqe .CodeMirror")
    active = page.locator(".tabPanel.active")
    assert "SELECT" in active.locator(".CodeMirror").inner_text()
    with page.expect_response(lambda r: r.url.endswith("/sparql")) as answer:
        active.locator(".yasqe_queryButton").click()
    assert answer.value.status == 200
    rows = active.locator(".yasr table.dataTable tbody tr")
    rows.first.wait_for()
    assert rows.count() == expected
    # our IRIs in the results open on this host (the base IRI mapped onto it)
    links = [a.get_attribute("href") for a in active.locator(".yasr table a[href]").all()]
    ours = [h for h in links if "/id/source/" in h]
    assert len(ours) >= expected
    assert all(h.startswith(base + "/id/source/") for h in ours), ours[:3]
    page.goto(ours[0])  # the link's target: /id/... 303s to the page
    assert page.url == ours[0].replace("/id/", "/page/", 1)
    assert page.locator("h1").inner_text()
