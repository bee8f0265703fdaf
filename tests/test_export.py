"""Export: every format round-trips (isomorphic), output is deterministic, CLI export re-parses."""

from __future__ import annotations

import io

import pytest
from helpers_graph import graphs_of, union_of
from pyoxigraph import NamedNode, RdfFormat, Store, parse
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from graph.build.export import to_bytes
from graph.build.pipeline import build
from graph.cli.main import main
from graph.errors import UnknownFormat
from graph.formats import DUMP_FORMATS, rdf_format
from graph.store import dumps_dir, open_store
from graph.validate import rdflib_bridge


def _assert_isomorphic(expected, actual):
    """Isomorphic (rdflib.compare); equal triple sets, the common case, are checked first: fast."""
    if set(expected) == set(actual):
        return
    if not isomorphic(expected, actual):
        _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        pytest.fail(
            f"not isomorphic:\nmissing {sorted(only_expected)[:5]}\nextra {sorted(only_actual)[:5]}"
        )


@pytest.fixture
def mini_store(mini_settings):
    build(mini_settings)
    return open_store(mini_settings), mini_settings


@pytest.mark.parametrize("fmt", DUMP_FORMATS, ids=lambda f: f.file_extension)
def test_export_round_trips(built_settings, fmt):
    store = open_store(built_settings)
    data = to_bytes(store, fmt, base_iri=built_settings.base_iri)
    back = list(parse(data, format=fmt))
    if fmt.supports_datasets:
        expected = graphs_of(store.quads_for_pattern(None, None, None, None))
        actual = graphs_of(back)
        assert sorted(actual) == sorted(expected)
        for name, graph in expected.items():
            _assert_isomorphic(graph, actual[name])
    else:
        _assert_isomorphic(union_of(store), rdflib_bridge.to_graph(back))


@pytest.mark.parametrize("fmt", DUMP_FORMATS, ids=lambda f: f.file_extension)
def test_export_is_deterministic(mini_store, fmt):
    store, settings = mini_store
    first = to_bytes(store, fmt, base_iri=settings.base_iri)
    # a second store loaded in another order must give the same bytes
    other = Store()
    other.extend(reversed(list(store.quads_for_pattern(None, None, None, None))))
    assert to_bytes(other, fmt, base_iri=settings.base_iri) == first


def test_two_builds_of_the_same_input_give_the_same_dumps_except_void(mini_settings):
    build(mini_settings)
    data = (dumps_dir(mini_settings) / "khojaly.nq").read_bytes()
    build(mini_settings)
    again = (dumps_dir(mini_settings) / "khojaly.nq").read_bytes()
    void = b"/graph/void>"
    assert [ln for ln in data.splitlines() if void not in ln] == [
        ln for ln in again.splitlines() if void not in ln
    ]


def test_one_graph_only(mini_store):
    store, settings = mini_store
    graph = settings.base_iri + "graph/place/khojaly"
    data = to_bytes(store, RdfFormat.N_TRIPLES, graph=graph)
    expected = rdflib_bridge.to_graph(store.quads_for_pattern(None, None, None, NamedNode(graph)))
    _assert_isomorphic(expected, rdflib_bridge.to_graph(parse(data, format=RdfFormat.N_TRIPLES)))
    assert b"caliber-2026" not in data


def test_cli_export_turtle_of_the_whole_dataset_reparses_to_the_same_graph(built_settings, runner):
    """`kg export --format turtle` re-parses to the same graph."""
    result = runner.invoke(main, ["export", "--format", "turtle"], obj=built_settings)
    assert result.exit_code == 0, result.output
    back = rdflib_bridge.to_graph(parse(result.stdout_bytes, format=RdfFormat.TURTLE))
    _assert_isomorphic(union_of(open_store(built_settings)), back)


def test_cli_export_guesses_the_format_from_the_file_name(mini_store, runner, tmp_path):
    store, settings = mini_store
    out = tmp_path / "graph.nq"
    result = runner.invoke(main, ["export", "-o", str(out)], obj=settings)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == to_bytes(store, RdfFormat.N_QUADS)


def test_cli_export_media_type_and_graph(mini_store, runner):
    store, settings = mini_store
    graph = settings.base_iri + "graph/place/khojaly"
    args = ["export", "--format", "application/n-triples", "--graph", graph]
    result = runner.invoke(main, args, obj=settings)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == to_bytes(store, RdfFormat.N_TRIPLES, graph=graph)


def test_cli_export_unknown_format_or_graph_exits_2(mini_store, runner):
    _, settings = mini_store
    result = runner.invoke(main, ["export", "--format", "docx"], obj=settings)
    assert result.exit_code == 2
    assert "unknown RDF format" in result.stderr
    result = runner.invoke(main, ["export", "--graph", "https://example.org/g"], obj=settings)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("turtle", RdfFormat.TURTLE),
        ("ttl", RdfFormat.TURTLE),
        (".trig", RdfFormat.TRIG),
        ("text/turtle; charset=utf-8", RdfFormat.TURTLE),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("jsonld", RdfFormat.JSON_LD),
        ("xml", RdfFormat.RDF_XML),
        ("nq", RdfFormat.N_QUADS),
    ],
)
def test_rdf_format_names(name, expected):
    assert rdf_format(name) == expected


def test_unknown_format_raises_our_error():
    with pytest.raises(UnknownFormat):
        rdf_format("application/pdf")


def test_turtle_dump_uses_our_prefixes(mini_store):
    store, settings = mini_store
    text = io.BytesIO(to_bytes(store, RdfFormat.TURTLE, base_iri=settings.base_iri)).read().decode()
    assert f"@prefix place: <{settings.base_iri}id/place/> ." in text
    assert "place:khojaly " in text


