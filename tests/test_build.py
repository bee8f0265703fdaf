"""`kg build`: a new store per build, atomic swap, pruning, and nothing changed on failure."""

from __future__ import annotations

import json

import pytest
from helpers_graph import edit, store_fingerprint
from pyoxigraph import NamedNode

from graph.build import export, inputs
from graph.build.pipeline import build
from graph.errors import DataError, KGError, StoreMissing, ValidationFailed
from graph.store import current_build_dir, dataset_version, dumps_dir, open_store


def test_build_makes_a_store_behind_a_symlink(mini_settings):
    report = build(mini_settings)
    link = mini_settings.store_path
    assert link.is_symlink()
    assert current_build_dir(mini_settings) == report.build_dir.resolve()
    store = open_store(mini_settings)
    base = mini_settings.base_iri
    assert store.contains_named_graph(NamedNode(base + "graph/place/khojaly"))
    assert store.contains_named_graph(NamedNode(base + "graph/source/caliber-2026"))
    assert store.contains_named_graph(NamedNode(base + "graph/ontology/shapes"))
    info = json.loads((report.build_dir / "build.json").read_text())
    assert info["version"] == report.version == dataset_version(mini_settings)
    assert info["triples"] == report.triples == sum(report.graphs.values())
    names = sorted(p.name for p in dumps_dir(mini_settings).iterdir())
    assert names == sorted(f"khojaly.{f.file_extension}" for f in export.DUMP_FORMATS)


def test_void_graph_counts_the_data(mini_settings):
    report = build(mini_settings)
    store = open_store(mini_settings)
    rows = list(
        store.query(
            "PREFIX void: <http://rdfs.org/ns/void#> SELECT ?n ?endpoint WHERE { GRAPH ?g {"
            " ?ds void:triples ?n ; void:sparqlEndpoint ?endpoint } }",
        )
    )
    assert len(rows) == 1
    assert int(rows[0]["n"].value) == report.triples
    assert rows[0]["endpoint"].value == mini_settings.base_iri + "sparql"
    per_graph = store.query(
        "PREFIX void: <http://rdfs.org/ns/void#> SELECT ?sub ?n WHERE { ?ds void:subset ?sub ."
        " ?sub void:triples ?n }",
        use_default_graph_as_union=True,
    )
    assert {r["sub"].value: int(r["n"].value) for r in per_graph} == report.graphs


def test_version_is_a_content_hash(mini_settings):
    first = build(mini_settings).version
    assert build(mini_settings).version == first
    edit(mini_settings.data_dir / "place" / "khojaly.ttl", '"Khojaly"@en', '"Khojaly town"@en')
    assert build(mini_settings).version != first


def test_old_builds_are_pruned(mini_settings):
    settings = mini_settings.replace(keep_builds=2)
    dirs = [build(settings).build_dir for _ in range(3)]
    remaining = sorted(p for p in (settings.store_path.parent / "builds").iterdir())
    assert remaining == sorted(dirs[1:])
    assert current_build_dir(settings) == dirs[-1].resolve()


def test_open_store_without_a_build_says_so(mini_settings):
    with pytest.raises(StoreMissing, match="kg build"):
        open_store(mini_settings)


def test_broken_turtle_fails_with_location_and_keeps_the_old_store(repo_settings):
    """a broken Turtle file fails the build with file:line:column; the old store serves."""
    build(repo_settings)
    before = store_fingerprint(repo_settings)
    target = repo_settings.data_dir / "place" / "baku.ttl"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.rstrip().endswith("."))
    lines[last] = lines[last].rstrip()[:-1] + " ;;; ]\n"
    target.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        build(repo_settings)
    (problem,) = caught.value.problems
    assert problem.file == "data/place/baku.ttl"
    assert problem.line == last + 1 and problem.column is not None
    assert str(problem).startswith(f"data/place/baku.ttl:{last + 1}:{problem.column}: ")
    assert store_fingerprint(repo_settings) == before


def test_every_broken_file_is_reported_at_once(mini_settings):
    edit(mini_settings.data_dir / "place" / "khojaly.ttl", "<> a", "<> a a")
    edit(mini_settings.data_dir / "dataset.ttl", "<dataset> a", "<dataset> a ?")
    with pytest.raises(DataError) as caught:
        build(mini_settings)
    assert sorted(p.file for p in caught.value.problems) == [
        "data/dataset.ttl",
        "data/place/khojaly.ttl",
    ]


