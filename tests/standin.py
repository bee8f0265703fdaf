"""A stand-in for an external SPARQL endpoint: pyoxigraph behind a small WSGI app on 127.0.0.1.

The linking tests need a real HTTP server (our HTTP client and pyoxigraph's SERVICE client speak
HTTP), which can also misbehave on demand: answer 429 or 503 (with Retry-After) or stall past the
client's timeout for the next N requests. It records every request it gets, so tests can count
requests (batching) and read the User-Agent. Port 0: the OS picks a free port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FIXTURE = Path(__file__).parent / "fixtures" / "wikidata-standin.ttl"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Fault:
    """What to do instead of answering, for the next `count` requests."""

    status: int | None = None
    retry_after: str | None = None
    stall: float = 0.0
    count: int = 1


@dataclass
class Received:
    method: str
    query: str
    user_agent: str


@dataclass
class StandIn:
    store: Store
    url: str = ""
    received: list[Received] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, count: int = 1, retry_after: str | None = None) -> None:
        self.faults.append(Fault(status=status, retry_after=retry_after, count=count))

    def stall_next(self, seconds: float, count: int = 1) -> None:
        self.faults.append(Fault(stall=seconds, count=count))

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.faults.clear()

    def _take_fault(self) -> Fault | None:
        with self._lock:
            if not self.faults:
                return None
            fault = self.faults[0]
            fault.count -= 1
            if fault.count <= 0:
                self.faults.pop(0)
            return fault

    def wsgi(self, environ, start_response):  # noqa: ANN001 - WSGI signature
        request = Request(environ)
        query = request.values.get("query")
        if query is None and request.mimetype == "application/sparql-query":
            query = request.get_data(as_text=True)
        with self._lock:
            self.received.append(
                Received(request.method, query or "", request.headers.get("User-Agent", ""))
            )
        fault = self._take_fault()
        if fault is not None and fault.stall:
            time.sleep(fault.stall)
        if fault is not None and fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            response = Response("injected failure", status=fault.status, headers=headers)
            return response(environ, start_response)
        return self._answer(query)(environ, start_response)

    def _answer(self, query: str | None) -> Response:
        if not query:
            return Response("missing query", status=400)
        try:
            body, media_type = _evaluate(self.store, query)
        except SyntaxError as e:
            return Response(str(e), status=400)
        return Response(body, content_type=media_type)


def _evaluate(store: Store, query: str) -> tuple[bytes, str]:
    """Run and serialise in one frame: pyoxigraph results must be dropped by the thread that
    made them, so none may outlive this call (not even in a traceback)."""
    result = store.query(query)
    try:
        if isinstance(result, QuerySolutions | QueryBoolean):
            return result.serialize(format=QueryResultsFormat.JSON), (
                "application/sparql-results+json"
            )
        return result.serialize(format=RdfFormat.N_TRIPLES), "application/n-triples"
    finally:
        del result


def load_fixture(path: Path = FIXTURE) -> Store:
    store = Store()
    store.load(path=str(path), format=RdfFormat.TURTLE)
    return store


@contextmanager
def serve(store: Store | None = None) -> Iterator[StandIn]:
    """Run a stand-in on 127.0.0.1, port 0, in a daemon thread; shut it down afterwards."""
    standin = StandIn(store if store is not None else load_fixture())
    server = make_server(
        "127.0.0.1", 0, standin.wsgi, threaded=True, request_handler=_QuietHandler
    )
    standin.url = f"http://127.0.0.1:{server.server_port}/sparql"
    with running(server):
        yield standin


@contextmanager
def running(server) -> Iterator[None]:
    """Serve `server` (a socketserver-style server) in a daemon thread; shut it down after."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def silent_listener() -> Iterator[tuple[str, list[socket.socket]]]:
    """A SPARQL URL on 127.0.0.1 whose server accepts connections and never answers, and the
    connections it accepted (closed on exit): what a hung backend looks like to a client."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql", accepted
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        sock.close()