# -- native dumps and dumps made on request -------------------------------------------


def test_two_builds_of_the_same_input_give_byte_equal_dumps_in_every_format(
    mini_settings, monkeypatch
):
    """The store's index order depends only on the content (our blank-node labels are stable),
    so native dumps need no sorting to be reproducible. The clock is frozen: the VoID graph
    holds the build time."""
    from datetime import UTC, datetime

    import graph.build.pipeline

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 2, 26, 0, 0, tzinfo=UTC)

    monkeypatch.setattr(graph.build.pipeline, "datetime", Frozen)
    first = build(mini_settings).build_dir
    second = build(mini_settings).build_dir
    assert first != second
    for fmt in DUMP_FORMATS:
        name = f"khojaly.{fmt.file_extension}"
        a, b = (d / "dumps" / name for d in (first, second))
        assert a.read_bytes() == b.read_bytes(), name
    # a dump made from the store (not the staging file) is reproducible too
    assert to_bytes(open_store(mini_settings), RdfFormat.N_QUADS) == to_bytes(
        __import__("pyoxigraph").Store.read_only(str(first / "oxigraph")), RdfFormat.N_QUADS)


def test_triple_formats_hold_each_triple_of_the_union_once(mini_store):
    store, settings = mini_store
    data = to_bytes(store, RdfFormat.N_TRIPLES)
    lines = data.splitlines()
    assert len(lines) == len(set(lines))
    union = {(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None)}
    assert len(lines) == len(union)


def test_prefix_block_is_sorted_and_the_rest_streams_through(mini_store):
    store, settings = mini_store
    for fmt in (RdfFormat.TURTLE, RdfFormat.TRIG):
        lines = to_bytes(store, fmt, base_iri=settings.base_iri).splitlines()
        prefixes = [ln for ln in lines if ln.startswith(b"@prefix ")]
        assert len(prefixes) > 3
        assert lines[: len(prefixes)] == sorted(prefixes)


def test_sorted_prefixes_writer_handles_any_chunking():
    from graph.build.export import _SortedPrefixes

    text = b"@prefix b: <urn:b> .\n@prefix a: <urn:a> .\n<urn:x> a:p b:o .\n@prefix z: <x> .\n"
    for size in (1, 3, 7, len(text)):
        out = io.BytesIO()
        writer = _SortedPrefixes(out)
        for i in range(0, len(text), size):
            writer.write(text[i : i + size])
        writer.close()
        assert out.getvalue() == (b"@prefix a: <urn:a> .\n@prefix b: <urn:b> .\n"
                                  b"<urn:x> a:p b:o .\n@prefix z: <x> .\n"), size


def _waiters(lock) -> int:
    """Processes/threads blocked on a flock of this file (Linux /proc/locks marks them '->')."""
    import os
    from pathlib import Path

    inode = os.stat(lock).st_ino
    text = Path("/proc/locks").read_text()
    return sum(1 for ln in text.splitlines() if "->" in ln and f":{inode} " in ln)


def test_ensure_dump_writes_a_missing_dump_once_under_a_lock(mini_settings, monkeypatch):
    import fcntl
    import threading
    from pathlib import Path

    from graph.build import export

    report = build(mini_settings.replace(dump_formats=("nq",)))
    folder = report.build_dir / "dumps"
    ttl = folder / "khojaly.ttl"
    assert not ttl.exists()
    calls: list[Path] = []
    real = export._dump_atomically
    monkeypatch.setattr(export, "_dump_atomically",
                        lambda *a, **k: (calls.append(a[2]), real(*a, **k))[1])
    lock = folder / ".khojaly.ttl.lock"
    with lock.open("w") as held:  # hold the lock: both requests must wait for it
        fcntl.flock(held, fcntl.LOCK_EX)
        got: list[Path] = []
        threads = [threading.Thread(target=lambda: got.append(
            export.ensure_dump(report.build_dir, RdfFormat.TURTLE, mini_settings.base_iri)))
            for _ in range(2)]
        for t in threads:
            t.start()
        while _waiters(lock) < 2 and all(t.is_alive() for t in threads):
            threading.Event().wait(0.01)
        assert _waiters(lock) == 2
        fcntl.flock(held, fcntl.LOCK_UN)
    for t in threads:
        t.join()
    assert got == [ttl, ttl]
    assert calls == [ttl]  # written once
    store = open_store(mini_settings)
    assert ttl.read_bytes() == to_bytes(store, RdfFormat.TURTLE, base_iri=mini_settings.base_iri)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "khojaly.nq", "khojaly.ttl"]  # no temporary file left


def test_ensure_dump_refuses_a_format_that_is_not_a_dump(mini_settings):
    report = build(mini_settings.replace(dump_formats=("nq",)))
    from graph.build import export

    with pytest.raises(UnknownFormat):
        export.ensure_dump(
            report.build_dir, RdfFormat.N3, mini_settings.base_iri)


def test_the_site_serves_and_lists_a_dump_the_build_did_not_write(mini_settings):
    from endpoint import create_app

    report = build(mini_settings.replace(dump_formats=("nq",)))
    app = create_app(mini_settings)
    try:
        client = app.test_client()
        home = client.get("/").get_data(as_text=True)
        for fmt in DUMP_FORMATS:
            assert f"/dumps/khojaly.{fmt.file_extension}" in home
        assert "made on first download" in home
        with client.get("/dumps/khojaly.rdf") as r:
            assert r.status_code == 200
            body = r.get_data()
        assert body == (report.build_dir / "dumps" / "khojaly.rdf").read_bytes()
        assert client.get("/dumps/khojaly.n3").status_code == 404
    finally:
        app.extensions["kg"].pool.close()