def test_shape_violation_fails_with_focus_path_message_and_keeps_the_old_store(mini_settings):
    build(mini_settings)
    before = store_fingerprint(mini_settings)
    source = mini_settings.data_dir / "source" / "caliber-2026.ttl"
    edit(source, "kgo:counts concept:outcome-killed ;", "")
    with pytest.raises(ValidationFailed) as caught:
        build(mini_settings)
    (problem,) = caught.value.problems
    assert problem.focus == mini_settings.base_iri + "id/claim/caliber-2026-killed"
    assert problem.path == "kgo:counts"
    assert "must say what it counts" in problem.message
    assert problem.file == "data/source/caliber-2026.ttl"
    assert store_fingerprint(mini_settings) == before


def test_a_failure_after_loading_removes_the_half_built_dir(mini_settings, monkeypatch):
    build(mini_settings)
    before = store_fingerprint(mini_settings)
    builds = sorted((mini_settings.store_path.parent / "builds").iterdir())

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "dump_all", broken_dump)
    with pytest.raises(KGError, match="disk full"):
        build(mini_settings)
    assert sorted((mini_settings.store_path.parent / "builds").iterdir()) == builds
    assert store_fingerprint(mini_settings) == before


def test_refuses_to_replace_a_real_directory(mini_settings):
    mini_settings.store_path.mkdir(parents=True)
    with pytest.raises(Exception, match="not a symlink"):
        build(mini_settings)


def test_the_real_data_builds(built_settings):
    store = open_store(built_settings)
    base = built_settings.base_iri
    assert store.contains_named_graph(NamedNode(base + "graph/void"))
    assert store.contains_named_graph(NamedNode(base + "graph/event/khojaly-massacre"))


