"""Literals the store would rewrite, found in a file's N-Quads text before it is loaded.

Oxigraph keeps every valid literal of a numeric, boolean or date/time datatype in canonical
form: "034" becomes "34", "1.50"^^xsd:decimal "1.5", "1"^^xsd:boolean "true", and every derived
integer type (xsd:positiveInteger, xsd:int, ...) becomes xsd:integer. The store, and the dumps
written from it, hold the canonical literal; the N-Quads dump is the parser's own text (the build
streams it while loading), so a non-canonical literal in data/ would make the six dumps disagree
and the served data differ from the file. The build refuses one, and says what to write instead.
Invalid literals ("1992-02-30"^^xsd:date) are kept as written by the store; the ill-typed-literal
integrity check reports those.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pyoxigraph import Literal, NamedNode, Quad, Store

XSD = "http://www.w3.org/2001/XMLSchema#"
#: an N-Triples literal with an XSD datatype; XSD lexical forms of the rewritten types never
#: hold a quote or a backslash, so a literal that does is a string type and left alone
_TYPED = re.compile(rb'"([^"\\]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#([A-Za-z]+)>')
#: forms already canonical, checked without the store (the common cases, cheaply)
_CANONICAL = {
    b"integer": re.compile(rb"-?(0|[1-9][0-9]*)"),
    b"decimal": re.compile(rb"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?"),
    b"date": re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}
_KEPT = {b"string", b"anyURI", b"normalizedString", b"token", b"language", b"gYear"}
_X = NamedNode("urn:x-canonical:x")


@lru_cache(maxsize=65536)
def stored_form(lexical: str, datatype: str) -> tuple[str, str]:
    """What the store keeps of "lexical"^^datatype: (lexical form, datatype IRI)."""
    store = Store()
    store.add(Quad(_X, _X, Literal(lexical, datatype=NamedNode(datatype))))
    (quad,) = store
    return quad.object.value, quad.object.datatype.value


def rewritten(text: bytes) -> list[tuple[str, str]]:
    """(literal as written, literal as the store keeps it) for each literal the store rewrites."""
    if XSD.encode() not in text:
        return []
    found = []
    for m in _TYPED.finditer(text):
        lexical, name = m.groups()
        if name in _KEPT:
            continue
        fast = _CANONICAL.get(name)
        if fast is not None and fast.fullmatch(lexical):
            continue
        lex, dt = lexical.decode(), XSD + name.decode()
        new_lex, new_dt = stored_form(lex, dt)
        if (new_lex, new_dt) != (lex, dt):
            found.append((f'"{lex}"^^xsd:{name.decode()}',
                          f'"{new_lex}"^^xsd:{new_dt.removeprefix(XSD)}'))
    return found
