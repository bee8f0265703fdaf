"""The reader of SPARQL text (graph/sparql/reader.py): what it reports, its limits, and a
differential corpus on which its verdicts agree with Oxigraph's.

The corpus is the W3C SPARQL 1.1 syntax tests (tests/fixtures/w3c-sparql11-syntax/, from
github.com/w3c/rdf-tests) plus hypothesis-generated queries that mix what hand-written lexers get
wrong: `<` as an operator, strings of all four quote kinds, comments ending in LF, CR or the end
of the text, escapes, IRIs and SERVICE. Oxigraph gives its verdict in child processes
(tests/oxigraph_verdict.py), on an empty in-memory store:
- every text goes to a child in the endpoint's offline sandbox, which cannot connect anywhere
  (a SERVICE it evaluates fails with PermissionError: the reader must have seen a SERVICE there),
  and the test's loopback listener must see nothing;
- texts whose every SERVICE IRI is the listener's (the generated ones, by construction) also go
  to a child without a sandbox: the listener records which IRIs Oxigraph really calls, and the
  reader must have seen each of them.
A text the reader refuses never reaches an engine, so only the texts it accepts must agree on
SERVICE; validity and form must agree on all, but for the cases listed below.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.config import Settings
from graph.errors import QueryLimitExceeded, QuerySyntaxError
from graph.sparql.reader import NESTING_CEILING, Limits, check_limits, read

HERE = Path(__file__).parent
CORPUS = HERE / "fixtures" / "w3c-sparql11-syntax"
FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*.r[qu]"))

# Where the reader (rdflib's grammar) and Oxigraph disagree on validity. rdflib's parser checks
# the grammar only, not the side conditions the SPARQL 1.1 spec adds to it (§18.2.1, §19.8);
# Oxigraph checks those too. In every case the reader accepts and Oxigraph refuses, so the
# reader still reports each SERVICE of the text and the engine never runs it.
DISAGREEMENTS = {
    "syntax-query/syn-bad-01.rq": "SELECT * with GROUP BY (§19.8 note 12)",
    "syntax-query/syn-bad-02.rq": "a projected variable that is not grouped (§19.8 note 12)",
    "syntax-query/syn-bad-03.rq": "SELECT (… AS ?x) of a variable already projected (§19.8)",
    "syntax-query/syn-bad-values-too-few.rq": "a VALUES row shorter than its variables",
    "syntax-query/syn-bad-values-too-many.rq": "a VALUES row longer than its variables",
    "syntax-query/syn-invalid-codepoint-escaped-bad-01.rq": r"\uD800, a surrogate, in a string",
    "syntax-query/syntax-BINDscope6.rq": "BIND to a variable in scope (§18.2.1)",
    "syntax-query/syntax-BINDscope7.rq": "BIND to a variable in scope (§18.2.1)",
    "syntax-query/syntax-BINDscope8.rq": "BIND to a variable in scope (§18.2.1)",
    "syntax-query/syntax-SELECTscope2.rq": "AS to a variable in scope (§18.2.1)",
    "syntax-update-1/syntax-update-54.ru": "a blank node label shared by two blocks (§19.6)",
    "syntax-update-1/syntax-update-bad-03.ru": "a blank node label shared by two blocks (§19.6)",
    "syntax-update-1/syntax-update-bad-04.ru": "a blank node label shared by two blocks (§19.6)",
    "syntax-update-1/syntax-update-bad-10.ru": "a blank node label shared by two blocks (§19.6)",
    "syntax-update-1/syntax-update-bad-11.ru": "a blank node in DELETE DATA (§19.6)",
    "syntax-update-1/syntax-update-bad-12.ru": "a blank node in DELETE WHERE (§19.6)",
}
GLUED_KEYWORD = re.compile(r"(?i)service(silent|[a-z0-9_]*:)")  # see test_guards.GLUED


# -- what it reports ----------------------------------------------------------------------------


def test_forms_and_updates():
    assert read("select * {}").form == "SELECT"
    assert read("CONSTRUCT WHERE { ?s ?p ?o }").form == "CONSTRUCT"
    assert read("DESCRIBE <urn:x>").form == "DESCRIBE"
    assert read("ASK {}").form == "ASK"
    for update in ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "LOAD <urn:x>", "CLEAR ALL"):
        assert read(update).is_update


def test_services_resolved_with_base_and_prefixes_and_flagged_silent():
    text = (
        "BASE <http://h/a/> PREFIX p: <sub/>\n"
        "SELECT * { SERVICE <b> {} SERVICE SILENT p:c {} SERVICE ?v {} SERVICE q:d\\.e {} }"
    )
    services = read(text, prefixes={"q": "http://q/"}).services
    assert [(s.iri, s.variable, s.silent) for s in services] == [
        ("http://h/a/b", None, False),
        ("http://h/a/sub/c", None, True),
        (None, "v", False),
        ("http://q/d.e", None, False),
    ]
    columns = [m.start() + 1 for m in re.finditer("SERVICE", text.split("\n")[1])]
    assert [(s.line, s.column) for s in services] == [(2, c) for c in columns]
    assert read("SELECT * { SERVICE <rel> {} }").services[0].iri is None  # no base: unresolved


def test_dataset_clauses_nesting_paths_and_patterns():
    info = read(
        "SELECT * FROM <urn:g> FROM NAMED <urn:n> WHERE { ?s <urn:p>/(<urn:q>|<urn:r>)* ?o . "
        "{ SELECT ?s { ?s ?p ?o FILTER((?o > 1)) } } OPTIONAL { ?s ?p [ ?q ?r ] } }"
    )
    assert (info.default_graphs, info.named_graphs) == (("urn:g",), ("urn:n",))
    assert info.has_dataset_clause
    assert info.path_length == 3
    assert info.patterns == 4
    assert info.nesting == 5  # group > subquery > its group > FILTER((…)): two expressions


def test_syntax_errors_say_where_and_what_in_one_short_line():
    with pytest.raises(QuerySyntaxError) as err:
        read("SELECT *\nWHERE { ?s ?p ?o }\nLIMIT x")
    message = str(err.value)
    assert message == "line 3, column 1: syntax error, `LIMIT` takes a whole number, found `x`"
    assert "\n" not in message and len(message) < 200
    assert (err.value.line, err.value.column, err.value.source_line) == (3, 1, "LIMIT x")
    with pytest.raises(QuerySyntaxError, match="line 1, column 12: syntax error, unknown prefix"):
        read("SELECT * { ex:a ?p ?o }")


def test_escapes_keep_offsets_of_the_text_as_written():
    text = 'SELECT * { ?s ?p "\\u00e9" . SERVICE <http://h/\\u0073parql> { ?s ?p ?o } }'
    info = read(text)
    assert info.services[0].iri == "http://h/sparql"
    assert info.services[0].column == text.index("SERVICE") + 1
    assert [text[v.start : v.end] for v in info.variables][-3:] == ["?s", "?p", "?o"]


def test_results_are_cached_by_text_base_and_prefixes():
    text = "SELECT * { ?s ex:p ?o }"
    first = read(text, prefixes={"ex": "http://a/"})
    assert read(text, prefixes={"ex": "http://a/"}) is first
    assert read(text, prefixes={"ex": "http://b/"}) is not first
    with pytest.raises(QuerySyntaxError):  # an error is cached too, and raised each time
        read(text)
    with pytest.raises(QuerySyntaxError):
        read(text)


# -- limits -------------------------------------------------------------------------------------


def path(steps: int) -> str:
    return "SELECT * { ?s " + "/".join(["a"] * steps) + " ?o }"


def nested(levels: int) -> str:
    return "SELECT * WHERE " + "{ " * levels + "?s ?p ?o" + " }" * levels


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        (path(1001), "KG_MAX_PATH_LENGTH"),
        (nested(129), "KG_MAX_NESTING"),
        ("SELECT * { " + " . ".join(f"?s <urn:p> ?o{i}" for i in range(2001)) + " }",
         "KG_MAX_PATTERNS"),
    ],
)
def test_each_limit_is_a_400_naming_its_setting_and_the_setting_raises_it(text, setting):
    limits = Limits.from_settings(Settings())
    with pytest.raises(QueryLimitExceeded, match=setting) as err:
        check_limits(read(text), limits)
    assert err.value.status == 400
    raised = {"KG_MAX_PATH_LENGTH": "max_path_length", "KG_MAX_NESTING": "max_nesting",
              "KG_MAX_PATTERNS": "max_patterns"}[setting]
    check_limits(read(text), Limits.from_settings(Settings(**{raised: 10_000})))


@pytest.mark.parametrize("levels", [130, NESTING_CEILING + 50, 3000])
def test_deep_nesting_is_the_nesting_limit_whether_or_not_the_parser_reads_it(levels):
    """Past NESTING_CEILING the parse itself runs out of recursion: the same 400."""
    limits = Limits.from_settings(Settings())
    for text in (nested(levels), "ASK { FILTER(" + "(" * levels + "1" + ")" * levels + ") }"):
        with pytest.raises(QueryLimitExceeded, match="KG_MAX_NESTING"):
            check_limits(read(text), limits)


def test_a_parse_past_its_budget_is_a_400_naming_the_setting_and_is_not_cached():
    text = path(50)
    with pytest.raises(QueryLimitExceeded, match="KG_MAX_PARSE_SECONDS"):
        read(text, budget=0.0)  # the deadline has passed at the first variable
    assert read(text).path_length == 50  # without a budget, the same text reads
    assert read(text, budget=0.0).path_length == 50  # and, read once, comes from the cache


def test_real_nesting_reads_in_a_thread_of_default_stack():
    """The raised recursion limit must be safe where requests run: in threads."""
    outcome: dict = {}

    def run() -> None:
        outcome["info"] = read(nested(120))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert outcome["info"].nesting == 120


# -- the differential corpus --------------------------------------------------------------------


class Recorder:
    """A loopback listener that notes the path of each HTTP request, then drops it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.paths: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                head = b""
                try:
                    while b"\r\n" not in head and len(head) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                except OSError:
                    pass
                parts = head.split(b" ", 2)
                self.paths.append(parts[1].decode().split("?")[0] if len(parts) > 1 else "")

    def take(self) -> list[str]:
        taken, self.paths[:] = list(self.paths), []
        return taken


