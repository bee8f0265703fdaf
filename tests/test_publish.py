"""`kg publish`: Graph Store Protocol upload to a real Virtuoso, idempotent re-runs,
resuming after a kill, and a verification that fails loudly.

The session fixture `virtuoso` (tests/virtuoso.py) already holds the dataset; every test here
leaves it holding the whole dataset again, verified, so the remote-backend tests can share it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Triple, Variable

from graph.cli.main import main
from graph.errors import PublishMismatch, RemoteError
from graph.namespaces import graph_iri
from graph.remote.publish import GraphStore, chunks, plan, publish, read_state, verify
from graph.remote.store import RemoteStore
from graph.store import dataset_version, open_store

KG = str(Path(sys.executable).with_name("kg"))


def _b(label: str) -> BlankNode:
    return BlankNode(label)


def test_chunks_never_split_triples_linked_by_blank_nodes():
    p = NamedNode("http://ex/p")
    plain = [Triple(NamedNode(f"http://ex/s{i}"), p, Literal(i)) for i in range(7)]
    linked = [
        Triple(NamedNode("http://ex/a"), p, _b("e1")),
        Triple(_b("e1"), p, _b("s1")),
        Triple(_b("s1"), p, Literal("quote")),
        Triple(NamedNode("http://ex/c"), p, _b("e2")),
    ]
    out = list(chunks(linked[:2] + plain + linked[2:], 2))
    assert sorted(map(str, (t for c in out for t in c))) == sorted(map(str, linked + plain))
    for label in ("e1", "s1", "e2"):
        holding = [c for c in out if any(_b(label) in (t.subject, t.object) for t in c)]
        assert len(holding) == 1, f"blank node {label} split across requests"
    assert all(len(c) <= 3 for c in out)  # the 3-triple blank node group is the only oversize


def test_dry_run_sends_nothing_and_lists_every_graph(runner, built_settings, tmp_path):
    nobody = "http://127.0.0.1:9/gsp"  # nothing listens there: any request would fail
    result = runner.invoke(
        main, ["publish", "--to", nobody, "--dry-run", "--state", str(tmp_path / "s.json")],
        obj=built_settings,
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    graphs = list(open_store(built_settings).named_graphs())
    assert lines[0].split("\t") == ["graph", "triples", "requests", "action"]
    assert len(lines) == len(graphs) + 1
    assert all(line.endswith("\tsend") for line in lines[1:])
    assert lines[-1].startswith(graph_iri(built_settings.base_iri, "void") + "\t")  # VoID last


def _settings(built_settings, server, **changes):
    return built_settings.replace(
        publish_user="dba", publish_password=server.password, backend_url=server.sparql_url,
        **changes,
    )


def _remote(settings, server) -> RemoteStore:
    return RemoteStore(server.sparql_url, base_iri=settings.base_iri, graphs=[], timeout=60)


def _server_triples(settings, server) -> dict[str, int]:
    """Triples per graph of ours on the server."""
    rows = _remote(settings, server).query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        "FILTER(STRSTARTS(STR(?g), STR(?prefix))) } GROUP BY ?g",
        substitutions={Variable("prefix"): Literal(graph_iri(settings.base_iri, ""))},
    )
    return {r["g"].value: int(r["n"].value) for r in rows}


def _local_triples(settings) -> dict[str, int]:
    store = open_store(settings)
    return {p.iri: p.triples for p in plan(store, settings.base_iri, 10**9, set())}


@pytest.mark.server
def test_republish_replaces_and_never_duplicates(runner, built_settings, virtuoso, tmp_path):
    settings = _settings(built_settings, virtuoso)
    state = tmp_path / "state.json"
    args = ["publish", "--to", virtuoso.gsp_url, "--state", str(state)]
    first = runner.invoke(main, args, obj=settings)
    assert first.exit_code == 0, first.output
    assert "verified" in first.output
    again = runner.invoke(main, [*args, "--batch", "100"], obj=settings)  # new batching, same state
    assert again.exit_code == 0, again.output
    assert f"0 of {len(_local_triples(settings))} graphs sent" in again.output  # all done
    state.unlink()
    fresh = runner.invoke(main, [*args, "--batch", "100"], obj=settings)  # every graph again
    assert fresh.exit_code == 0, fresh.output
    assert _server_triples(settings, virtuoso) == _local_triples(settings)


@pytest.mark.server
def test_verification_fails_loudly_and_a_republish_repairs(built_settings, virtuoso, tmp_path):
    settings = _settings(built_settings, virtuoso)
    store = open_store(settings)
    gsp = GraphStore(virtuoso.gsp_url, "dba", virtuoso.password)
    victim = graph_iri(settings.base_iri, "place/baku")
    stale = graph_iri(settings.base_iri, "zz-renamed-source")
    gsp.send("POST", victim, b'<http://ex/intruder> <http://ex/p> "not ours" .\n')
    gsp.send("PUT", stale, b'<http://ex/old> <http://ex/p> "from an older version" .\n')
    plans = plan(store, settings.base_iri, 10**9, set())
    with pytest.raises(PublishMismatch) as err:
        verify(store, _remote(settings, virtuoso), settings.base_iri, plans)
    assert f"<{victim}>: triples" in str(err.value)
    assert err.value.exit_code == 1
    report = publish(settings, store, dataset_version(settings), gsp, _remote(settings, virtuoso),
                     tmp_path / "state.json")
    assert report.verified and report.deleted == [stale]
    assert _server_triples(settings, virtuoso) == _local_triples(settings)


@pytest.mark.server
def test_wrong_credentials_are_a_clear_error(runner, built_settings, virtuoso, tmp_path):
    settings = _settings(built_settings, virtuoso).replace(publish_password="wrong")
    result = runner.invoke(
        main, ["publish", "--to", virtuoso.gsp_url, "--state", str(tmp_path / "s.json")],
        obj=settings,
    )
    assert result.exit_code == 2
    assert "HTTP 401" in result.output
    with pytest.raises(RemoteError, match="401"):
        GraphStore(virtuoso.gsp_url, "dba", "wrong").send("PUT", "http://ex/g", b"")


@pytest.mark.server
def test_a_killed_publish_resumes_and_completes(built_settings, virtuoso, tmp_path):
    """Start from a server without our graphs, kill `kg publish` midway, run it again."""
    settings = _settings(built_settings, virtuoso)
    gsp = GraphStore(virtuoso.gsp_url, "dba", virtuoso.password)
    local = _local_triples(settings)
    for g in local:
        gsp.send("DELETE", g)
    assert _server_triples(settings, virtuoso) == {}
    state = tmp_path / "state.json"
    env = {
        **os.environ,
        "KG_STORE_PATH": str(settings.store_path),
        "KG_BASE_IRI": settings.base_iri,
        "KG_PUBLISH_USER": "dba",
        "KG_PUBLISH_PASSWORD": virtuoso.password,
        "KG_PUBLISH_BATCH_TRIPLES": "10",  # many small requests: there is a middle to kill in
    }
    args = [KG, "publish", "--to", virtuoso.gsp_url, "--sparql", virtuoso.sparql_url,
            "--state", str(state)]
    version = dataset_version(settings)
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(read_state(state, virtuoso.gsp_url, version)) < 3:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "kg publish made no progress"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(30)
        process.stdout.close()
        process.stderr.close()
    done = read_state(state, virtuoso.gsp_url, version)
    assert 3 <= len(done) < len(local), "the kill did not land midway"
    with pytest.raises(PublishMismatch):  # half a dataset is never reported as published
        verify(open_store(settings), _remote(settings, virtuoso), settings.base_iri,
               plan(open_store(settings), settings.base_iri, 10**9, set()))
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(local) - len(done)} of {len(local)} graphs sent" in resumed.stderr
    assert "verified" in resumed.stderr
    assert _server_triples(settings, virtuoso) == local
    assert read_state(state, virtuoso.gsp_url, version) == set(local)

