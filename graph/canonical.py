"""Literals written as the store keeps them, in a file's N-Quads text before it is loaded.

Oxigraph keeps every valid literal of a numeric, boolean or date/time datatype in canonical
form: "034" becomes "34", "40.10"^^xsd:decimal "40.1", "1"^^xsd:boolean "true", and every
derived integer type (xsd:positiveInteger, xsd:int, ...) becomes xsd:integer. The store, and the
dumps written from it, hold the canonical literal; the N-Quads dump is the parser's own text
(the build streams it while loading, and `Parsed` keeps it for validation), so that text is put
in the same form first: then the six dumps are the same graph, and what is validated is what is
served. Invalid literals ("1992-02-30"^^xsd:date) are kept as written, as the store keeps them;
the ill-typed-literal integrity check reports those.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pyoxigraph import Literal, NamedNode, Quad, Store

XSD = "http://www.w3.org/2001/XMLSchema#"
#: an N-Triples literal with an XSD datatype; the lexical forms the store rewrites never hold a
#: quote or a backslash, so a literal that does is of a string type and is left alone
_TYPED = re.compile(rb'"([^"\\]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#([A-Za-z]+)>')
#: forms already canonical, told without the store (the common cases, cheaply)
_CANONICAL = {
    b"integer": re.compile(rb"-?(0|[1-9][0-9]*)"),
    b"decimal": re.compile(rb"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?"),
    b"date": re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}
_KEPT = {b"string", b"anyURI", b"normalizedString", b"token", b"language"}
_X = NamedNode("urn:x-canonical:x")


@lru_cache(maxsize=65536)
def stored_form(lexical: str, datatype: str) -> tuple[str, str]:
    """What the store keeps of "lexical"^^datatype: (lexical form, datatype IRI)."""
    store = Store()
    store.add(Quad(_X, _X, Literal(lexical, datatype=NamedNode(datatype))))
    (quad,) = store
    return quad.object.value, quad.object.datatype.value


def _canonical(m: re.Match[bytes]) -> bytes:
    lexical, name = m.groups()
    if name in _KEPT:
        return m.group(0)
    fast = _CANONICAL.get(name)
    if fast is not None and fast.fullmatch(lexical):
        return m.group(0)
    lex, dt = stored_form(lexical.decode(), XSD + name.decode())
    return f'"{lex}"^^<{dt}>'.encode()


def canonicalise(text: bytes) -> bytes:
    """N-Triples/N-Quads text with every XSD literal in the form the store keeps."""
    if XSD.encode() not in text:
        return text
    return _TYPED.sub(_canonical, text)
