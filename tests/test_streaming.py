"""A huge result streams through the production server with bounded memory.

A 1M-row SELECT (a cross product of two VALUES blocks: no store needed, ~186 MB of JSON) is read
over HTTP from `kg serve` while the RSS of the whole server process tree is sampled. Were any
process to hold the result (the worker before answering, the gunicorn worker before sending),
the tree would grow by about the body's size; streamed, it grows by a few chunk buffers.
No timing is asserted: bytes received, rows counted and memory growth.
"""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlencode

import pytest

from bench import stress

pytestmark = pytest.mark.server



def cross(a: int, b: int) -> str:
    """a x b solutions of ?v0 ?v1 without touching the store."""
    return "SELECT * WHERE { " + " ".join(
        f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(size))} }}"
        for i, size in enumerate((a, b))) + " }"


ROWS = 1000
QUERY = cross(ROWS, ROWS)
WARM = cross(ROWS, 4)  # the same shape, streamed too (~700 KB): spawns the query workers
JSON = "application/sparql-results+json"
GROWTH_CAP_MIB = 64  # the target for streaming a 1M-row result


@pytest.fixture(scope="module")
def server(built_settings, tmp_path_factory):
    log = tmp_path_factory.mktemp("streaming") / "server.log"
    with stress.serve(built_settings.store_path, log, workers=1, threads=2,
                      query_timeout=120) as srv:
        srv.log = log
        yield srv


def stream(port: int, query: str, on_chunk=lambda: None) -> tuple[int, dict, int, int]:
    """GET `query` as JSON; (status, headers by lower-case name, bytes received, solutions)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/sparql?" + urlencode({"query": query}), headers={"Accept": JSON})
        resp = conn.getresponse()
        received = solutions = 0
        tail = b""
        marker = b'"v1":'  # once per solution; counted across chunk boundaries
        while chunk := resp.read(256 * 1024):
            received += len(chunk)
            window = tail + chunk
            solutions += window.count(marker)
            tail = window[-(len(marker) - 1):]
            on_chunk()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, received, solutions
    finally:
        conn.close()


def test_a_million_rows_stream_with_bounded_server_memory(server):
    for _ in range(2):
        status, _, _, solutions = stream(server.port, WARM)
        assert status == 200 and solutions == ROWS * 4
    baseline = server.rss_mib()
    peak = [baseline]
    lock = threading.Lock()

    def sample() -> None:
        with lock:
            peak[0] = max(peak[0], server.rss_mib())

    samples = [0]

    def every_chunk() -> None:
        samples[0] += 1
        if samples[0] % 16 == 0:  # every 4 MiB read
            sample()

    status, headers, received, solutions = stream(server.port, QUERY, every_chunk)
    log = server.log.read_text(errors="replace")[-2000:]
    assert status == 200, log
    assert headers.get("transfer-encoding") == "chunked"
    assert solutions == ROWS * ROWS, (solutions, log)
    assert received > 150 * 1024 * 1024  # the result really was far bigger than the cap
    growth = peak[0] - baseline
    assert growth <= GROWTH_CAP_MIB, f"the server tree grew by {growth:.0f} MiB while streaming"
