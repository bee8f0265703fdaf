"""Uncached queries from many threads at once all answer: what a threaded server does all day.

Each text is unique (a numbered comment), so no cache answers and every request goes through the
whole path: reading the request, the query reader, negotiation, a query process. Eight threads of
one app, as a server worker's request threads would; every answer must be the 200 a lone client
gets. It runs in a child process: a parser broken by concurrent first use stays broken for the
process's lifetime, and must not take the other tests' app down with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

CHILD = """
import json, sys, threading
from collections import Counter
from pathlib import Path
from sparql_support import make_settings
from endpoint import create_app

app = create_app(make_settings(Path(sys.argv[1]), threads=8))
statuses, lock = Counter(), threading.Lock()

def client(t):
    c, mine = app.test_client(), Counter()
    for i in range(25):
        text = f"SELECT ?l WHERE {{ ?s ?p ?l }} LIMIT 1 # {t}-{i}"
        r = c.get("/sparql", query_string={"query": text},
                  headers={"Accept": "application/sparql-results+json"})
        mine[r.status_code] += 1
    with lock:
        statuses.update(mine)

threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
[t.start() for t in threads]
[t.join(120) for t in threads]
app.extensions["kg"].pool.close()
print(json.dumps(statuses))
"""


def test_eight_threads_of_unique_queries_all_answer_200(tmp_path):
    root = TESTS.parent
    env_path = f"{TESTS}:{root}"
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=root, timeout=240,
                          capture_output=True, text=True, env={"PYTHONPATH": env_path,
                                                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    statuses = json.loads(done.stdout.strip().splitlines()[-1])
    assert statuses == {"200": 200}
