"""Heavy never delays light, and slow clients cost nothing (the short version of `make stress`'s
isolation part, bench/isolation.py): against `kg serve` on 127.0.0.1, bounded counts.

Asserted: correctness and no time-out (every trivial query answers, none waits for a heavy one
to be stopped, none waits for a slow client), the slow connections are closed after the
documented timeouts, and the machine-wide heavy slots hold across processes and are freed when
their holder dies. The p99 target is `make stress`'s to report, not a test's.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bench import isolation, stress
from endpoint.sparql.lanes import HeavySlots

pytestmark = pytest.mark.server

QUERY_TIMEOUT = 4.0
CLIENT_TIMEOUT = 2.0  # KG_HEADER_TIMEOUT and KG_BODY_TIMEOUT of the server under test


@pytest.fixture(scope="module")
def server(built_settings, tmp_path_factory):
    log = tmp_path_factory.mktemp("lanes") / "server.log"
    with stress.serve(built_settings.store_path, log, workers=2, query_timeout=QUERY_TIMEOUT,
                      header_timeout=CLIENT_TIMEOUT, body_timeout=CLIENT_TIMEOUT,
                      heavy_slots=2) as srv:
        srv.log = log
        yield srv


def test_trivial_queries_answer_while_eight_heavy_ones_run(server):
    run = isolation.heavy_beside_light(server.port, heavy=8, light=48, timeout=QUERY_TIMEOUT * 4)
    log = server.log.read_text(errors="replace")[-2000:]
    assert run.light_ok == len(run.light) == 48, (run.light[:3], log)
    # none waited for a heavy query to be stopped (they run up to QUERY_TIMEOUT)
    slowest = max(t for _, _, t in run.light)
    assert slowest < QUERY_TIMEOUT / 2, f"a trivial query took {slowest:.2f} s beside heavy ones"
    assert run.heavy, "no heavy query came back"
    for status, body, _ in run.heavy:
        assert status == 503, (status, body[:300])
        assert b"KG_QUERY_TIMEOUT" in body
    assert any(b"KG_HEAVY_SLOTS" in body for _, body, _ in run.heavy), \
        "8 heavy queries on 2 slots: some must have found the heavy lane full"


def test_slow_connections_do_not_delay_trivial_queries_and_are_closed(server):
    count = 64
    run = isolation.slow_beside_light(server.port, count, probes=10,
                                      close_wait=CLIENT_TIMEOUT * 2 + 10, timeout=10)
    assert [status for status, _ in run.light] == [200] * 10
    slowest = max(seconds for _, seconds in run.light)
    assert slowest < 1.0, f"a trivial query took {slowest:.2f} s beside {count} slow clients"
    for kind in ("headers", "body"):
        assert len(run.closed[kind]) == count // 2, f"{kind}: not all closed by the server"
        assert min(run.closed[kind]) >= CLIENT_TIMEOUT * 0.9, (kind, run.closed[kind][:5])
    assert all(a.startswith(b"HTTP/1.1 408") for a in run.answers["body"]), run.answers["body"][:2]
    assert b"KG_BODY_TIMEOUT" in run.answers["body"][0]
    # and the server is fine afterwards
    status, body, _ = isolation.ask(server.port, "ASK {}", 10)
    assert status == 200 and b"true" in body


HOLDER = """
import sys, time
from pathlib import Path
from endpoint.sparql.lanes import HeavySlots
fd = HeavySlots(Path(sys.argv[1]), 2).acquire(time.monotonic() + 5)
print("held" if fd is not None else "none", flush=True)
sys.stdin.read()  # hold the slot until the test closes our stdin (or kills us)
"""


def test_heavy_slots_are_machine_wide_and_freed_when_their_holder_dies(tmp_path):
    holders = [subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                cwd=stress.ROOT) for _ in range(2)]
    try:
        assert [h.stdout.readline().strip() for h in holders] == ["held", "held"]
        slots = HeavySlots(tmp_path, 2)
        assert slots.acquire(time.monotonic() + 0.2) is None, "a third holder got a slot"
        holders[0].kill()
        holders[0].wait(10)
        fd = slots.acquire(time.monotonic() + 5)
        assert fd is not None, "the dead holder's slot was not freed"
        slots.release(fd)
    finally:
        for h in holders:
            h.kill()
            h.wait(10)
            h.stdin.close()
            h.stdout.close()
