"""The benchmark generator at a tiny size: deterministic, seeded, and its output builds.

No timing is asserted here (speed lives in bench/); this guards the data the benchmarks run on,
so a change of the ontology or the shapes that the generator no longer follows fails in CI
instead of silently turning every benchmark into a benchmark of a failing build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.build.pipeline import build
from graph.config import Settings
from graph.store import open_store

ROOT = Path(__file__).resolve().parent.parent
SIZE = 2500
CLAIMS_PER_SOURCE = 48  # bench.generate.CLAIMS_PER_SOURCE


def generate(out: Path, *extra: str) -> Path:
    nq = out.with_suffix(".nq")
    cmd = [sys.executable, "-m", "bench.generate", "--size", str(SIZE), "--out", str(out),
           "--nquads", str(nq), "--no-real-data", *extra]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=120)
    return nq


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("bench") / "data"
    return out, generate(out)


def test_generator_is_deterministic(generated, tmp_path):
    data, nq = generated
    again = tmp_path / "again"
    nq_again = generate(again)
    assert snapshot(again) == snapshot(data)
    assert nq_again.read_bytes() == nq.read_bytes()


def test_generator_is_seeded(generated, tmp_path):
    data, _ = generated
    other = tmp_path / "other"
    generate(other, "--seed", "7")
    assert snapshot(other).keys() == snapshot(data).keys()
    assert snapshot(other) != snapshot(data)


def test_generator_reaches_the_requested_size(generated):
    _, nq = generated
    quads = list(ox.parse(path=nq, format=ox.RdfFormat.N_QUADS))
    # the ontology is included; one unit more than needed at most
    assert SIZE <= len(quads) <= SIZE + 2000
    graphs = {q.graph_name.value for q in quads}
    assert "https://w3id.org/khojaly/graph/source/syn-000000" in graphs
    assert any(g.endswith("graph/ontology/khojaly") for g in graphs)


def test_generated_data_builds_and_validates(generated, tmp_path):
    data, nq = generated
    settings = Settings(data_dir=data, texts_dir=data / "texts", store_path=tmp_path / "store")
    report = build(settings)
    sources = len(list((data / "source").glob("*.ttl")))
    assert sources >= 1
    store = open_store(settings)
    claims = store.query(
        "SELECT (COUNT(?c) AS ?n) WHERE { ?c a <https://w3id.org/khojaly/ontology#FigureClaim> }",
        use_default_graph_as_union=True,
    )
    assert int(next(claims)["n"].value) == sources * CLAIMS_PER_SOURCE
    # every quote is in its source's text, as the integrity checks demand of real sources
    text = (data / "texts" / "syn-000000.txt").read_text(encoding="utf-8")
    quotes = store.query(
        "SELECT ?s ?q WHERE { ?c <https://w3id.org/khojaly/ontology#statedIn> ?s ; "
        "<https://w3id.org/khojaly/ontology#evidence>/<http://www.w3.org/ns/oa#hasSelector>/"
        "<http://www.w3.org/ns/oa#exact> ?q }",
        use_default_graph_as_union=True,
        substitutions={ox.Variable("s"): ox.NamedNode(
            "https://w3id.org/khojaly/id/source/syn-000000")},
    )
    found = [s["q"].value for s in quotes]
    # the claims' quotes, and the one sentence the places' and memorial's facts quote (7 facts)
    assert len(found) == CLAIMS_PER_SOURCE + 7 and all(q in text for q in found)
    # the build loads exactly what the N-Quads file (the bulk-load baseline's input) holds,
    # and its report counts the VoID graph it adds as well
    void = report.graphs[settings.base_iri + "graph/void"]
    assert report.triples - void == len(list(ox.parse(path=nq, format=ox.RdfFormat.N_QUADS)))