def test_shape_violation_in_the_real_data_is_located(repo_settings):
    """The lead's shapes on the real data: the message names the file, focus node and path."""
    build(repo_settings)
    before = store_fingerprint(repo_settings)
    source = repo_settings.data_dir / "source" / "caliber-2026-khojaly-commemoration.ttl"
    text = source.read_text(encoding="utf-8")
    claim_at = text.index("claim:caliber-2026-killed a kgo:FigureClaim")
    counts_at = text.index("kgo:counts", claim_at)
    line_end = text.index("\n", counts_at)
    source.write_text(text[:counts_at] + text[line_end + 1 :], encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        build(repo_settings)
    focus = repo_settings.base_iri + "id/claim/caliber-2026-killed"
    located = [p for p in caught.value.problems if p.focus == focus]
    assert located, "\n".join(str(p) for p in caught.value.problems)
    assert any(p.path == "kgo:counts" for p in located)
    assert all(p.file == "data/source/caliber-2026-khojaly-commemoration.ttl" for p in located)
    assert store_fingerprint(repo_settings) == before


def test_a_second_concurrent_build_is_refused(mini_settings):
    from graph.build.pipeline import _build_lock

    with _build_lock(mini_settings), pytest.raises(KGError, match="another `kg build`"):
        build(mini_settings)
    assert not mini_settings.store_path.exists()
    build(mini_settings)  # the lock is released afterwards


def test_a_dead_half_built_dir_is_pruned_and_never_counts_as_a_kept_build(mini_settings):
    settings = mini_settings.replace(keep_builds=2)
    first = build(settings).build_dir
    second = build(settings).build_dir
    dead = settings.store_path.parent / "builds" / "99991231T000000000000Z-deadbeef"
    (dead / "oxigraph").mkdir(parents=True)  # no build.json: died before its swap
    third = build(settings).build_dir
    remaining = sorted((settings.store_path.parent / "builds").iterdir())
    assert remaining == sorted([second, third])
    assert first not in remaining


def test_a_build_pinned_by_a_server_is_not_pruned(mini_settings):
    """kg build keeps the directory a running server still reads (graph.store.pin_current_build)."""
    from graph.store import pin_current_build

    settings = mini_settings.replace(keep_builds=1)
    build(settings)
    pinned = pin_current_build(settings)
    build(settings)
    build(settings)
    assert pinned.store_dir.is_dir()  # kept while pinned, though older than keep_builds
    assert pinned.version == dataset_version(settings)  # inputs unchanged: same content hash
    pinned.release()  # the server exits
    build(settings)
    assert not pinned.directory.exists()


# -- the streaming build --------------------------------------------------------------


def _quads(data: bytes, fmt=None):
    from pyoxigraph import RdfFormat, parse

    return set(parse(data, format=fmt or RdfFormat.N_QUADS))


def test_the_nquads_dump_holds_exactly_what_the_store_holds(mini_settings):
    """The staging N-Quads file, with the VoID quads appended, is the N-Quads dump."""
    build(mini_settings)
    store = open_store(mini_settings)
    dump = (dumps_dir(mini_settings) / "khojaly.nq").read_bytes()
    # through a store: it keeps typed literals in canonical form ("+00:00" becomes "Z"), the
    # dump keeps them as the files wrote them
    from pyoxigraph import Store

    reloaded = Store()
    reloaded.extend(_quads(dump))
    assert set(reloaded) == set(store.quads_for_pattern(None, None, None, None))
    assert len(dump.splitlines()) == len(store)  # no line twice
    assert b"/graph/void>" in dump


def test_parsing_in_processes_gives_the_same_bytes_and_counts(repo_settings, monkeypatch):
    import io



    sequential = io.BytesIO()
    one = inputs.stage(repo_settings, sequential)
    monkeypatch.setattr(inputs, "PARALLEL_MIN_BYTES", 0)
    parallel = io.BytesIO()
    with inputs.parsing_pool(repo_settings) as pool:
        assert pool is not None
        two = inputs.stage(repo_settings, parallel, pool=pool)
    assert parallel.getvalue() == sequential.getvalue()
    assert two.triples == one.triples and two.version == one.version
    assert b"_:b" in sequential.getvalue()  # the real data has blank nodes: relabelled alike


def test_blank_node_labels_are_stable_and_literals_untouched(mini_settings):
    """Text relabelling (fast path) and its fallback (a literal holding "_:") give the labels
    the per-quad relabelling gives, and never touch a literal."""
    from pyoxigraph import RdfFormat, parse, serialize



    target = mini_settings.data_dir / "place" / "khojaly.ttl"
    files = {f.rel: f for f in inputs.discover(mini_settings)}
    f = files["data/place/khojaly.ttl"]
    for extra, literal in (
        ('<> <https://schema.org/x> [ <https://schema.org/y> _:n1 ] .\n', None),
        ('<> <https://schema.org/x> [ <https://schema.org/y> "see _:n1 ." ] .\n', b"see _:n1 ."),
    ):
        text = target.read_text(encoding="utf-8") + extra
        target.write_text(text, encoding="utf-8")
        raw = target.read_bytes()
        staged, n = inputs._to_nquads(f, raw)
        expected = serialize(inputs._relabel(parse(raw, format=RdfFormat.TURTLE,
                                                 base_iri=f.base_iri), f), format=RdfFormat.N_QUADS)
        assert staged == b"".join(dict.fromkeys(expected.splitlines(keepends=True)))
        assert n == len(staged.splitlines())
        assert inputs._to_nquads(f, raw) == (staged, n)  # parser's random labels do not leak
        if literal is not None:
            assert literal in staged


def test_build_writes_only_the_dumps_it_is_told_to(mini_settings):
    report = build(mini_settings.replace(dump_formats=("nq", "ttl")))
    assert sorted(p.name for p in dumps_dir(mini_settings).iterdir()) == [
        "khojaly.nq", "khojaly.ttl"]
    assert report.dumps == ["khojaly.nq", "khojaly.ttl"]
    store = open_store(mini_settings)
    rows = store.query(
        "PREFIX void: <http://rdfs.org/ns/void#> SELECT ?d WHERE { ?ds void:dataDump ?d }",
        use_default_graph_as_union=True,
    )  # every format is still offered: the others are made on first request
    assert len(list(rows)) == len(export.DUMP_FORMATS)
    build(mini_settings.replace(dump_formats=("ttl",)))  # no N-Quads file left behind
    assert [p.name for p in dumps_dir(mini_settings).iterdir()] == ["khojaly.ttl"]


def test_an_unknown_dump_format_fails_before_any_work(mini_settings):
    from graph.errors import UnknownFormat

    with pytest.raises(UnknownFormat, match="docx"):
        build(mini_settings.replace(dump_formats=("nq", "docx")))
    assert not (mini_settings.store_path.parent / "builds").exists() or not any(
        (mini_settings.store_path.parent / "builds").iterdir())


def test_cli_build_dumps_option(mini_settings, runner):
    from graph.cli.main import main

    result = runner.invoke(main, ["build", "--dumps", "nq,jsonld"], obj=mini_settings)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dumps_dir(mini_settings).iterdir()) == [
        "khojaly.jsonld", "khojaly.nq"]
    result = runner.invoke(main, ["build", "--dumps", "pdf"], obj=mini_settings)
    assert result.exit_code == 2


