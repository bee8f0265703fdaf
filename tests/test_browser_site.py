# ruff: noqa: F811  (the fixtures imported from tests/test_browser.py are test parameters here)
"""The query UI and the maps in a real browser (Debian's chromium, Playwright), against a real
server: share links, kept edits, the result views, readable errors, the mini-map.

The server, the browser and the network watch are tests/test_browser.py's: a request that leaves
127.0.0.1, fails or answers >= 400 fails the test. Each test saves a screenshot to
var/screenshots/ (not committed) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_browser import browser, live_server  # noqa: F401  (the shared fixtures)

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


@pytest.fixture
def page(browser, live_server):
    """tests/test_browser.py's watched page, with one difference: a test may declare a status
    it expects (`page.expected_statuses`), such as the 400 of a query with a syntax error."""
    context = browser.new_context()
    page = context.new_page()
    page.expected_statuses = set()
    problems: list[str] = []
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and r.status not in page.expected_statuses
            and problems.append(f"HTTP {r.status}: {r.url}"))
    page.on("request", lambda r: (
        urlsplit(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:")
        and problems.append(f"left the machine: {r.url}")))
    page.on("console", lambda m: m.type == "error" and not (
        page.expected_statuses and "status of 400" in m.text)
        and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    yield page
    context.close()
    assert problems == []


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _editor_text(page) -> str:
    return page.evaluate("window.kgYasgui.getTab().getYasqe().getValue()")


def _open_query_ui(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("window.kgYasgui && window.kgYasgui.getTab().getYasqe()")


def _run(page, query: str):
    page.evaluate("q => window.kgYasgui.getTab().getYasqe().setValue(q)", query)
    active = page.locator(".tabPanel.active")
    with page.expect_response(lambda r: r.url.endswith("/sparql")) as answer:
        active.locator(".yasqe_queryButton").click()
    return active, answer.value


def test_a_share_link_opens_exactly_the_modified_query(page, live_server):
    base, _ = live_server
    _open_query_ui(page, base + "/query?example=sources")
    assert page.locator(".tabPanel.active .CodeMirror").count() == 1
    # tabs are named by the examples' titles
    names = page.locator(".tabsList .tab").all_inner_texts()
    assert any("Which sources does the graph draw on" in n for n in names), names[:5]
    modified = _editor_text(page).replace("SELECT", "SELECT DISTINCT", 1) + "\n# edited in a test"
    page.evaluate("q => window.kgYasgui.getTab().getYasqe().setValue(q)", modified)
    link = page.evaluate("window.kgYasgui.getTab().getShareableLink()")
    assert link.startswith(base + "/query#") and "example=" not in link
    # the edit is kept for this tab across a reload
    page.reload()
    page.wait_for_function("window.kgYasgui && window.kgYasgui.getTab().getYasqe()")
    assert _editor_text(page) == modified
    # the link, in a fresh browser context (no kept edits), opens exactly the shared query
    fresh = page.context.browser.new_context().new_page()
    try:
        _open_query_ui(fresh, link)
        assert _editor_text(fresh) == modified
        assert fresh.evaluate("window.kgYasgui.getTab().getEndpoint()") == base + "/sparql"
        assert fresh.locator(".tabsList .tab.active").inner_text().startswith("Shared query")
        _shot(fresh, "query-shared-link")
    finally:
        fresh.context.close()


def test_a_result_shows_prefixed_names_and_switches_to_chart_and_map(page, live_server):
    base, _ = live_server
    _open_query_ui(page, base + "/query?example=places-with-coordinates")
    query = _editor_text(page)
    active, answer = _run(page, query)
    assert answer.status == 200
    table = active.locator(".yasr table.kg-table")
    table.wait_for()
    first = table.locator("tbody tr").first
    link = first.locator("td a.iri").first
    assert link.inner_text().startswith(("place:", "memorial:"))  # a prefixed name, not <https…>
    assert link.get_attribute("href").startswith(base + "/id/")
    assert link.get_attribute("title").startswith("https://w3id.org/khojaly/id/")
    assert table.locator("span.badge.datatype", has_text="xsd:decimal").count() >= 2
    assert table.locator("span.badge.lang", has_text="@en").count() >= 1
    assert "^^" not in table.inner_text()
    # the table fits the page: no horizontal overflow of the results
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, "query-table")
    active.locator(".yasr .select_kgchart").click()
    bars = active.locator(".kg-chart .kg-bar-row")
    bars.first.wait_for()
    assert bars.count() == table.locator("tbody tr").count() or bars.count() > 0
    widths = [b.evaluate("e => e.getBoundingClientRect().width")
              for b in active.locator(".kg-bar").all()]
    assert max(widths) > 50
    _shot(page, "query-chart")
    active.locator(".yasr .select_kgmap").click()
    svg = active.locator("svg.kg-map")
    svg.wait_for()
    assert svg.locator("circle.kg-point").count() >= 3
    image = svg.locator("image")
    assert "/pictures/basemap.svg?" in image.get_attribute("href")
    page.wait_for_function(  # the basemap image has arrived and drawn
        "() => { const i = document.querySelector('svg.kg-map image');"
        " return i && i.getBBox().width > 0 && performance.getEntriesByType('resource')"
        ".some(e => e.name.includes('/pictures/basemap.svg')); }")
    _shot(page, "query-map")


def test_a_syntax_error_shows_the_line_and_a_caret(page, live_server):
    base, _ = live_server
    _open_query_ui(page, base + "/query?example=sources")
    bad = "PREFIX schema: <https://schema.org/>\nSELECT ?name WHERE {\n  ?s schem:name ?name\n}"
    page.expected_statuses.add(400)  # the answer this test is about
    active, answer = _run(page, bad)
    assert answer.status == 400
    error = active.locator(".yasr .errorResult")
    error.wait_for()
    text = error.inner_text()
    assert ("line 3, column 6: syntax error, unknown prefix `schem:` — did you mean `schema:`?"
            in text)
    assert "3 |   ?s schem:name ?name" in text
    lines = text.splitlines()
    caret_line = next(line for line in lines if line.strip() == "^")
    source_line = next(line for line in lines if line.startswith("3 | "))
    assert caret_line.index("^") == source_line.index("schem:")  # under the column it names
    assert "expected one of" not in text
    _shot(page, "query-syntax-error")


def test_a_place_page_draws_its_mini_map_over_the_basemap(page, live_server):
    base, _ = live_server
    page.goto(base + "/page/place/khojaly")
    svg = page.locator("figure.minimap svg.minimap")
    assert svg.is_visible()
    land = svg.locator("path.land")
    # the land clipped to the frame, with the Caspian's shore cut out of it: two rings of real
    # coastline, not a placeholder rectangle
    land_d = land.get_attribute("d")
    assert land_d.count("M") >= 2 and land_d.count("L") >= 12
    assert len(svg.locator("path.borders").get_attribute("d")) > 500
    width, height = svg.evaluate("e => [e.viewBox.baseVal.width, e.viewBox.baseVal.height]")
    point = svg.locator("circle.point")
    cx, cy = float(point.get_attribute("cx")), float(point.get_attribute("cy"))
    assert 0 < cx < width and 0 < cy < height
    # the point is drawn after (over) the basemap
    order = svg.evaluate("e => [...e.children].map(c => c.getAttribute('class') || c.tagName)")
    assert order.index("point") > order.index("land")
    assert svg.locator("text", has_text="Khojaly").count() >= 1
    _shot(page, "place-khojaly")
    svg.screenshot(path=str(SHOTS / "place-khojaly-minimap.png"))
    page.goto(base + "/")
    assert page.locator("svg.map path.land").count() == 1
    assert page.locator("svg.chart line.value-axis").count() >= 1
    _shot(page, "home")
    page.locator("svg.map").screenshot(path=str(SHOTS / "home-map.png"))
    page.locator("svg.chart").screenshot(path=str(SHOTS / "home-chart.png"))


@pytest.mark.parametrize(("query", "expected"), [
    ("Xocali", "/page/place/khojaly"),            # without the dotless i
    ("Mother's Cry", "/page/memorial/ana-harayi"),
    ("Stepanakert", "/page/place/khankendi"),     # a former name
    ("notorious", "/page/claim/hrw-"),            # a word of a Human Rights Watch quote
])
def test_the_search_box_of_every_page_finds_names_titles_and_quotes(page, live_server, query,
                                                                     expected):
    base, _ = live_server
    page.goto(base + "/page/place/baku")
    box = page.locator("form.site-search input[name=q]")
    box.fill(query)
    with page.expect_navigation():
        box.press("Enter")
    assert "/search?" in page.url
    first = page.locator("ol.hits li.hit a").first
    assert expected in first.get_attribute("href"), page.locator("ol.hits").inner_text()[:400]
    _shot(page, "search-" + "".join(c for c in query.lower() if c.isalnum()))
