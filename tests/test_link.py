"""Linking against a real HTTP stand-in for Wikidata on 127.0.0.1 (tests/standin.py).

The stand-in holds, for our test entities, the right candidate, near-misses (same label and wrong
type; right type 300 km away) and noise (tests/fixtures/wikidata-standin.ttl). Nothing here
reaches the internet.
"""

from __future__ import annotations

import csv
import gc
import io
from datetime import date
from pathlib import Path

import pytest
from link_support import BASE, UNLINKED, WD, fast, write_data
from pyoxigraph import Literal, NamedNode, Store
from standin import serve

from graph.build.inputs import load
from graph.cli.link import enrich, link
from graph.cli.main import main
from graph.config import Settings
from graph.errors import RemoteUnavailable
from graph.linking.client import SparqlClient, with_values
from graph.linking.profiles import WIKIDATA
from graph.linking.scoring import distance_km, parse_point
from graph.queries import parse_header
from graph.remote.http import RetryPolicy, parse_retry_after


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return write_data(tmp_path / "repo")


def run_link(runner, settings, *args):
    """`kg link ...` through the kg group, which maps our errors to exit codes."""
    return runner.invoke(main, ["link", *args], obj=settings, catch_exceptions=False)


def read_review(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t"))


def candidates_of(rows, slug: str) -> list[dict[str, str]]:
    return [r for r in rows if r["entity"] == f"{BASE}id/{slug}" and r["candidate"]]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- reconciliation -----------------------------------------------------------------------


def test_right_candidate_ranks_first_and_near_misses_are_flagged(runner, settings, standin,
                                                                tmp_path):
    out = tmp_path / "review.tsv"
    result = run_link(runner, settings, *fast(standin.url, "--out", str(out)))
    assert result.exit_code == 0, result.output
    rows = read_review(out)
    town = candidates_of(rows, "place/khojaly")
    assert town[0]["candidate"] == WD + "Q9900001"
    assert town[0]["status"] == "proposed"
    by_item = {r["candidate"]: r for r in town}
    far, wrong = by_item[WD + "Q9900003"], by_item[WD + "Q9900002"]
    assert "far" in far["flags"] and far["status"] == "near-miss"
    assert float(far["distance_km"]) == pytest.approx(300, abs=5)
    assert "wrong-type" in wrong["flags"] and wrong["status"] == "near-miss"
    assert WD + "Q9900004" not in by_item  # "Khojaly District" is another label: noise
    for slug, right in [("place/khankendi", "Q9900010"), ("event/khojaly-massacre", "Q9900030"),
                        ("memorial/ana-harayi", "Q9900020")]:
        ranked = candidates_of(rows, slug)
        assert ranked[0]["candidate"] == WD + right, slug
        assert ranked[0]["status"] == "proposed", slug
        assert all(r["status"] == "near-miss" for r in ranked[1:]), slug
    city = candidates_of(rows, "place/khankendi")[0]
    assert "Khankendi@en" in city["matched_labels"]  # matched through a Wikidata alias
    assert all(r["decision"] == "" for r in rows)  # nothing is decided for the curator


def test_entities_already_linked_are_not_reconciled(runner, settings, standin, tmp_path):
    out = tmp_path / "review.tsv"
    run_link(runner, settings, *fast(standin.url, "--out", str(out)))
    entities = {r["entity"] for r in read_review(out)}
    assert len(entities) == UNLINKED
    assert f"{BASE}id/place/baku" not in entities


def test_the_client_batches_entities_into_few_requests(runner, settings, standin, tmp_path):
    out = tmp_path / "review.tsv"
    result = run_link(runner, settings, *fast(standin.url, "--batch-size", "3", "--out", str(out)))
    assert result.exit_code == 0, result.output
    assert len(standin.received) == 2  # 4 entities, 3 per request
    assert all(r.method == "POST" for r in standin.received)
    assert all(r.user_agent == settings.user_agent for r in standin.received)
    first = standin.received[0].query
    assert first.count(f"<{BASE}id/") >= 3  # one request carries several entities
    standin.reset()
    run_link(runner, settings, *fast(standin.url, "--batch-size", "50", "--out", str(out)))
    assert len(standin.received) == 1


def test_review_never_writes_links(runner, settings, standin, tmp_path):
    before = snapshot(settings.data_dir)
    run_link(runner, settings, *fast(standin.url, "--out", str(tmp_path / "review.tsv")))
    assert snapshot(settings.data_dir) == before


# --- failures: retried, then reported; never a crash or a half-written file ---------------


def test_429_with_retry_after_is_honoured_then_succeeds(standin):
    waits: list[float] = []
    client = SparqlClient(standin.url, user_agent="test", timeout=5, min_interval=0,
                          sleep=waits.append)
    standin.fail_next(429, count=2, retry_after="3")
    rows = client.select("SELECT ?x WHERE { VALUES ?x { 1 } }")
    assert [r["x"].value for r in rows] == ["1"]
    assert waits == [3.0, 3.0]
    assert client.requests == 3


def test_503_retried_with_exponential_backoff_then_reported(standin):
    waits: list[float] = []
    client = SparqlClient(standin.url, user_agent="test", timeout=5, min_interval=0,
                          policy=RetryPolicy(retries=2, backoff=0.5), sleep=waits.append)
    standin.fail_next(503, count=5)
    with pytest.raises(RemoteUnavailable, match="HTTP 503") as info:
        client.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert info.value.attempts == 3
    assert waits == [0.5, 1.0]
    assert len(standin.received) == 3


def test_requests_are_spaced_by_the_rate_limit(standin):
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    client = SparqlClient(standin.url, user_agent="test", min_interval=2.0, sleep=sleep,
                          clock=lambda: now[0])
    for _ in range(3):
        client.select("SELECT ?x WHERE { VALUES ?x { 1 } }")
        now[0] += 0.5  # the caller works half a second between requests
    assert waits == [1.5, 1.5]
    assert len(standin.received) == 3


def test_retry_after_beyond_the_limit_is_reported_not_waited(standin):
    waits: list[float] = []
    client = SparqlClient(standin.url, user_agent="test", min_interval=0,
                          policy=RetryPolicy(max_wait=10), sleep=waits.append)
    standin.fail_next(429, retry_after="3600")
    with pytest.raises(RemoteUnavailable, match="Retry-After"):
        client.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert waits == []


def test_a_timeout_is_retried(standin):
    client = SparqlClient(standin.url, user_agent="test", timeout=0.3, min_interval=0,
                          policy=RetryPolicy(retries=2, backoff=0))
    standin.stall_next(1.0)
    rows = client.select("SELECT ?x WHERE { VALUES ?x { 2 } }")
    assert [r["x"].value for r in rows] == ["2"]
    assert client.requests == 2


def test_timeouts_that_persist_are_reported_in_the_review_file(runner, settings, standin,
                                                               tmp_path):
    out = tmp_path / "review.tsv"
    standin.stall_next(1.0, count=2)
    result = run_link(runner, settings, *fast(
        standin.url, "--timeout", "0.3", "--retries", "1", "--batch-size", "2", "--out", str(out)
    ))
    assert result.exit_code == 2
    assert "no answer within 0.3s" in result.output
    rows = read_review(out)
    errors = [r for r in rows if r["status"] == "error"]
    assert len(errors) == 2 and all("no answer" in r["flags"] for r in errors)
    assert candidates_of(rows, "place/khojaly") or candidates_of(rows, "place/khankendi")
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_a_failing_endpoint_never_leaves_a_half_written_review(runner, settings, standin,
                                                               tmp_path):
    out = tmp_path / "review.tsv"
    out.write_text("previous review\n", encoding="utf-8")
    standin.fail_next(503, count=100)
    result = run_link(runner, settings, *fast(standin.url, "--retries", "1", "--out", str(out)))
    assert result.exit_code == 2
    assert "HTTP 503" in result.output
    rows = read_review(out)  # a whole file: every entity, each marked as failed
    assert {r["status"] for r in rows} == {"error"}
    assert len(rows) == UNLINKED


def test_an_unreachable_endpoint_is_reported(runner, settings, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/sparql"
    result = run_link(runner, settings, *fast(url, "--out", str(tmp_path / "r.tsv")))
    assert result.exit_code == 2
    assert "cannot connect" in result.output


# --- accepting a review file ----------------------------------------------------------------


def _decide(path: Path, decisions: dict[tuple[str, str], str], clear_flags: bool = False) -> None:
    """Fill the decision column as a curator would (entity slug, Q-id) -> decision."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if not line.startswith("#") and len(cells) > 5:
            key = (cells[0].removeprefix(BASE + "id/"), cells[4].removeprefix(WD))
            if key in decisions:
                cells[-1] = decisions[key]
                if clear_flags:
                    cells[-3] = ""
        out.append("\t".join(cells))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_accept_writes_a_linkset_with_provenance(runner, settings, standin, tmp_path):
    review = tmp_path / "review.tsv"
    run_link(runner, settings, *fast(standin.url, "--out", str(review)))
    _decide(review, {("place/khojaly", "Q9900001"): "exactMatch",
                     ("event/khojaly-massacre", "Q9900030"): "sameAs"})
    result = run_link(runner, settings, "--accept", str(review))
    assert result.exit_code == 0, result.output
    written = settings.data_dir / "links" / f"wikidata-reviewed-{date.today().isoformat()}.ttl"
    parsed = load(settings)  # the build's own loader reads it as one more linkset graph
    graph = f"{BASE}graph/links/{written.stem}"
    store = Store()
    store.extend(parsed.all_quads())
    ask = f"""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    PREFIX owl: <http://www.w3.org/2002/07/owl#>
    PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcterms: <http://purl.org/dc/terms/>
    ASK {{ GRAPH <{graph}> {{
      <{BASE}id/place/khojaly> skos:exactMatch <{WD}Q9900001> .
      <{BASE}id/event/khojaly-massacre> owl:sameAs <{WD}Q9900030> .
      ?ls a void:Linkset ; void:objectsTarget <http://www.wikidata.org/> ;
          void:linkPredicate skos:exactMatch, owl:sameAs ; void:triples 2 ;
          dcterms:source <{standin.url}> ; dcterms:created ?day ;
          <{BASE}ontology#linkMethod> <{BASE}ontology#ReviewedReconciliation> .
    }} }}"""
    assert store.query(ask)
    links = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o "
                        f"FILTER(STRSTARTS(STR(?o), '{WD}')) }} }}")
    assert int(next(iter(links))["n"].value) == 2  # only what the curator accepted


def test_accept_refuses_a_near_miss_and_writes_nothing(runner, settings, standin, tmp_path):
    review = tmp_path / "review.tsv"
    run_link(runner, settings, *fast(standin.url, "--out", str(review)))
    _decide(review, {("place/khojaly", "Q9900003"): "sameAs"})
    before = snapshot(settings.data_dir)
    result = run_link(runner, settings, "--accept", str(review))
    assert result.exit_code == 1
    assert "near-miss (far)" in result.output
    assert snapshot(settings.data_dir) == before
    # a curator who clears the flags accepts it deliberately
    _decide(review, {("place/khojaly", "Q9900003"): "closeMatch"}, clear_flags=True)
    result = run_link(runner, settings, "--accept", str(review))
    assert result.exit_code == 0, result.output


def test_accept_refuses_a_second_link_for_an_entity_linked_elsewhere(runner, settings, standin,
                                                                    tmp_path):
    review = tmp_path / "review.tsv"
    run_link(runner, settings, *fast(standin.url, "--all", "--out", str(review)))
    _decide(review, {("place/baku", "Q9248"): "sameAs"})
    before = snapshot(settings.data_dir)
    result = run_link(runner, settings, "--accept", str(review))
    assert result.exit_code == 1
    assert f"<{BASE}id/place/baku> is already linked to <{WD}Q9248>" in result.output
    assert snapshot(settings.data_dir) == before


def test_accept_reports_every_bad_row_with_its_line(tmp_path, settings):
    from graph.errors import DataError
    from graph.linking import review

    path = tmp_path / "review.tsv"
    header = "\t".join(review.COLUMNS)
    rows = [
        [f"{BASE}id/place/khojaly", "Khojaly", "place", "1", WD + "Q1", "", "", "0.9", "ok",
         "", "", "proposed", "probably"],
        [f"{BASE}id/place/nowhere", "X", "place", "1", WD + "Q2", "", "", "0.9", "ok",
         "", "", "proposed", "sameAs"],
        [f"{BASE}id/place/khojaly", "Khojaly", "place", "2", "http://example.org/x", "", "",
         "0.9", "ok", "", "", "candidate", "sameAs"],
    ]
    path.write_text("# profile: wikidata\n" + header + "\n"
                    + "\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        review.read(path, WIKIDATA, {f"{BASE}id/place/khojaly"})
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 3
    assert messages[0].startswith(f"{path}:3: decision 'probably'")
    assert ":4: " in messages[1] and "not one of our entities" in messages[1]
    assert ":5: " in messages[2] and "not a Wikidata identifier" in messages[2]


# --- link health ---------------------------------------------------------------------------


def test_check_reports_links_that_no_longer_fit(runner, settings, standin):
    result = run_link(runner, settings, *fast(standin.url, "--check"))
    assert result.exit_code == 1
    table = {line.split("\t")[2]: line.split("\t")[3:] for line in result.stdout.splitlines()[1:]}
    assert table[WD + "Q9248"][0] == "ok"
    assert table[WD + "Q187052"][0] == "ok"
    status, detail = table[WD + "Q399"]
    assert status == "problem" and "label implausible" in detail and "type implausible" in detail
    assert table[WD + "Q9999999"][0] == "problem"
    assert "does not resolve" in table[WD + "Q9999999"][1]
    assert table[WD + "Q9900050"] == ["problem", f"redirected to <{WD}Q9900001>"]
    assert len(standin.received) == 1  # five links, one batched request


def test_check_marks_links_it_could_not_check_and_exits_2(runner, settings, standin):
    standin.fail_next(503, count=10)
    result = run_link(runner, settings, *fast(standin.url, "--retries", "1", "--check"))
    assert result.exit_code == 2
    statuses = {line.split("\t")[3] for line in result.stdout.splitlines()[1:]}
    assert statuses == {"unchecked"}


# --- building blocks ---------------------------------------------------------------------


def test_values_rows_cannot_change_the_query():
    nasty = 'x" ) } DROP ALL ; SELECT * { ?a ?b "\n\\'
    query = with_values("SELECT ?e ?l WHERE { VALUES (?e ?l) { } }",
                        [(NamedNode("http://ex/1"), Literal(nasty, language="en"))])
    rows = list(Store().query(query))
    assert len(rows) == 1 and rows[0]["l"] == Literal(nasty, language="en")


def test_with_values_needs_exactly_one_empty_block():
    with pytest.raises(ValueError, match="exactly one"):
        with_values("SELECT * WHERE { ?s ?p ?o }", [])


def test_points_and_distances():
    assert parse_point("<http://www.opengis.net/def/crs/OGC/1.3/CRS84> Point(46.75 39.81)") == (
        46.75, 39.81)
    assert parse_point("not a point") is None
    assert distance_km((46.0, 39.0), (46.0, 40.0)) == pytest.approx(111.2, abs=0.2)


def test_retry_after_as_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10.0
    assert parse_retry_after("soon") is None


def test_link_and_enrich_are_kg_commands():
    assert main.commands["link"] is link
    assert main.commands["enrich"] is enrich


def test_issue_4_accepted_links_and_enrichment_pass_the_build_checks(runner, repo_settings,
                                                                     standin):
    """On a copy of the real repository: what --accept and enrich write conforms to the shapes
    and the integrity checks, so `kg build` takes it as it is."""
    from graph.build.pipeline import check_inputs
    from graph.linking import review

    path = repo_settings.root / "review.tsv"
    row = [f"{BASE}id/place/khojaly", "Khojaly", "place", "1", WD + "Q9900001", "Khojaly@en", "",
           "0.950", "ok", "0.0", "", "proposed", "exactMatch"]
    path.write_text(f"# profile: wikidata\n# endpoint: {standin.url}\n"
                    + "\t".join(review.COLUMNS) + "\n" + "\t".join(row) + "\n", encoding="utf-8")
    assert run_link(runner, repo_settings, "--accept", str(path)).exit_code == 0
    result = runner.invoke(main, ["enrich", *fast(standin.url)], obj=repo_settings)
    assert result.exit_code == 0, result.output
    _, report = check_inputs(repo_settings)
    assert report.conforms, "\n".join(str(p) for p in report.problems)


def test_dbpedia_profile_reads_wgs84_points_and_dbo_types(runner, settings, tmp_path):
    """The second profile: DBpedia-shaped data (rdf:type dbo:*, geo lat/long, rdfs:comment)."""
    dbr, dbo = "http://dbpedia.org/resource/", "http://dbpedia.org/ontology/"
    store = Store()
    store.update(f"""
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    PREFIX wgs: <http://www.w3.org/2003/01/geo/wgs84_pos#>
    INSERT DATA {{
      <{dbr}Khojaly> rdfs:label "Khojaly"@en, "Xocalı"@az ; a <{dbo}Town>, <{dbo}Place> ;
          wgs:lat 39.91 ; wgs:long 46.79 ; rdfs:comment "test resource"@en .
      <{dbr}Khojaly_(film)> rdfs:label "Khojaly"@en ; a <{dbo}Film> .
    }}""")
    out = tmp_path / "review.tsv"
    (settings.data_dir / "links" / "dbpedia.ttl").write_text(
        f"<id/place/khankendi> <http://www.w3.org/2004/02/skos/core#exactMatch> "
        f"<{dbr}Khojaly> .\n", encoding="utf-8")  # a wrong link, for --check
    with serve(store) as dbpedia:
        result = run_link(runner, settings, "--profile", "dbpedia",
                          *fast(dbpedia.url, "--kind", "place", "--out", str(out)))
        assert result.exit_code == 0, result.output
        check = run_link(runner, settings, "--profile", "dbpedia", *fast(dbpedia.url, "--check"))
    gc.collect()
    ranked = candidates_of(read_review(out), "place/khojaly")
    assert [(r["candidate"], r["status"]) for r in ranked] == [
        (dbr + "Khojaly", "proposed"), (dbr + "Khojaly_(film)", "near-miss")]
    assert float(ranked[0]["distance_km"]) < 1
    assert check.exit_code == 1
    assert "label implausible: ours 'Khankendi'" in check.stdout


def test_issue_4_every_thing_is_linked_or_marked_pending(built_settings):
    """On the real data: each linkable thing has a status for each target dataset, derived from
    the linksets: 'pending' exactly when it has no link into that dataset, so the
    example query pending-links.rq lists the rest."""
    from graph.queries import run
    from graph.store import open_store

    store = open_store(built_settings)
    base = built_settings.base_iri
    kinds = "|".join(("event", "place", "organisation", "memorial", "person"))
    things = [r["thing"] for r in run(store, parse_header("things", f"""SELECT DISTINCT ?thing
        WHERE {{ ?thing a ?class FILTER(REGEX(STR(?thing), "^{base}id/({kinds})/[^/#]+$")) }}"""),
        base_iri=base)]
    assert len(things) >= 20
    for thing in things:
        rows = list(run(store, "pages/link_status", base_iri=base, entity=thing))
        assert len(rows) == 5, f"{thing.value}: one status per target dataset"
        for row in rows:
            pending = row["status"].value.endswith("-pending")
            assert pending == (row["link"] is None), f"{thing.value}: {row['status'].value}"