def test_build_reports_its_stages_validation_named_for_the_benchmark(mini_settings):
    steps: list[str] = []
    build(mini_settings, steps.append)
    assert steps.index("validating shapes") < steps.index("integrity checks")
    assert steps.index("loading the store") < steps.index("validating shapes")
    assert steps.index("integrity checks") < steps.index("describing (VoID/DCAT)")
    assert steps[-1] == "swapping"


def test_void_counts_match_the_store(mini_settings):
    """The counts the parse made equal what the store holds (the VoID keeps its content)."""
    from graph.build.stats import totals, triples_per_graph

    report = build(mini_settings)
    store = open_store(mini_settings)
    void = mini_settings.base_iri + "graph/void"
    in_store = dict(triples_per_graph(store, mini_settings.base_iri))
    assert in_store == report.graphs  # the VoID graph included: it is served, so counted
    assert report.triples == sum(in_store.values())
    row = next(iter(store.query(
        "PREFIX void: <http://rdfs.org/ns/void#> SELECT * WHERE { GRAPH ?g { ?ds void:entities"
        " ?e ; void:distinctSubjects ?s ; void:distinctObjects ?o ; void:properties ?p } }")))
    scratch = __import__("pyoxigraph").Store()
    scratch.extend(q for q in store.quads_for_pattern(None, None, None, None)
                   if q.graph_name.value != void)
    t = totals(scratch, mini_settings.base_iri)
    assert (int(row["e"].value), int(row["s"].value), int(row["o"].value),
            int(row["p"].value)) == (t.entities, t.subjects, t.objects, t.properties)


def test_big_input_path_validates_in_the_store_and_reports_alike(mini_settings):
    """Above KG_PYSHACL_MAX_TRIPLES the data is not kept in Python: `kg validate` loads it into
    a temporary on-disk store and `kg build` validates its new store; both report what the
    in-memory path reports."""
    from graph.build.pipeline import check_inputs

    source = mini_settings.data_dir / "source" / "caliber-2026.ttl"
    edit(source, "kgo:counts concept:outcome-killed ;", "")
    small_parsed, small = check_inputs(mini_settings)
    big = mini_settings.replace(pyshacl_max_triples=0)
    big_parsed, large = check_inputs(big)
    assert small_parsed.in_memory and not big_parsed.in_memory
    assert not any(f.role == "data" and f.graph in big_parsed.quads for f in big_parsed.files)
    assert [str(p) for p in large.problems] == [str(p) for p in small.problems] != []
    with pytest.raises(ValidationFailed) as caught:
        build(big)
    assert [str(p) for p in caught.value.problems] == [str(p) for p in small.problems]
    assert not mini_settings.store_path.exists()
    assert not any((mini_settings.store_path.parent / "builds").iterdir())


def test_parsing_in_processes_reports_every_broken_file_with_its_position(mini_settings,
                                                                            monkeypatch):

    monkeypatch.setattr(inputs, "PARALLEL_MIN_BYTES", 0)
    edit(mini_settings.data_dir / "place" / "khojaly.ttl", "<> a", "<> a a")
    edit(mini_settings.data_dir / "dataset.ttl", "<dataset> a", "<dataset> a ?")
    with pytest.raises(DataError) as caught:
        build(mini_settings)
    problems = sorted(caught.value.problems, key=lambda p: p.file)
    assert [p.file for p in problems] == ["data/dataset.ttl", "data/place/khojaly.ttl"]
    assert all(p.line is not None and p.column is not None for p in problems)
    assert not any((mini_settings.store_path.parent / "builds").iterdir())
