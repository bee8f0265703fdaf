"""Oxigraph's verdict on SPARQL text, given in a child process of the differential test
(tests/test_query_reader.py): is it a valid query (or update), of which form, and does evaluating
it fail on a SERVICE call.

The text is run on an EMPTY in-memory store, so nothing but a SERVICE (or a LOAD) could reach
outside. When the endpoint's sandbox is there (`endpoint.sparql.sandbox.install("offline")`) the
child installs it before reading any text and cannot open a connection at all; the test then
asserts that its loopback listener was never contacted. Without it, the test only sends texts
whose every SERVICE IRI is that listener and no LOAD (see the test).

Protocol: one JSON object per line on stdin ({"text", "kind": "query"|"update", "base"}), one
answer per line on stdout ({"valid", "form", "error"}); the first line out says {"sandboxed"}.
"""

from __future__ import annotations

import json
import sys


def _sandbox() -> bool:
    try:
        from endpoint.sparql.sandbox import install
    except ImportError:
        return False
    install("offline")
    return True


def verdict(text: str, kind: str, base: str | None) -> dict:
    from pyoxigraph import QueryBoolean, QuerySolutions, Store

    store = Store()
    try:
        if kind == "update":
            store.update(text, base_iri=base)
            return {"valid": True, "form": "UPDATE", "error": None}
        result = store.query(text, base_iri=base)
    except SyntaxError as err:
        return {"valid": False, "form": None, "error": str(err)}
    except (OSError, RuntimeError, ValueError) as err:  # parsed, then failed evaluating
        return {"valid": True, "form": None, "error": str(err)}
    if isinstance(result, QueryBoolean):
        return {"valid": True, "form": "ASK", "error": None}
    form = "SELECT" if isinstance(result, QuerySolutions) else "GRAPH"  # CONSTRUCT or DESCRIBE
    try:
        list(result)
    except (OSError, RuntimeError, ValueError) as err:
        return {"valid": True, "form": form, "error": str(err)}
    return {"valid": True, "form": form, "error": None}


def main() -> None:
    print(json.dumps({"sandboxed": _sandbox()}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        print(json.dumps(verdict(job["text"], job["kind"], job.get("base"))), flush=True)


if __name__ == "__main__":
    main()
