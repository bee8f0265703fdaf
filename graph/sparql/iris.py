"""IRIs as the engine reads them: relative references resolved against a base, local names of
prefixed names unescaped (SPARQL 1.1 §4.1.1, RFC 3987 §6.5).

Resolution is Oxigraph's own (a one-triple Turtle document parsed with the base), so an IRI the
reader compares with the SERVICE allow-list is the IRI the engine would call.
"""

from __future__ import annotations

import re

from pyoxigraph import RdfFormat, parse

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_LOCAL_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")


def resolve(iri: str, base: str | None) -> str | None:
    """The absolute form of `iri`; None when it is relative and there is no usable base."""
    if _SCHEME.match(iri):
        return iri
    if not base:
        return None
    try:
        quad = next(iter(parse(f"<{iri}> <urn:p> <urn:o> .", RdfFormat.TURTLE, base_iri=base)))
    except (SyntaxError, ValueError, StopIteration):
        return None
    return quad.subject.value


def unescape_local(local: str) -> str:
    """`ex:a\\.b` names ex:a.b; percent-encodings stay as written (they are part of the IRI)."""
    return _LOCAL_ESCAPE.sub(r"\1", local)