class Oxigraph:
    """A child process that gives Oxigraph's verdicts: `offline` (in the endpoint's sandbox) or
    `loopback` (none: it is only given texts whose SERVICE IRIs are all the listener's)."""

    def __init__(self, profile: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "oxigraph_verdict.py"), profile],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE.parent,
        )
        self.sandboxed = json.loads(self.proc.stdout.readline())["sandboxed"]

    def verdict(self, text: str, kind: str, base: str) -> dict:
        self.proc.stdin.write(json.dumps({"text": text, "kind": kind, "base": base}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the Oxigraph child died"
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def listener():
    recorder = Recorder()
    yield recorder
    recorder.sock.close()


@pytest.fixture(scope="module")
def offline():
    child = Oxigraph("offline")
    yield child
    child.close()


@pytest.fixture(scope="module")
def loopback():
    child = Oxigraph("loopback")
    yield child
    child.close()


def ours(text: str, kind: str, base: str):
    """The reader's verdict: valid for this kind of text or not, and what it read."""
    try:
        info = read(text, base_iri=base)
    except (QuerySyntaxError, QueryLimitExceeded):
        return False, None
    return info.is_update == (kind == "update"), info


def agree(text: str, kind: str, listener: Recorder, offline: Oxigraph,
          loopback: Oxigraph | None = None) -> tuple[bool, bool]:
    """Check what must hold whatever the validity verdicts; return both of them.

    Only a text the reader accepts ever reaches an engine, so for those: what Oxigraph tried to
    call (offline: any connection; loopback: which IRI), the reader saw.
    """
    valid, info = ours(text, kind, listener.base)
    theirs = offline.verdict(text, kind, listener.base)
    if offline.sandboxed:
        assert listener.take() == [], text  # the sandboxed child reached nobody
    seen = {s.iri for s in info.services} if info else set()
    if valid and theirs["denied"] and kind == "query":
        assert seen, (text, theirs)
    if loopback is not None:
        again = loopback.verdict(text, kind, listener.base)
        assert again["valid"] == theirs["valid"], text
        called = listener.take()
        for path_ in called if valid else ():
            assert listener.base.rstrip("/") + path_ in seen, (text, path_, seen)
    if valid and theirs["valid"] and theirs["form"] not in (None, "UPDATE"):
        form = "GRAPH" if info.form in ("CONSTRUCT", "DESCRIBE") else info.form
        assert form == theirs["form"], (text, info.form, theirs)
    return valid, theirs["valid"]


_SERVICE_IRI = re.compile(r"(?i)service\s*(?:silent\s*)?<([^>]*)>")


def loopback_safe(text: str, base: str) -> bool:
    """May an unsandboxed Oxigraph evaluate this text? Only with no LOAD, no escape, and every
    SERVICE IRI relative (to the loopback base) or the listener's."""
    if re.search(r"(?i)\bload\b", text) or "\\u" in text.lower():
        return False
    lowered = text.lower().count("service")
    iris = _SERVICE_IRI.findall(text)
    return len(iris) == lowered and all(":" not in i or i.startswith(base) for i in iris)


@pytest.mark.parametrize("name", FILES)
def test_w3c_syntax_tests_agree_with_oxigraph(name, listener, offline, loopback):
    text = (CORPUS / name).read_text(encoding="utf-8")
    kind = "update" if name.endswith(".ru") else "query"
    if not offline.sandboxed and not loopback_safe(text, listener.base):
        valid, _ = ours(text, kind, listener.base)  # without the sandbox, the reader's side only
        assert valid or name in DISAGREEMENTS or "bad" in name, name
        return
    second = loopback if loopback_safe(text, listener.base) else None
    valid, theirs = agree(text, kind, listener, offline, second)
    if name in DISAGREEMENTS:
        assert (valid, theirs) == (True, False), f"{name} now agrees: drop it from the list"
    else:
        assert valid == theirs, (name, valid, theirs)


def test_w3c_service_tests_call_only_what_the_reader_saw(listener, offline, loopback):
    """syntax-fed's SERVICE <g> resolves against the test's loopback base: the loopback child
    calls it, the sandboxed one is denied, and the reader names it."""
    for name in [n for n in FILES if n.startswith("syntax-fed/")]:
        text = (CORPUS / name).read_text(encoding="utf-8")
        _, info = ours(text, "query", listener.base)
        assert [s.iri for s in info.services] == [listener.base + "g"]
        assert agree(text, "query", listener, offline, loopback) == (True, True)
    # the first one is a lone SERVICE, which evaluation must call (the others join it with
    # patterns that match nothing in an empty store)
    lone = (CORPUS / "syntax-fed/syntax-service-01.rq").read_text()
    assert offline.verdict(lone, "query", listener.base)["denied"] == offline.sandboxed
    loopback.verdict(lone, "query", listener.base)
    assert listener.take() == ["/g"]


@pytest.mark.parametrize(
    "text",
    [
        # the query the old lexer let through (it read `<'>') SERVICE <` as one IRI)
        "SELECT * WHERE { FILTER(?a<'>') SERVICE <{abs}> { ?s ?p ?o } FILTER('x'='x') }",
        "SELECT * WHERE { # a comment that ends at a carriage return\r SERVICE <{abs}> {} \n }",
        'SELECT * WHERE { BIND("\\u0022" AS ?a) SERVICE <{abs}> { } BIND("""x""" AS ?b) }',
    ],
)
def test_what_oxigraph_calls_the_reader_sees(text, listener, offline, loopback):
    """The differential is not vacuous: the sandbox denies these calls, and the loopback child
    makes them."""
    text = text.replace("{abs}", listener.base + "abs")
    assert read(text, base_iri=listener.base).services[0].iri == listener.base + "abs"
    assert offline.sandboxed, "the endpoint's sandbox is there: the verdicts must come from it"
    assert offline.verdict(text, "query", listener.base)["denied"]
    assert listener.take() == []
    loopback.verdict(text, "query", listener.base)
    assert listener.take() == ["/abs"]
    assert agree(text, "query", listener, offline, loopback) == (True, True)


# generated queries: noise that fools a lexer, around SERVICE calls to the listener
STRING_BODIES = ["", "<", ">", "#", "{", "}", "'", '"', "SERVICE <x> {", "\\'", '\\"', "\\n",
                 "\\\\", "\\u0022", "\\u0027", "\\", "\n", "\r", "a"]


def strings() -> st.SearchStrategy[str]:
    body = st.lists(st.sampled_from(STRING_BODIES), max_size=4).map("".join)
    quote = st.sampled_from(["'", '"', "'''", '"""'])
    return st.builds(lambda q, b: f"{q}{b}{q}", quote, body)


def noise(n: int) -> st.SearchStrategy[str]:
    op = st.sampled_from(["<", ">", "<=", ">=", "=", "!=", " < ", "<<"])
    term = st.one_of(st.sampled_from(["?a", "?b", "1", "<i>", "<>"]), strings())
    comment = st.builds(lambda b, end: f"#{b}{end}", st.sampled_from(STRING_BODIES),
                        st.sampled_from(["\n", "\r", "\r\n"]))
    piece = st.one_of(
        st.builds(lambda a, o, b: f"FILTER({a}{o}{b})", term, op, term),
        st.builds(lambda s: f"BIND({s} AS ?v{n})", strings()),
        comment,
        strings(),
        st.sampled_from(["?s ?p ?o .", "<i> <p> ?o .", "{", "}", "(", ")", ".", "<", ">", ""]),
    )
    return st.lists(piece, max_size=4).map(" ".join)


def service_call(n: int) -> st.SearchStrategy[str]:
    forms = ["SERVICE <{abs}>", "SERVICE SILENT <{abs}>", "service <s{n}>", "SERVICE x:s{n}",
             "SERVICE<s{n}>", "SERVICE :s{n}", "SERVICE\n<s{n}>", "SERVICESILENT <s{n}>",
             "SERVICEx:s{n}", "SERVICE ?e", "SERVICE <\\u0073{n}>", "service silent x:s{n}",
             "SERVICE <s{n}\\u003E"]
    return st.sampled_from(forms).map(lambda f: f.replace("{n}", str(n)))


@st.composite
def generated(draw) -> str:
    parts = []
    for n in range(draw(st.integers(1, 3))):
        parts.append(draw(noise(n)))
        parts.append(draw(service_call(n)) + " { ?s ?p ?o }")
    parts.append(draw(noise(9)))
    tail = draw(st.sampled_from(["", " # trailing comment at the end of the text"]))
    return "PREFIX x: <> PREFIX : <> SELECT * WHERE { " + " ".join(parts) + " }" + tail


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=generated())
def test_generated_queries_agree_with_oxigraph(text, listener, offline, loopback):
    """Validity agrees except where the grammar's side conditions differ (BIND scope, a
    relative IRI Oxigraph cannot resolve...); the SERVICE verdict always holds (in `agree`)."""
    abs_text = text.replace("{abs}", listener.base + "abs")
    valid, theirs = agree(abs_text, "query", listener, offline, loopback)
    if GLUED_KEYWORD.search(abs_text) and theirs and not valid:
        return  # Oxigraph reads a keyword glued to the next word; the reader refuses it
    if valid and not theirs:
        assert _side_condition(abs_text), abs_text
    else:
        assert valid == theirs, abs_text


def _side_condition(text: str) -> bool:
    """Texts the reader accepts and Oxigraph refuses for a reason DISAGREEMENTS lists."""
    return "BIND(" in text or "\\u" in text


def test_the_policy_gives_the_reader_its_budget():
    from endpoint.sparql.policy import inspect

    with pytest.raises(QueryLimitExceeded, match="KG_MAX_PARSE_SECONDS"):
        inspect(path(51), Settings(max_parse_seconds=0.0), {})
    assert inspect(path(51), Settings(), {}).path_length == 51
