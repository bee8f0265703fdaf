"""A request body must arrive within KG_BODY_TIMEOUT seconds, or the request ends with a 408.

granian bounds the time a client may take to send its headers (`--http1-header-read-timeout`),
not its body. Under its WSGI interface a body is read from `wsgi.input` by the request's thread,
which blocks inside granian until the bytes come, and nothing can end that read: a client that
announces `Content-Length: 100` and sends 10 holds a thread and its connection for as long as
it likes (measured: docs/decisions/0007-http-server.md).

So the app is served through granian's ASGI interface, and this middleware reads the whole body
in the event loop first, where waiting costs no thread and a deadline can cancel the read.
Past the deadline the client gets 408 with `Connection: close` and the server closes the
connection. A body read in time is handed on as one message, so the WSGI app behind
(a2wsgi's adapter) reads it from memory. Reading stops past `max_bytes`: the app refuses the
request with its own 413 from what it got.
"""

from __future__ import annotations

import asyncio


class BodyDeadline:
    """ASGI middleware: the body of an HTTP request within `timeout` seconds."""

    def __init__(self, app, timeout: float, max_bytes: int):
        self.app = app
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            body = await asyncio.wait_for(self._read(receive), self.timeout)
        except TimeoutError:
            return await _request_timeout(send, self.timeout)
        if body is None:  # the client went away before its body was in
            return None
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # only a disconnect can come now
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    async def _read(self, receive) -> bytes | None:
        parts, size, more = [], 0, True
        while more and size <= self.max_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            parts.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        return b"".join(parts)


async def _request_timeout(send, timeout: float) -> None:
    body = (f"request body not received within {timeout:g} s (KG_BODY_TIMEOUT); "
            "the connection is closed\n").encode()
    await send({"type": "http.response.start", "status": 408, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
