"""Content negotiation: the Accept header, over the one format registry (graph/formats.py).

`best_format(request, offered)` picks one of `offered` (pyoxigraph `QueryResultsFormat` /
`RdfFormat` values, or plain media-type strings such as "text/html") from the `format` parameter
if present, else from the Accept header through Werkzeug (q-values and specificity honoured; the
first offered format wins a tie and answers `*/*` or a missing header). Callers set `Vary: Accept`
on what they send back (`vary_accept`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from flask import Request, Response
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from graph.errors import UnknownFormat
from graph.formats import Format, accepted_types, format_by_name, media_type


def best_format(request: Request, offered: Sequence[Format]) -> Format:
    """The format to answer in; raise `UnknownFormat` (406) when none is acceptable."""
    requested = request.args.get("format")
    if requested is None and _has_form(request):
        requested = request.form.get("format")
    if requested:
        return format_by_name(requested, offered)
    wanted = request.headers.get("Accept", "")
    found = _best_for_accept(wanted, tuple(offered))
    if found is None:
        offers = ", ".join(media_type(f) for f in offered)
        raise UnknownFormat(f"cannot answer in any of Accept: {wanted!r}; available: {offers}")
    return found


@lru_cache(maxsize=512)
def _best_for_accept(accept: str, offered: tuple[Format, ...]) -> Format | None:
    """The choice for one raw Accept header: a pure function of it, so it is worked out once.

    Clients send a handful of distinct headers, and parsing one with its q-values costs more
    than a cached lookup answered whole; the bound keeps headers made up per request harmless.
    """
    accepted = parse_accept_header(accept, MIMEAccept)
    if not accepted:
        return offered[0]
    candidates: list[str] = []
    owner: dict[str, Format] = {}
    for fmt in offered:
        for mt in accepted_types(fmt):
            if mt not in owner:
                owner[mt] = fmt
                candidates.append(mt)
    match = accepted.best_match(candidates)
    return None if match is None else owner[match]


def format_for_accept(accept: str, offered: Sequence[Format]) -> Format | None:
    """The format for a raw Accept header (None: none acceptable), as `best_format` picks it
    when there is no `format` parameter: for callers that have no Flask request."""
    return _best_for_accept(accept, tuple(offered))


def vary_accept(response: Response) -> Response:
    response.vary.add("Accept")
    return response


def _has_form(request: Request) -> bool:
    return request.mimetype == "application/x-www-form-urlencoded"
