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
_MARK = b'"^^<' + XSD.encode()  # a typed literal's closing quote and its XSD datatype
#: every XSD-typed literal, found by its closing quote and datatype (a literal prefix, so the
#: scan runs at memchr speed and Python sees only the typed literals)
_TYPED = re.compile(re.escape(_MARK) + rb"([A-Za-z]+)>")
#: types the store keeps as written (strings: their lexical form is the value)
_KEPT = {b"string", b"anyURI", b"normalizedString", b"token", b"language"}
#: canonical lexical forms of the commonest types, told without the store
_CANONICAL = {
    b"integer": re.compile(rb"0|-?[1-9][0-9]*"),
    b"decimal": re.compile(rb"0|-?[1-9][0-9]*|-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]"),
    b"date": re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}Z?"),
}
_X = NamedNode("urn:x-canonical:x")


@lru_cache(maxsize=65536)
def stored_form(lexical: str, datatype: str) -> tuple[str, str]:
    """What the store keeps of "lexical"^^datatype: (lexical form, datatype IRI)."""
    store = Store()
    store.add(Quad(_X, _X, Literal(lexical, datatype=NamedNode(datatype))))
    (quad,) = store
    return quad.object.value, quad.object.datatype.value


def canonicalise(text: bytes) -> bytes:
    """N-Triples/N-Quads text with every XSD literal in the form the store keeps.

    The lexical forms the store rewrites never hold a quote, a backslash or a line break, and an
    N-Quads line holds one literal at most, so the opening quote is the last one before the
    closing quote on the line.
    """
    if _MARK not in text:
        return text
    out, done = [], 0
    for m in _TYPED.finditer(text):
        name = m.group(1)
        if name in _KEPT:
            continue
        close = m.start()
        open_ = text.rfind(b'"', done, close)
        lexical = text[open_ + 1 : close]
        fast = _CANONICAL.get(name)
        if open_ < 0 or (fast is not None and fast.fullmatch(lexical)):
            continue
        if b"\\" in lexical or b"\n" in lexical:
            continue  # not a form the store rewrites (and not one literal)
        lex, dt = stored_form(lexical.decode(), XSD + name.decode())
        if (lex, dt) != (lexical.decode(), XSD + name.decode()):
            out += [text[done:open_], f'"{lex}"^^<{dt}>'.encode()]
            done = m.end()
    return b"".join([*out, text[done:]]) if out else text
