"""The stage breakdown (bench/stages.py) still finds every stage it reports, on a tiny store.

No timing is asserted (speed lives in bench/): this fails when a function the breakdown wraps is
renamed or moved, which would otherwise drop its stage from the report without a word, or when
the requests it drives stop answering 200.
"""

from __future__ import annotations

from types import SimpleNamespace

from sparql_support import BASE, PLACE, build_store

from bench import stages

LOOKUP = {"cache key", "reading the request", "reader + policy", "negotiation", "headers",
          "hop: pool.run"}
CHEAP = {"cache key", "reading the query", "negotiation", "shape (the whitelist)",
         "size (counted in the store)", "whole path (ASGI layers to the last byte)"}
PAGE = {"cache key", "page: queries (engine, in this process)",
        "page: model (queries included)", "page: template", "page: JSON-LD"}


def test_every_stage_is_measured_and_every_request_answers(tmp_path):
    link = build_store(tmp_path)
    got = stages.in_process(SimpleNamespace(n=5, place=PLACE, base=BASE), link)
    lookup, page = got["lookup"], got["entity-page"]
    assert lookup["statuses"] == ["200"] and page["statuses"] == ["200"]
    assert LOOKUP <= set(lookup) and PAGE <= set(page)
    assert all(lookup[k] > 0 for k in LOOKUP) and all(page[k] > 0 for k in PAGE)
    assert got["engine: lookup"] > 0 and got["engine: describe"] > 0
    cheap = got["cheap path"]  # the path kg serve's workers take: taken every time, never declined
    assert cheap["statuses"] == [200] and cheap["declined"] == 0
    assert CHEAP <= set(cheap) and all(cheap[k] > 0 for k in CHEAP)


def test_the_server_commands_swap_only_the_app(monkeypatch):
    env = {"KG_PORT": "8123", "KG_WORKERS": "2", "KG_HOST": "127.0.0.1"}
    ours = stages.our_command("endpoint", env, access_log=False)
    noop = stages.our_command("noop", env, access_log=False)
    assert noop[:-1] == ours[:-1] and "bench.stage_apps:noop" in noop[-1]
    logged = stages.our_command("endpoint", env, access_log=True)
    assert any("access" in a for a in logged) != any("access" in a for a in ours)
