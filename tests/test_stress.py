"""A short load run inside `make test`: concurrent clients, every answer checked.

The same code as `make stress` (bench/stress.py) with small bounds: 8 clients on keep-alive
connections against `kg serve` (gunicorn, the production config) on 127.0.0.1, a seeded random
mix of lookups, example queries, entity pages, CONSTRUCTs and dumps, at most 240 requests or 30 s.
Zero errors, and every answer equal to the in-process one.
"""

from __future__ import annotations

import pytest

from bench import stress

pytestmark = pytest.mark.server

CLIENTS = 8
MAX_REQUESTS = 240
SECONDS = 30.0


@pytest.fixture(scope="module")
def mix(built_settings):
    calls = stress.build_mix(built_settings)
    return calls, stress.expected_answers(built_settings, calls)


def test_the_mix_covers_every_kind(mix):
    calls, expected = mix
    kinds = {c.kind for c in calls}
    assert kinds == {"lookup", "example", "page", "construct", "dump"}
    # the expected answers are real answers, not empty ones
    assert all(expected[c] != ("status", 404) for c in calls)
    assert all(len(expected[c][1]) > 0 for c in calls if c.kind == "lookup")


def test_concurrent_clients_get_correct_answers_and_no_errors(mix, built_settings, tmp_path):
    calls, expected = mix
    with stress.serve(built_settings.store_path, tmp_path / "server.log", workers=2) as server:
        outcome = stress.run_load(server.port, calls, expected, CLIENTS, MAX_REQUESTS, SECONDS)
        assert server.proc.poll() is None, "the server died under load"
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert outcome.errors == [], f"{outcome.errors[:5]}\n--- server log ---\n{log[-3000:]}"
    assert outcome.wrong == [], outcome.wrong[:5]
    assert outcome.requests == MAX_REQUESTS or outcome.seconds >= SECONDS
    assert set(outcome.latencies) == {c.kind for c in calls}, "some kind was never requested"


def test_a_wrong_answer_is_detected(mix):
    """The comparison itself can fail: a changed row, a changed triple, a changed byte."""
    calls, expected = mix
    lookup = next(c for c in calls if c.kind == "lookup")
    body = b'{"head":{"vars":["label"]},"results":{"bindings":[{"label":{"type":"literal",' \
           b'"value":"not the label"}}]}}'
    assert stress.canonical(lookup, 200, body) != expected[lookup]
    construct = next(c for c in calls if c.kind == "construct")
    nt = b'<http://example.org/s> <http://example.org/p> "o" .\n'
    assert stress.canonical(construct, 200, nt) != expected[construct]
    dump = next(c for c in calls if c.kind == "dump")
    assert stress.canonical(dump, 200, expected[dump] + b" ") != expected[dump]
