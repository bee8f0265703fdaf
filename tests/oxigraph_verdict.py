"""Oxigraph's verdict on SPARQL text, given in a child process of the differential test
(tests/test_query_reader.py): is it a valid query (or update), of which form, and did evaluating
it try to open a connection.

The text is run on an EMPTY in-memory store, so nothing but a SERVICE (or a LOAD) could reach
outside. Started as `oxigraph_verdict.py offline`, the child installs the endpoint's sandbox
(`endpoint.sparql.sandbox.install("offline")`) before it reads any text and cannot open a
connection at all: an evaluation that tries fails with PermissionError ("denied"). Started as
`oxigraph_verdict.py loopback`, it has no sandbox, and the test sends it only texts whose every
SERVICE IRI is the test's loopback listener and no LOAD: the listener then records exactly what
Oxigraph calls.

Protocol: one JSON object per line on stdin ({"text", "kind": "query"|"update", "base"}), one
answer per line on stdout ({"valid", "form", "error", "denied"}); the first line out says
{"sandboxed"}.
"""

from __future__ import annotations

import json
import sys


def _sandbox(profile: str) -> bool:
    if profile != "offline":
        return False
    try:
        from endpoint.sparql.sandbox import install
    except ImportError:  # not built yet: the test then keeps LOAD away from this child
        return False
    install("offline")
    return True


def verdict(text: str, kind: str, base: str | None) -> dict:
    from pyoxigraph import QueryBoolean, QuerySolutions, Store

    store = Store()
    try:
        if kind == "update":
            store.update(text, base_iri=base)
            return _answer(True, "UPDATE")
        result = store.query(text, base_iri=base)
    except SyntaxError as err:
        return _answer(False, None, err)
    except (OSError, RuntimeError, ValueError) as err:  # parsed, then failed evaluating
        return _answer(True, "UPDATE" if kind == "update" else None, err)
    if isinstance(result, QueryBoolean):
        return _answer(True, "ASK")
    form = "SELECT" if isinstance(result, QuerySolutions) else "GRAPH"  # CONSTRUCT or DESCRIBE
    try:
        list(result)
    except (OSError, RuntimeError, ValueError) as err:
        return _answer(True, form, err)
    return _answer(True, form)


def _answer(valid: bool, form: str | None, err: Exception | None = None) -> dict:
    denied = isinstance(err, PermissionError)  # the sandbox refused a socket
    return {"valid": valid, "form": form, "error": err and str(err), "denied": denied}


def main() -> None:
    print(json.dumps({"sandboxed": _sandbox(sys.argv[1])}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        print(json.dumps(verdict(job["text"], job["kind"], job.get("base"))), flush=True)


if __name__ == "__main__":
    main()
